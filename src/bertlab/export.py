"""Hugging Face export: every objective writes the matching HF task model + tokenizer, loadable offline.

    bertlab-export outputs/mlm_shakespeare/runs/<run>               # best checkpoint → <run>/hf
    bertlab-export <run> --checkpoint <run>/checkpoints/last.ckpt --out exported/

An objective declares its HF models with ``hf_models() -> {subdir: PreTrainedModel}`` (``""`` is the
directory itself); building them is a rename of our parameters (``models/hf_names.py`` holds the HF names). The
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

from bertlab.model_card import push_to_hub, write_model_card
from bertlab.resume import find_checkpoint


def export_pretrained(
    module: nn.Module, tokenizer, out_dir: str | Path, run_dir: str | Path | None = None
) -> Path:
    """Write ``module.hf_models()``, the tokenizer and a model card (``README.md``, from ``run_dir`` when given)
    into ``out_dir`` atomically (temp dir, then rename)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    try:
        for subdir, model in module.hf_models().items():
            model.save_pretrained(str(tmp / subdir))
            tokenizer.save_pretrained(str(tmp / subdir))
            write_model_card(tmp / subdir, model, tokenizer, run_dir)
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
    from bertlab.build import build

    run_dir = Path(run_dir)
    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    with open_dict(cfg):
        cfg.tokenizer = {
            "_target_": "bertlab.tokenization.PretrainedTokenizer",
            "name_or_path": str(run_dir / "tokenizer"),
        }
        cfg.paths.output_dir = str(run_dir)
    datamodule, module = build(cfg)
    checkpoint = Path(checkpoint) if checkpoint else find_checkpoint(run_dir)
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    module.load_state_dict(state)
    return export_pretrained(module, datamodule.tokenizer, out or run_dir / "hf", run_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description="Export a bertlab run in Hugging Face format.")
    parser.add_argument(
        "run_dir", help="the run's output directory (holds .hydra/, checkpoints/, tokenizer/)"
    )
    parser.add_argument("--checkpoint", help="checkpoint file (default: the best one, else last.ckpt)")
    parser.add_argument("--out", help="output directory (default: <run_dir>/hf)")
    parser.add_argument("--push-to-hub", metavar="REPO", help="then upload it to this Hub repository")
    args = parser.parse_args()
    out = export_run(args.run_dir, args.checkpoint, args.out)
    print(out)
    if args.push_to_hub:
        print(push_to_hub(out, args.push_to_hub))


if __name__ == "__main__":
    main()
