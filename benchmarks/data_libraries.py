"""Tokenizing a corpus into a training cache: bertlab's shards vs HF ``datasets`` vs Lightning's ``litdata``.

    flock /tmp/bertlab-heavy.lock python -m benchmarks.data_libraries --megabytes 50 --workers 2

The measured side of the README's "why our own memory-mapped shards". One corpus (t8 sentences shuffled into
documents, blank-line separated, in 1 MB files so every library can spread files over workers), the
bert-base-uncased vocabulary, sentences split by bertlab's splitter in all three (the work NSP/SOP need), and
the idiomatic pipeline of each library:

* bertlab: ``data=text`` (``TextDataModule.prepare_data``: sharded, worker processes, uint16 memory maps);
* datasets: ``load_dataset("text", sample_by="paragraph")`` + ``map(batched=True, num_proc=N)`` (Arrow cache);
* litdata: ``optimize(fn, files, num_workers=N, item_loader=TokensLoader(), use_checkpoint=True)`` and a
  ``StreamingDataset`` of 128-token blocks (litgpt's recipe).

Per library, in fresh processes: build time, tokens/s, peak RSS of the process tree, cache bytes, reload time
and first batch of 32 blocks, and a build killed (SIGKILL) halfway then restarted: the restart's time as a
fraction of a full build says whether finished work survives (≈0.5: resumed; ≈1: started over).
litdata is not a bertlab dependency: ``pip install litdata --no-deps boto3 obstore tifffile`` (its
requirements would replace the pinned CPU torch with a CUDA build). Needs BERTLAB_DATA_DIR (t8).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import print_machine
from benchmarks.data_scaling import _bytes, measured, t8_sentences

LIBRARIES = ("bertlab", "datasets", "litdata")
BLOCK = 128
_TOKENIZER = None  # per process; forked workers inherit it


def generate(directory: Path, megabytes: int, seed: int = 0) -> Path:
    """``megabytes`` of documents (20-80 shuffled t8 sentences, 4 per line) in 1 MB files, made once."""
    if (directory / "done").exists():
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    sentences, rng = t8_sentences(), np.random.default_rng(seed)
    for part in range(megabytes):
        blocks, size = [], 0
        while size < 2**20:
            picks = rng.integers(0, len(sentences), rng.integers(20, 81))
            lines = [" ".join(sentences[i] for i in picks[j : j + 4]) for j in range(0, len(picks), 4)]
            blocks.append("\n".join(lines))
            size += len(blocks[-1]) + 2
        (directory / f"part-{part:04d}.txt").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    (directory / "done").touch()
    return directory


def _tokenizer():
    global _TOKENIZER
    if _TOKENIZER is None:
        from bertlab.tokenization import PretrainedTokenizer

        _TOKENIZER = PretrainedTokenizer("bert-base-uncased").build().backend_tokenizer
        _TOKENIZER.no_padding(), _TOKENIZER.no_truncation()
    return _TOKENIZER


def encode_document(text: str) -> np.ndarray:
    """One document's sentences (bertlab's splitter), tokenized and concatenated, as uint16 ids."""
    from bertlab.data.corpus import document_sentences

    encoded = _tokenizer().encode_batch_fast(document_sentences(text), add_special_tokens=False)
    return np.fromiter((i for e in encoded for i in e.ids), dtype=np.uint16)


def _hf_encode(batch: dict) -> dict:
    ids = [encode_document(text) for text in batch["text"]]
    return {"input_ids": ids, "length": [len(x) for x in ids]}


def _lit_encode(path: str) -> np.ndarray:
    """A file's documents as one token array (litdata's checkpoints do not support generator functions)."""
    documents = Path(path).read_text(encoding="utf-8").split("\n\n")
    return np.concatenate([encode_document(d) for d in documents if d.strip()])


def _files(corpus: str) -> list[str]:
    return sorted(str(p) for p in Path(corpus).glob("*.txt"))


def build(library: str, corpus: str, cache: str, workers: int) -> None:
    _tokenizer()
    start = time.perf_counter()
    if library.startswith("bertlab"):
        dm = _bertlab(library, corpus, cache, workers)
        dm.prepare_data()
        tokens = sum(c.num_tokens for c in dm.corpora.values())
    elif library == "datasets":
        tokens = sum(_hf(corpus, cache, workers)["length"])
    else:
        from litdata import TokensLoader, optimize

        optimize(fn=_lit_encode, inputs=_files(corpus), output_dir=cache, num_workers=workers,
                 chunk_size=(BLOCK + 1) * 4096, item_loader=TokensLoader(), use_checkpoint=True,
                 start_method="fork", verbose=False)  # fmt: skip
        index = json.loads((Path(cache) / "index.json").read_text())
        tokens = sum(chunk["dim"] for chunk in index["chunks"])
    print("RESULT " + json.dumps({"seconds": time.perf_counter() - start, "tokens": tokens}))


def _bertlab(library: str, corpus: str, cache: str, workers: int):
    """``bertlab`` with the default shard size, ``bertlab:<MB>`` with ``data.shard_mb=<MB>``."""
    from bertlab.data.collators import MLMCollator
    from bertlab.data.text import TextDataModule
    from bertlab.tokenization import PretrainedTokenizer

    shard_mb = {"shard_mb": float(library.split(":")[1])} if ":" in library else {}
    dm = TextDataModule(
        corpus, files=["*.txt"], cache_dir=cache, tokenize_workers=workers, max_length=BLOCK, **shard_mb
    )
    dm.attach(PretrainedTokenizer("bert-base-uncased").build(), MLMCollator)
    return dm


def _hf(corpus: str, cache: str, workers: int):
    from datasets import load_dataset

    text = load_dataset(
        "text", data_files=_files(corpus), sample_by="paragraph", split="train", cache_dir=cache
    )
    return text.map(_hf_encode, batched=True, num_proc=workers, remove_columns=["text"])


def reload(library: str, corpus: str, cache: str, workers: int) -> None:
    _tokenizer()  # as in build: datasets fingerprints _hf_encode with the module state it sees
    start = time.perf_counter()
    if library.startswith("bertlab"):
        dm = _bertlab(library, corpus, cache, workers)
        dm.prepare_data()
        dm.setup("fit")
        loaded = time.perf_counter()
        next(iter(dm.train_dataloader()))
    elif library == "datasets":
        ds = _hf(corpus, cache, workers).with_format("numpy")  # its cache files are named per num_proc
        loaded = time.perf_counter()
        ds[:32]["input_ids"]  # noqa: B018 - a document per row; packing blocks would be the user's code
    else:
        from litdata import StreamingDataLoader, StreamingDataset, TokensLoader

        ds = StreamingDataset(cache, item_loader=TokensLoader(block_size=BLOCK + 1), shuffle=True)
        loaded = time.perf_counter()
        next(iter(StreamingDataLoader(ds, batch_size=32)))
    now = time.perf_counter()
    print("RESULT " + json.dumps({"reload": loaded - start, "first_batch": now - loaded}))


def killed_halfway(command: list[str], seconds: float) -> None:
    """Start ``command`` in its own process group and SIGKILL the group after ``seconds``."""
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def row(library: str, corpus: Path, work: Path, workers: int) -> str:
    me = [sys.executable, "-m", "benchmarks.data_libraries"]
    cache = work / f"cache-{library}"
    shutil.rmtree(cache, ignore_errors=True)
    built, peak = measured([*me, "--build", library, str(corpus), str(cache), str(workers)])
    size = _bytes(cache)
    again, _ = measured([*me, "--reload", library, str(corpus), str(cache), str(workers)])
    shutil.rmtree(cache, ignore_errors=True)
    killed_halfway([*me, "--build", library, str(corpus), str(cache), str(workers)], built["seconds"] / 2)
    restarted, _ = measured([*me, "--build", library, str(corpus), str(cache), str(workers)])
    shutil.rmtree(cache, ignore_errors=True)
    return (
        f"| {library} | {built['seconds']:.1f} | {built['tokens'] / built['seconds']:,.0f} | {peak / 2**20:,.0f} "
        f"| {size / 2**20:,.0f} | {again['reload']:.2f} | {again['first_batch']:.2f} "
        f"| {restarted['seconds']:.1f} ({restarted['seconds'] / built['seconds']:.2f}) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--libraries", nargs="+", default=list(LIBRARIES), help=f"of {LIBRARIES}; bertlab:<shard MB>"
    )
    parser.add_argument("--work", default="/tmp/bertlab-data-libraries")
    args = parser.parse_args()
    print_machine()
    work = Path(args.work)
    corpus = generate(work / f"corpus-{args.megabytes}mb", args.megabytes)
    rows = []
    for library in args.libraries:
        rows.append(row(library, corpus, work, args.workers))
        print(rows[-1], flush=True)
    print(
        f"\n{args.megabytes} MB, {args.workers} workers, bert-base-uncased, sentences split by bertlab's splitter"
    )
    print("| library | build s | tokens/s | peak RSS MB (tree) | cache MB | reload s | first batch s "
          "| build killed at 50%, restart s (× full) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--build":
        build(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--reload":
        reload(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        main()
