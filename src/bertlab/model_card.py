"""The model card every export writes (``README.md``, Hugging Face model-card format), and ``--push-to-hub``.

The card says what the model is and how to get it again: base model, objective, data and its source, the last
``val/*`` and ``test/*`` metrics the run logged, the tokenizer, the command and the resolved config. Its YAML
header (``huggingface_hub.ModelCardData``) is what the Hub indexes: library, pipeline tag, base model, tags.
Everything is read from the run directory (``.hydra/``, ``csv/metrics.csv``); without one (an export of a module
built in code) the card holds what the model itself knows.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from huggingface_hub import HfApi, ModelCardData
from omegaconf import OmegaConf

from bertlab.suite import read_metrics

# objective name → the Hub's pipeline tag
PIPELINE_TAGS = {
    "sequence_classification": "text-classification",
    "extractive_qa": "question-answering",
    "mlm": "fill-mask",
    "clm": "text-generation",
}


def last_metrics(run_dir: Path) -> dict[str, float]:
    """The last value of every ``val/*`` and ``test/*`` key in the run's ``csv/metrics.csv``."""
    path = run_dir / "csv" / "metrics.csv"
    if not path.is_file():
        return {}
    values = read_metrics(path)
    return {k: v[-1] for k, v in sorted(values.items()) if k.startswith(("val/", "test/"))}


def _run_facts(run_dir: Path | None) -> dict:
    if run_dir is None or not (run_dir / ".hydra" / "config.yaml").is_file():
        return {}
    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    resolved = run_dir / ".hydra" / "resolved_config.yaml"  # bertlab-train records every resolved value there
    values = OmegaConf.load(resolved) if resolved.is_file() else cfg
    overrides_path = run_dir / ".hydra" / "overrides.yaml"
    overrides = yaml.safe_load(overrides_path.read_text()) if overrides_path.is_file() else []
    return {
        "objective": OmegaConf.select(cfg, "objective.name"),
        "base_model": OmegaConf.select(cfg, "model.path"),
        "data": OmegaConf.to_container(values.data) if "data" in values else {},
        "tokenizer": OmegaConf.to_container(values.tokenizer) if "tokenizer" in values else {},
        "command": " ".join(["bertlab-train", *overrides]),
        "config": (run_dir / ".hydra" / "config.yaml").read_text(),
        "metrics": last_metrics(run_dir),
    }


def card_text(config, tokenizer, run_dir: Path | None) -> str:
    """The card: YAML metadata, then one section per fact (``config`` is the exported model's HF config)."""
    facts = _run_facts(run_dir)
    objective = facts.get("objective")
    base = facts.get("base_model")
    header = ModelCardData(
        library_name="transformers",
        pipeline_tag=PIPELINE_TAGS.get(objective),
        base_model=base if isinstance(base, str) and "/" in base and not Path(base).exists() else None,
        tags=["bertlab", *([objective] if objective else [])],
    )
    lines = [
        f"---\n{header.to_yaml()}\n---",
        "",
        f"# {config.architectures[0] if config.architectures else 'model'}",
    ]
    lines += [
        "",
        "Trained with bertlab (PyTorch Lightning + Hydra); the sections below say how to train it again.",
        "",
    ]
    lines += [f"- **Architecture:** {config.model_type}, {config.num_hidden_layers} layers, hidden "
              f"{config.hidden_size}, vocabulary {config.vocab_size}",  # fmt: skip
              f"- **Base model:** {base or 'trained from scratch (no model.path)'}",
              f"- **Objective:** {objective or 'unknown'}"]  # fmt: skip
    if getattr(config, "problem_type", None) or config.id2label and len(config.id2label) > 1:
        labels = ", ".join(f"{i}={n}" for i, n in sorted(config.id2label.items()))
        lines.append(f"- **Labels:** {labels} ({getattr(config, 'problem_type', None) or 'classification'})")
    data = facts.get("data") or {}
    sources = {k: v for k, v in data.items() if k.endswith("_file") or k in ("split", "source", "data_dir")}
    lines.append(
        f"- **Data:** `{data.get('_target_', 'unknown')}` {sources}" if data else "- **Data:** unknown"
    )
    tokenizer_spec = facts.get("tokenizer") or {}
    lines.append(f"- **Tokenizer:** {type(tokenizer).__name__}, {len(tokenizer)} tokens, from "
                 f"{tokenizer_spec.get('name_or_path', tokenizer_spec.get('_target_', 'this directory'))}")  # fmt: skip
    metrics = facts.get("metrics") or {}
    if metrics:
        lines += ["", "## Metrics at the end of the run", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v:.4f} |" for k, v in metrics.items()]
    if facts:
        lines += ["", "## Reproduce", "", "```bash", facts["command"], "```", "", "Resolved config:", "",
                  "```yaml", facts["config"].rstrip(), "```"]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_model_card(directory: str | Path, model, tokenizer, run_dir: str | Path | None = None) -> Path:
    """Write ``<directory>/README.md`` (the export's temporary directory: it lands with the model)."""
    path = Path(directory) / "README.md"
    path.write_text(card_text(model.config, tokenizer, Path(run_dir) if run_dir else None), encoding="utf-8")
    return path


def push_to_hub(directory: str | Path, repo_id: str, api: HfApi | None = None) -> str:
    """Upload an export directory to the Hub (needs the network and a token: ``huggingface-cli login``)."""
    api = api or HfApi()
    api.create_repo(repo_id, repo_type="model", exist_ok=True)
    info = api.upload_folder(folder_path=str(directory), repo_id=repo_id, repo_type="model")
    return str(getattr(info, "commit_url", info))
