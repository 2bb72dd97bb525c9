"""Layer equilibrium: how far each layer moves its input (Lan et al. 2020, "ALBERT", §4.5 and Fig. 1;
source chapter §4.5.2, Fig. 10).

For every layer application, the mean over non-pad tokens of the L2 distance and of the cosine similarity
between the layer's input and output embeddings. With cross-layer sharing (ALBERT) the paper finds the
transitions smoother than BERT's and oscillating rather than converging to 0 (no exact equilibrium).

    bertlab-equilibrium                                   # albert_mini vs bert_mini, random initialisation
    bertlab-equilibrium shared_ckpt=<albert .ckpt> unshared_ckpt=<bert .ckpt>   # trained, e.g. from
        experiment=albert_sop_shakespeare and mlm_nsp_shakespeare (same tokenizer)
    bertlab-equilibrium model@shared=pretrained shared.path=<HF dir> text_file=sample.txt

Writes ``equilibrium.csv`` (model, layer, l2_distance, cosine_similarity) and ``equilibrium.png``.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn

from bertlab import atomic
from bertlab.config import config_dir, register_schemas

SAMPLE_TEXT = [
    "To be, or not to be, that is the question:",
    "Whether 'tis nobler in the mind to suffer the slings and arrows of outrageous fortune,",
    "Or to take arms against a sea of troubles, and by opposing end them.",
    "All the world's a stage, and all the men and women merely players;",
    "They have their exits and their entrances, and one man in his time plays many parts.",
    "Now is the winter of our discontent made glorious summer by this sun of York.",
    "The quality of mercy is not strained; it droppeth as the gentle rain from heaven.",
    "If music be the food of love, play on; give me excess of it.",
]
COLUMNS = ("model", "layer", "l2_distance", "cosine_similarity")


def _layer_classes(model: nn.Module) -> tuple[type, ...]:
    """The per-layer block class(es) transformers records hidden states from (BertLayer, AlbertLayer, ...)."""
    recorded = getattr(model, "_can_record_outputs", {}).get("hidden_states")
    if recorded is None:
        raise ValueError(f"{type(model).__name__}: unknown layer class; cannot trace per-layer hidden states")
    return recorded if isinstance(recorded, tuple) else (recorded,)


def layer_transitions(
    model: nn.Module, batch: dict[str, torch.Tensor]
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(input, output) hidden states (B, T, H) of every layer *application*, in order.

    A shared ALBERT layer applied 12 times yields 12 pairs, because the hooks fire per call.
    """
    calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def hook(module, args, kwargs, output):
        hidden_in = args[0] if args else kwargs["hidden_states"]
        hidden_out = output[0] if isinstance(output, tuple) else output
        calls.append((hidden_in.detach(), hidden_out.detach()))

    classes = _layer_classes(model)
    handles = [
        m.register_forward_hook(hook, with_kwargs=True) for m in model.modules() if isinstance(m, classes)
    ]
    try:
        with torch.no_grad():
            model(**batch)
    finally:
        for handle in handles:
            handle.remove()
    return calls


def transition_metrics(
    transitions: list[tuple[torch.Tensor, torch.Tensor]], token_mask: torch.Tensor
) -> list[dict[str, float]]:
    """Per layer: mean over tokens where ``token_mask`` (B, T) of ||out - in||₂ and cos(in, out)."""
    rows = []
    for layer, (hidden_in, hidden_out) in enumerate(transitions, start=1):
        x, y = hidden_in[token_mask].float(), hidden_out[token_mask].float()  # (N, H)
        rows.append(
            {
                "layer": layer,
                "l2_distance": float(torch.linalg.vector_norm(y - x, dim=-1).mean()),
                "cosine_similarity": float(nn.functional.cosine_similarity(x, y, dim=-1).mean()),
            }
        )
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    """Write atomically (bertlab.atomic)."""
    with atomic.atomic_file(path, "w", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def plot(rows: list[dict], path: Path) -> None:
    """Two panels (L2 distance, cosine similarity) against the layer, one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == name]
        for ax, key in zip(axes, ("l2_distance", "cosine_similarity"), strict=True):
            ax.plot([r["layer"] for r in mine], [r[key] for r in mine], marker="o", label=name)
    for ax, title in zip(axes, ("L2 distance (input → output)", "cosine similarity"), strict=True):
        ax.set_xlabel("layer")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    with atomic.atomic_file(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)


def load_encoder_weights(encoder: nn.Module, ckpt_path: str) -> None:
    """Load the ``encoder.*`` weights of a bertlab Lightning checkpoint (weights only)."""
    state = torch.load(ckpt_path, map_location="cpu", weights_only=True)["state_dict"]
    weights = {k.removeprefix("encoder."): v for k, v in state.items() if k.startswith("encoder.")}
    if not weights:
        raise ValueError(f"{ckpt_path}: no encoder.* weights in the checkpoint's state_dict")
    encoder.load_state_dict(weights)


def run(cfg: DictConfig) -> list[dict]:
    """Both encoders over the sample text → rows; writes CSV and PNG under ``cfg.output_dir``."""
    torch.manual_seed(cfg.seed)
    tokenizer = instantiate(cfg.tokenizer).build()
    lines = Path(cfg.text_file).read_text().splitlines() if cfg.text_file else SAMPLE_TEXT
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise ValueError(f"text_file={cfg.text_file}: no non-empty lines")
    batch = dict(
        tokenizer(lines, padding=True, truncation=True, max_length=cfg.max_length, return_tensors="pt")
    )
    rows = []
    for role in ("shared", "unshared"):
        encoder = instantiate(cfg[role]).build(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
        if cfg[f"{role}_ckpt"]:
            load_encoder_weights(encoder, cfg[f"{role}_ckpt"])
        encoder.eval()
        name = f"{role} ({encoder.config.model_type})"
        transitions = layer_transitions(encoder, batch)
        rows += [
            {"model": name, **r} for r in transition_metrics(transitions, batch["attention_mask"].bool())
        ]
    out = Path(cfg.output_dir)
    write_csv(rows, out / "equilibrium.csv")
    plot(rows, out / "equilibrium.png")
    return rows


def main(argv: list[str] | None = None) -> None:
    overrides = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in overrides):
        print(__doc__)
        return
    register_schemas()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("equilibrium", overrides=overrides)
    rows = run(cfg)
    for r in rows:
        print(
            f"{r['model']:20s} layer {r['layer']:2d}  L2 {r['l2_distance']:8.3f}  cos {r['cosine_similarity']:.4f}"
        )
    print(f"wrote {Path(cfg.output_dir) / 'equilibrium.csv'} and equilibrium.png")


if __name__ == "__main__":
    main()
