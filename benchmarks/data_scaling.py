"""data=text at scale: tokenize synthetic corpora of growing size with 1 and 2 worker processes.

    flock /tmp/bertlab-heavy.lock python -m benchmarks.data_scaling --sizes 50 250 1000 --workers 1 2
    flock /tmp/bertlab-heavy.lock python -m benchmarks.data_scaling --sizes 1000 --workers 2 --no-ceiling

Corpora are documents of t8 sentences drawn at random (seeded) and shuffled, one blank-line-separated block
per document, in files of 64 MB under ``--work`` (default /tmp; never the repository). Per size and worker
count, a fresh process builds the cache into an empty directory (``prepare_data``: read, split, tokenize,
write shards, merge) while this process samples the RSS of the whole process tree; a second fresh process
reloads the cache (with the first-load checksum) and times ``setup`` plus the first training batch (its
peak RSS too). Corpora stay under ``--work`` for the next invocation; delete the directory when done. The
ceiling is HF ``tokenizers``' ``encode_batch_fast`` on the same sentences in one thread, text already split.
Needs BERTLAB_DATA_DIR (t8).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.common import print_machine, run_for_result

FILE_BYTES = 64 * 2**20


def t8_sentences() -> list[str]:
    from bertlab.data.shakespeare import parse_t8

    path = Path(os.environ["BERTLAB_DATA_DIR"]) / "shakespeare" / "t8.shakespeare.txt.gz"
    text = gzip.decompress(path.read_bytes()).decode() if path.exists() else path.with_suffix("").read_text()
    return [s for work in parse_t8(text) for s in work]


def generate(directory: Path, megabytes: int, seed: int = 0) -> Path:
    """``megabytes`` of documents (20-80 shuffled t8 sentences, 4 per line), written once and reused."""
    done = directory / "done"
    if done.exists():
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    sentences, rng = t8_sentences(), np.random.default_rng(seed)
    written, part, handle = 0, 0, None
    while written < megabytes * 2**20:
        if handle is None or handle.tell() >= FILE_BYTES:
            handle and handle.close()
            handle = open(directory / f"part-{part:04d}.txt", "w", encoding="utf-8")  # noqa: SIM115
            part += 1
        picks = rng.integers(0, len(sentences), rng.integers(20, 81))
        lines = [" ".join(sentences[i] for i in picks[j : j + 4]) for j in range(0, len(picks), 4)]
        block = "\n".join(lines) + "\n\n"
        handle.write(block)
        written += len(block.encode())
    handle.close()
    done.touch()
    return directory


def _datamodule(corpus: str, cache: str, workers: int):
    from bertlab.data.collators import MLMCollator
    from bertlab.data.text import TextDataModule
    from bertlab.tokenization import PretrainedTokenizer

    dm = TextDataModule(corpus, files=["*.txt"], cache_dir=cache, tokenize_workers=workers, max_length=128)
    dm.attach(PretrainedTokenizer("bert-base-uncased").build(), MLMCollator)
    return dm


def build(corpus: str, cache: str, workers: int) -> None:
    dm = _datamodule(corpus, cache, workers)
    start = time.perf_counter()
    dm.prepare_data()
    seconds = time.perf_counter() - start
    tokens = sum(c.num_tokens for c in dm.corpora.values())
    print("RESULT " + json.dumps({"seconds": seconds, "tokens": tokens}))


def reload(corpus: str, cache: str) -> None:
    dm = _datamodule(corpus, cache, 1)
    start = time.perf_counter()
    dm.prepare_data()  # loads the cache: sizes, and checksums + id range (first load of this process)
    loaded = time.perf_counter()
    dm.setup("fit")
    next(iter(dm.train_dataloader()))
    print("RESULT " + json.dumps({"reload": loaded - start, "first_batch": time.perf_counter() - loaded}))


def ceiling(corpus: str, megabytes: float = 50) -> None:
    from tokenizers import Tokenizer

    from bertlab.data.corpus import document_sentences
    from bertlab.tokenization import PretrainedTokenizer

    tok = Tokenizer.from_str(PretrainedTokenizer("bert-base-uncased").build().backend_tokenizer.to_str())
    tok.no_padding(), tok.no_truncation()
    text = (Path(corpus) / "part-0000.txt").read_text()[: int(megabytes * 2**20)]
    sentences = [s for block in text.split("\n\n") for s in document_sentences(block)]
    start, tokens = time.perf_counter(), 0
    for i in range(0, len(sentences), 4096):
        tokens += sum(
            len(e.ids) for e in tok.encode_batch_fast(sentences[i : i + 4096], add_special_tokens=False)
        )
    seconds = time.perf_counter() - start
    print(
        "RESULT "
        + json.dumps({"tokens_per_s": tokens / seconds, "mb_per_s": len(text.encode()) / 2**20 / seconds})
    )


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
    except psutil.Error:
        return 0


def measured(command: list[str]) -> tuple[dict, int]:
    """Run ``command``; its RESULT and the peak RSS of its process tree (sampled every 50 ms)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(process.pid))
            time.sleep(0.05)

    thread = threading.Thread(target=sample)
    thread.start()
    out, err = process.communicate()
    done.set(), thread.join()
    if process.returncode:
        raise SystemExit(f"{command} failed:\n{err[-3000:]}")
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:]), peak[0]


def _bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 250, 1000], help="corpus sizes in MB")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--work", default="/tmp/bertlab-data-scaling")
    parser.add_argument(
        "--ceiling", action=argparse.BooleanOptionalAction, default=True, help="also time encode_batch_fast"
    )
    args = parser.parse_args()
    print_machine()
    me = [sys.executable, "-m", "benchmarks.data_scaling"]
    rows = []
    for size in args.sizes:
        corpus = generate(Path(args.work) / f"corpus-{size}mb", size)
        megabytes = _bytes(corpus) / 2**20
        for workers in args.workers:
            cache = Path(args.work) / f"cache-{size}-{workers}"
            shutil.rmtree(cache, ignore_errors=True)
            result, peak = measured([*me, "--build", str(corpus), str(cache), str(workers)])
            again, reload_peak = measured([*me, "--reload", str(corpus), str(cache)])
            rows.append(
                f"| {megabytes:,.0f} | {workers} | {result['tokens'] / result['seconds']:,.0f} | "
                f"{megabytes / result['seconds']:.2f} | {result['seconds'] / megabytes:.3f} | {peak / 2**20:,.0f} | "
                f"{_bytes(cache) / 2**20:,.0f} | {again['reload']:.2f} | {again['first_batch']:.2f} | "
                f"{reload_peak / 2**20:,.0f} |"
            )
            print(rows[-1], flush=True)
            shutil.rmtree(cache, ignore_errors=True)
    print(
        "\n| MB | workers | tokens/s | MB/s | s per MB | peak RSS MB (tree) | cache MB | reload s | first batch s "
        "| reload + first batch peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if args.ceiling:
        first = generate(Path(args.work) / f"corpus-{args.sizes[0]}mb", args.sizes[0])
        top = run_for_result([*me, "--ceiling", str(first)], "ceiling")
        print(f"\nencode_batch_fast ceiling (one process, one thread, text already split): "
              f"{top['tokens_per_s']:,.0f} tokens/s, {top['mb_per_s']:.2f} MB/s")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--build":
        build(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--reload":
        reload(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "--ceiling":
        ceiling(sys.argv[2])
    else:
        main()
