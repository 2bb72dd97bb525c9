"""``bertlab-inspect``: print one collated training example as a table (the source chapter's Table 1).

    bertlab-inspect experiment=mlm_shakespeare
    bertlab-inspect experiment=mlm_shakespeare inspect.index=7 inspect.epoch=1
    bertlab-inspect experiment=gpt_shakespeare inspect.prompt="To be, or not" inspect.ckpt=<run>/checkpoints/last.ckpt

Columns: each token of the example as the dataset produced it, its id, and every per-token field of the
collated batch (corrupted ``input_ids``, ``labels``, ``token_type_ids``, ...); sequence-level fields follow.
"""

from __future__ import annotations

import hydra
import torch
from omegaconf import DictConfig
from rich.console import Console
from rich.table import Table

from bertlab.build import build
from bertlab.config import config_dir, register_schemas

register_schemas()


def example_table(item: dict, batch: dict[str, torch.Tensor], tokenizer) -> tuple[Table, dict[str, list]]:
    """(table of per-token fields, sequence-level fields) for row 0 of ``batch`` built from ``item``."""
    original = item["input_ids"].tolist()
    length = batch["input_ids"].shape[1]
    table = Table(show_lines=False)
    table.add_column("pos", justify="right")
    table.add_column("token")
    table.add_column("id", justify="right")
    per_token = {k: v[0].tolist() for k, v in batch.items() if v.dim() == 2 and v.shape[1] == length}
    for key in per_token:
        table.add_column(key, justify="right")
    table.add_column("input token")
    inputs = per_token.get("input_ids", original)
    for t in range(length):
        tok_id = original[t] if t < len(original) else tokenizer.pad_token_id
        row = [str(t), tokenizer.convert_ids_to_tokens(tok_id), str(tok_id)]
        row += [str(values[t]) for values in per_token.values()]
        changed = inputs[t] != tok_id
        shown = tokenizer.convert_ids_to_tokens(inputs[t])
        row.append(f"[bold]{shown}[/bold]" if changed else shown)
        table.add_row(*row)
    sequence = {k: v[0].tolist() for k, v in batch.items() if k not in per_token}
    return table, sequence


def print_continuation(cfg: DictConfig, module, tokenizer, console: Console) -> None:
    """For causal LMs: a sampled continuation of ``inspect.prompt`` (random weights unless ``inspect.ckpt``)."""
    from bertlab.objectives.causal_lm import sample_continuation

    if cfg.inspect.ckpt:
        module.load_state_dict(
            torch.load(cfg.inspect.ckpt, map_location="cpu", weights_only=True)["state_dict"]
        )
    text = sample_continuation(module, tokenizer, cfg.inspect.prompt, cfg.inspect.max_new_tokens, cfg.seed)
    console.print(f"prompt: {cfg.inspect.prompt}\ncontinuation: {text}")


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="inspect")
def main(cfg: DictConfig) -> None:
    datamodule, module = build(cfg)
    datamodule.prepare_data()
    datamodule.setup("fit")
    item = datamodule.datasets["train"][(cfg.inspect.epoch, cfg.inspect.index)]
    batch = datamodule.collate([item])
    table, sequence = example_table(item, batch, datamodule.tokenizer)
    console = Console()
    console.print(
        f"experiment task={cfg.task_name} objective={cfg.objective.name} "
        f"train example {cfg.inspect.index}, epoch {cfg.inspect.epoch}"
    )
    console.print(table)
    for key, value in sequence.items():
        console.print(f"{key}: {value}")
    if "next_sentence_label" in batch:
        from bertlab.data.pair_collator import format_pair_example

        row = {key: value[0] for key, value in batch.items()}
        console.print(
            format_pair_example(row, datamodule.tokenizer, pairing=cfg.objective.name), markup=False
        )
    if cfg.inspect.prompt:
        print_continuation(cfg, module, datamodule.tokenizer, console)


if __name__ == "__main__":
    main()
