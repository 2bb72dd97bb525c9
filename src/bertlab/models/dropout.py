"""Dropout with a cheaper mask on CPU, for every ``nn.Dropout`` of an encoder and for its attention probabilities.

``torch.bernoulli_`` draws one Mersenne-Twister number per element and is, after the matmuls, the most
expensive operation of a small BERT's training step on CPU (about 10 ms per 2 M elements on this project's
2-core machine, 13 calls per ``bert_mini`` step). Here each element takes 16 bits of a 64-bit
``torch.randint`` draw instead: an element is kept when its 16-bit lane is below ``keep = round((1 - p) · 2¹⁶)``,
so it is kept with probability ``keep / 2¹⁶`` (0.899994 for p = 0.1) and kept values are scaled by ``2¹⁶ / keep``,
which makes the layer exactly unbiased. The draws come from torch's default generator, so runs stay
reproducible under a seed and resumable with the generator state.

:func:`use_fast_dropout` swaps an encoder's ``nn.Dropout`` modules for :class:`FastDropout` and, for SDPA
models, its attention for ``bertlab_sdpa``: the SDPA kernel when attention dropout is off (evaluation), the
same maths as SDPA's reference path with this mask when it is on.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers import AttentionInterface, PreTrainedModel
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface

LANES = 2**16
ATTENTION = "bertlab_sdpa"


def keep_mask(
    shape: torch.Size | tuple[int, ...], p: float, device: torch.device | None = None
) -> torch.Tensor:
    """Boolean mask of ``shape``, each element True with probability ``round((1 - p) · 2¹⁶) / 2¹⁶``."""
    keep = round((1.0 - p) * LANES)
    if keep >= LANES:  # p < 2⁻¹⁷: nothing is dropped (and the threshold would not fit in 16 bits)
        return torch.ones(shape, dtype=torch.bool, device=device)
    n = math.prod(shape)
    words = torch.randint(-(2**63), 2**63 - 1, ((n + 3) // 4,), dtype=torch.int64, device=device)
    lanes = words.view(torch.int16)[:n]  # four uniform 16-bit lanes per draw
    return (lanes < keep - LANES // 2).view(shape)


def fast_dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """``nn.functional.dropout`` with :func:`keep_mask`: zero each element with probability ~p, scale the rest."""
    keep = round((1.0 - p) * LANES)
    if not training or keep >= LANES:
        return x
    if keep <= 0:
        return torch.zeros_like(x)
    return x.masked_fill(~keep_mask(x.shape, p, x.device), 0.0) * (LANES / keep)


class FastDropout(nn.Dropout):
    """``nn.Dropout`` with the cheaper mask (same ``p``, no parameters, same state dict)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fast_dropout(x, self.p, self.training)


def sdpa_attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """Transformers' SDPA attention, with the cheaper dropout mask when attention dropout is on.

    Shapes as in ``sdpa_attention_forward``: query (B, heads, T, d), key/value (B, heads, S, d); the mask is
    boolean (True = attend) or additive; returns (B, T, heads, d).
    """
    grouped = key.shape[1] != query.shape[1]
    if dropout == 0.0 or grouped or kwargs.get("head_mask") is not None:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, is_causal=is_causal,
            **kwargs,
        )  # fmt: skip
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    scores = torch.matmul(query, key.transpose(-1, -2)) * scale  # (B, heads, T, S)
    causal = is_causal if is_causal is not None else getattr(module, "is_causal", False)
    if attention_mask is None and causal and query.shape[2] > 1:
        t, s = query.shape[2], key.shape[2]
        attention_mask = torch.ones(t, s, dtype=torch.bool, device=query.device).tril(s - t)
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(value.dtype)
    output = torch.matmul(fast_dropout(probs, dropout), value)
    return output.transpose(1, 2).contiguous(), None


def register() -> None:
    """Make ``attn_implementation="bertlab_sdpa"`` known to transformers (attention and mask builders)."""
    AttentionInterface.register(ATTENTION, sdpa_attention)
    AttentionMaskInterface.register(ATTENTION, ALL_MASK_ATTENTION_FUNCTIONS["sdpa"])


# At import: a model unpickled in another process (DDP spawn, dataloader workers) imports this module through
# its FastDropout layers, and finds its attention implementation registered.
register()


def use_fast_dropout(model: PreTrainedModel) -> PreTrainedModel:
    """In place: :class:`FastDropout` for every ``nn.Dropout``, ``bertlab_sdpa`` attention for SDPA models."""
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            if type(child) is nn.Dropout:
                setattr(parent, name, FastDropout(child.p, child.inplace))
    if getattr(model.config, "_attn_implementation", None) == "sdpa":
        model.set_attn_implementation(ATTENTION)
    return model
