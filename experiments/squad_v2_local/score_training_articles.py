"""Score an exported QA model on the v2 articles of the local split's *training* half (a diagnostic).

    BERTLAB_DATA_DIR=../shared/data python experiments/squad_v2_local/score_training_articles.py <run>/hf

The evaluation articles tell how well the model generalises; the training articles tell what it learned. A model
that abstains on the training articles' unanswerable questions but not on the evaluation's has memorised which
contexts carry unanswerable questions rather than learned to judge a question against its context.
It runs bertlab's own validation (``experiment=squad_v2_local``: windows, decoding, official v2 metric) with the
training articles in place of the evaluation articles.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # benchmarks.common.compose_run: conf/train.yaml composed as bertlab-train does


def main() -> None:
    from benchmarks.common import compose_run
    from hydra.utils import instantiate

    from bertlab.data import files
    from bertlab.data.squad import read_squad, split_by_title
    from bertlab.data.squad_datamodule import SOURCES, training_titles
    from bertlab.precision import run_precision
    from bertlab.runtime import configure_allocator
    from bertlab.train import build

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", help="an exported QA model directory (<run>/hf)")
    args = parser.parse_args()
    cfg = compose_run(
        [
            "experiment=squad_v2_local",
            f"model.path={args.model}",
            f"tokenizer.name_or_path={args.model}",
            "logger=none",
            "callbacks=none",
            "trainer.enable_progress_bar=false",
        ]
    )
    configure_allocator(cfg.cpu_allocator)  # as bertlab-train does
    datamodule, module = build(cfg)
    module.load_exported(args.model)
    v2 = read_squad(files.resolve(SOURCES["cs224n-dev-v2.0"], cfg.data.data_dir), training=False)
    datamodule.examples["val"] = split_by_title(v2, training_titles([e.title for e in v2]))[0]
    precision = run_precision(cfg.trainer, module.encoder.config, cfg.paths.cache_dir).precision
    trainer = instantiate(
        cfg.trainer, precision=precision, logger=False, enable_checkpointing=False, enable_model_summary=False
    )
    metrics = trainer.validate(module, datamodule=datamodule, verbose=False)[0]
    print(json.dumps({k.removeprefix("val/"): round(float(v), 2) for k, v in metrics.items()}, indent=1))


if __name__ == "__main__":
    main()
