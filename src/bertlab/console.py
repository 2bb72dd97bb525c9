"""What ``bertlab-train`` tells the user: where the run lives, what it resolved to, and what to run next.

At the start: the run directory, and ``<run>/.hydra/resolved_config.yaml`` — the config with every
interpolation resolved (``${oc.env:BERTLAB_DATA_DIR,./data}`` becomes the data directory this run read),
beside Hydra's ``config.yaml``, which keeps the interpolations. At the end: the run directory again and the
commands that make sense next (inspect, evaluate, export, resume). Printed on global rank 0 only.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from lightning.fabric.utilities.rank_zero import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from bertlab import atomic
from bertlab.callbacks.interrupt import resume_command

RESOLVED_CONFIG = Path(".hydra") / "resolved_config.yaml"


def invocation() -> tuple[str, list[str]]:
    """(program, command-line overrides) of this run, as the user can type them again."""
    if not HydraConfig.initialized():  # train() called as a library function
        return "bertlab-train", []
    program = "bertlab-train" if Path(sys.argv[0]).name == "bertlab-train" else "python -m bertlab.train"
    return program, list(HydraConfig.get().overrides.task)


def save_resolved_config(cfg: DictConfig, output_dir: str | Path) -> Path:
    """Write the fully resolved run config to ``<output_dir>/.hydra/resolved_config.yaml``."""
    return atomic.write_text(Path(output_dir) / RESOLVED_CONFIG, OmegaConf.to_yaml(cfg, resolve=True))


@rank_zero_only
def announce(text: str) -> None:
    print(text, flush=True)


def started(output_dir: str | Path) -> str:
    run_dir = Path(output_dir)
    return f"bertlab-train: run directory {run_dir}\n  resolved config: {run_dir / RESOLVED_CONFIG}"


def next_commands(output_dir: str | Path, exported: bool) -> str:
    """The run directory and the commands that use it: inspect, evaluate, export, resume."""
    run_dir = Path(output_dir)
    program, overrides = invocation()
    quoted = " ".join(shlex.quote(o) for o in overrides)
    export = f"exported to {run_dir / 'hf'}" if exported else f"bertlab-export {run_dir}"
    lines = [
        f"bertlab-train: finished; run directory {run_dir}",
        f"  inspect an example:   bertlab-inspect {quoted}".rstrip(),
        f"  evaluate on test:     bertlab-eval run {run_dir} --split test",
        f"  Hugging Face export:  {export}",
        f"  resume / train on:    {resume_command(program, overrides, run_dir)} trainer.max_steps=...",
    ]
    if (run_dir / "hf").is_dir():
        lines.append(
            f"  fine-tune from it:    bertlab-train model=pretrained model.path={run_dir / 'hf'} ..."
        )
    return "\n".join(lines)
