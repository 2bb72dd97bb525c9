"""Data preparation: tokenize + cache the t8 Shakespeare corpus, then reload it from the cache.

    python -m benchmarks.data_prep                  # bert-base-uncased vocabulary, 3 repeats
    python -m benchmarks.data_prep --repeats 5 --tokenizer wordpiece

Each repeat starts two fresh processes on an empty cache directory: the first reads the file, splits it,
tokenizes every split and writes the memory-mapped cache (``prepare_data`` + ``setup``, what a first run
pays); the second does the same with the cache in place (what every later run pays). Both times include
reading and hashing the raw file and loading the tokenizer; model construction is not included. The
targets (issue 6) are 10 s and 1 s. Needs BERTLAB_DATA_DIR.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time

from benchmarks.common import median, print_machine, run_for_result


def one(cache_dir: str, tokenizer: str) -> None:
    from hydra.utils import instantiate

    from benchmarks.common import compose_run

    cfg = compose_run([f"tokenizer={tokenizer}", f"paths.cache_dir={cache_dir}"])
    start = time.perf_counter()
    datamodule = instantiate(cfg.data)
    datamodule.attach(
        instantiate(cfg.tokenizer).build(datamodule.training_texts), instantiate(cfg.objective.collator)
    )
    datamodule.prepare_data()
    datamodule.setup("fit")
    seconds = time.perf_counter() - start
    tokens = {split: corpus.num_tokens for split, corpus in datamodule.corpora.items()}
    print("RESULT " + json.dumps({"seconds": seconds, "tokens": tokens}))


def _measure(cache_dir: str, tokenizer: str) -> dict:
    command = [sys.executable, "-m", "benchmarks.data_prep", "--one", cache_dir, "--tokenizer", tokenizer]
    return run_for_result(command, "data preparation")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tokenizer", default="bert_uncased", choices=["bert_uncased", "wordpiece"])
    parser.add_argument("--one", metavar="CACHE_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return one(args.one, args.tokenizer)
    print_machine()
    cold, warm, tokens = [], [], {}
    for _ in range(args.repeats):
        cache_dir = tempfile.mkdtemp(prefix="bertlab-bench-cache-")
        try:
            first = _measure(cache_dir, args.tokenizer)
            second = _measure(cache_dir, args.tokenizer)
        finally:
            shutil.rmtree(cache_dir, ignore_errors=True)
        if first["tokens"] != second["tokens"]:
            raise SystemExit(f"cache reload changed the corpus: {first['tokens']} vs {second['tokens']}")
        cold.append(first["seconds"])
        warm.append(second["seconds"])
        tokens = first["tokens"]
    print(f"t8 Shakespeare, tokenizer={args.tokenizer}, tokens {tokens}, median of {args.repeats}")
    print(f"{'step':<24}{'seconds':>9}{'min':>8}{'max':>8}{'target':>8}")
    for name, values, target in (("tokenize + cache", cold, 10.0), ("reload from cache", warm, 1.0)):
        print(f"{name:<24}{median(values):>9.2f}{min(values):>8.2f}{max(values):>8.2f}{target:>8.1f}")


if __name__ == "__main__":
    main()
