"""Hugging Face export: every objective writes the matching HF task model + tokenizer, loadable offline.

    bertlab-export outputs/mlm_shakespeare/runs/<run>               # best checkpoint → <run>/hf
    bertlab-export <run> --checkpoint <run>/checkpoints/last.ckpt --out exported/

An objective declares its HF models with ``hf_models() -> {subdir: PreTrainedModel}`` (``""`` is the
directory itself); building them is a rename of our parameters (``models/heads.py`` mirrors HF names). The
directory also loads as a plain encoder: ``AutoModel.from_pretrained(dir)`` or ``model=pretrained
model.path=<dir>`` to fine-tune from it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import torch
from omegaconf import OmegaConf, open_dict
from torch import nn
from transformers import PreTrainedModel

# Where each architecture's HF masked-LM model keeps our MaskedLMHead (prefix, and whether "transform." nests).
_MLM_HEAD = {
    "bert": ("cls.predictions.", "transform."),
    "albert": ("predictions.", ""),
    "roberta": ("lm_head.", ""),
    "electra": ("generator_predictions.", ""),
}


def load_encoder(task_model: PreTrainedModel, encoder: nn.Module) -> None:
    """Copy our encoder's weights into the task model's base model (``bert.``, ``albert.``, ...)."""
    missing, unexpected = task_model.base_model.load_state_dict(encoder.state_dict(), strict=False)
    if unexpected or any("pooler" not in k for k in missing):
        raise RuntimeError(f"encoder does not match {type(task_model).__name__}: {missing=} {unexpected=}")


def mlm_head_state(model_type: str, head: nn.Module) -> dict[str, torch.Tensor]:
    """Our ``MaskedLMHead`` state renamed to the HF masked-LM head of ``model_type``."""
    prefix, transform = _MLM_HEAD[model_type]
    state = {}
    for name, tensor in head.state_dict().items():
        if name == "bias":
            key = f"{prefix}bias" if model_type != "electra" else "generator_lm_head.bias"
        else:
            inner = name.removeprefix("transform.")
            if model_type == "roberta":
                inner = inner.replace("LayerNorm", "layer_norm")
            key = f"{prefix}{transform}{inner}"
        state[key] = tensor
    return state


def load_renamed(task_model: PreTrainedModel, state: dict[str, torch.Tensor]) -> None:
    """Load head tensors by their HF names; every name must exist in the task model."""
    unknown = sorted(set(state) - set(task_model.state_dict()))
    if unknown:
        raise RuntimeError(f"{type(task_model).__name__} has no parameters named {unknown}")
    task_model.load_state_dict(state, strict=False)
    task_model.tie_weights()


def export_pretrained(module: nn.Module, tokenizer, out_dir: str | Path) -> Path:
    """Write ``module.hf_models()`` and the tokenizer into ``out_dir`` atomically (temp dir, then rename)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    try:
        for subdir, model in module.hf_models().items():
            model.save_pretrained(str(tmp / subdir))
            tokenizer.save_pretrained(str(tmp / subdir))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def export_run(
    run_dir: str | Path, checkpoint: str | Path | None = None, out: str | Path | None = None
) -> Path:
    """Rebuild a run's module from its saved config and tokenizer, load a checkpoint, export it."""
    from bertlab.train import build

    run_dir = Path(run_dir)
    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    with open_dict(cfg):
        cfg.tokenizer = {
            "_target_": "bertlab.tokenization.PretrainedTokenizer",
            "name_or_path": str(run_dir / "tokenizer"),
        }
        cfg.paths.output_dir = str(run_dir)
    datamodule, module = build(cfg)
    checkpoint = Path(checkpoint) if checkpoint else _best_checkpoint(run_dir)
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    module.load_state_dict(state)
    return export_pretrained(module, datamodule.tokenizer, out or run_dir / "hf")


def _best_checkpoint(run_dir: Path) -> Path:
    candidates = sorted(p for p in (run_dir / "checkpoints").glob("*.ckpt") if p.name != "last.ckpt")
    if not candidates:
        last = run_dir / "checkpoints" / "last.ckpt"
        if last.is_file():
            return last
        raise FileNotFoundError(f"no checkpoint in {run_dir / 'checkpoints'}")
    return candidates[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description="Export a bertlab run in Hugging Face format.")
    parser.add_argument(
        "run_dir", help="the run's output directory (holds .hydra/, checkpoints/, tokenizer/)"
    )
    parser.add_argument("--checkpoint", help="checkpoint file (default: the best one, else last.ckpt)")
    parser.add_argument("--out", help="output directory (default: <run_dir>/hf)")
    args = parser.parse_args()
    print(export_run(args.run_dir, args.checkpoint, args.out))


if __name__ == "__main__":
    main()
