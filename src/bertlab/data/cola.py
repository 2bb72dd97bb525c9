"""CoLA 1.1, the Corpus of Linguistic Acceptability (Warstadt, Singh & Bowman 2019; source chapter §4.2.10).

The raw release (not GLUE's repackaging): ``in_domain_train.tsv`` (8,551 rows), ``in_domain_dev.tsv`` (527) and
``out_of_domain_dev.tsv`` (516); 4 tab-separated columns without a header: source code, label (1 acceptable,
0 unacceptable), the original author's mark, sentence. Sentences contain quotes, so quoting is off
(``csv.QUOTE_NONE``). Validation = in-domain dev; test = out-of-domain dev (the split of the chapter's
confusion matrices and its 0.572 / 0.041 MCC). Files are looked up as ``<data_dir>/cola/<name>``, else
extracted from the official zip after checking its sha256.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from bertlab.data import files
from bertlab.data.base import KeyedDataModule
from bertlab.data.bucketing import BucketBatchSampler
from bertlab.data.classification import ClassificationDataset
from bertlab.errors import DataError

log = logging.getLogger(__name__)

ARCHIVE = files.RemoteArchive(
    "https://nyu-mll.github.io/CoLA/cola_public_1.1.zip",
    "2cf856f46df11c143d38e0cf2f9f34ff2fdb088c521cd859f5c4b9581683278b",
)
SPLIT_FILES = {"train": "in_domain_train.tsv", "val": "in_domain_dev.tsv", "test": "out_of_domain_dev.tsv"}
_SHA256 = {
    "in_domain_train.tsv": "f320a10f92d3bce6b29152fde322a362eac39238e50d8de0c8815457fdf4fc12",
    "in_domain_dev.tsv": "77176f6a03faa5a1c4f23c69971fc1bff565931112fb65af47b2d6e24b7f42f7",
    "out_of_domain_dev.tsv": "201b9c57b2a20f1282242eec0ed8995729e3be19c29a46c047b3727338836c05",
}
MEMBER_DIR = "cola_public/raw"
MEMBERS = {
    f"{MEMBER_DIR}/{name}": files.RemoteFile("cola", name, ARCHIVE.url, sha) for name, sha in _SHA256.items()
}
LABEL_NAMES = ("unacceptable", "acceptable")  # label 0, label 1
NUM_COLUMNS = 4


class CoLAFormatError(DataError):
    """A CoLA TSV row that does not follow the release format; the message names file and line."""


@dataclass(frozen=True)
class CoLAExample:
    source: str
    label: int
    author_mark: str
    sentence: str


def parse_row(row: list[str], where: str) -> CoLAExample:
    """One TSV row → example; ``where`` (``file:line``) prefixes every error."""
    if len(row) != NUM_COLUMNS:
        raise CoLAFormatError(
            f"{where}: expected {NUM_COLUMNS} tab-separated columns (source, label, author mark, sentence), "
            f"found {len(row)}"
        )
    source, label, mark, sentence = row
    if label not in ("0", "1"):
        raise CoLAFormatError(f"{where}: label {label!r} is not 0 (unacceptable) or 1 (acceptable)")
    if not sentence.strip():
        raise CoLAFormatError(f"{where}: empty sentence")
    return CoLAExample(source, int(label), mark, sentence)


def parse_cola(text: str, origin: str) -> list[CoLAExample]:
    """All rows of a CoLA TSV; ``origin`` (the file name) is used in error messages."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    examples = [parse_row(row, f"{origin}:{reader.line_num}") for row in reader]
    if not examples:
        raise CoLAFormatError(f"{origin}: no rows")
    return examples


def read_cola(path: str | Path) -> list[CoLAExample]:
    return parse_cola(files.open_text(path), str(path))


def truncate(ids: list[int], max_length: int) -> list[int]:
    """Keep the first ``max_length - 1`` tokens and the closing ``[SEP]``."""
    return ids if len(ids) <= max_length else [*ids[: max_length - 1], ids[-1]]


class CoLADataModule(KeyedDataModule):
    """CoLA sentences tokenized once, batched by similar length and padded per batch (no padding to 128).

    ``bucket_batches`` is how many batches' worth of shuffled training samples are sorted by length together.
    """

    def __init__(
        self,
        data_dir: str,
        max_length: int = 128,
        batch_size: int = 32,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
        bucket_batches: int = 50,
        download: bool = True,
    ) -> None:
        super().__init__(batch_size, eval_batch_size, num_workers, seed)
        if max_length < 3:
            raise ValueError(f"data.max_length={max_length}: needs room for [CLS], a token and [SEP]")
        self.data_dir, self.download = data_dir, download
        self.max_length, self.bucket_batches = max_length, bucket_batches

    @cached_property
    def paths(self) -> dict[str, Path]:
        found = files.resolve_zip_members(ARCHIVE, MEMBERS, self.data_dir, download=self.download)
        return {split: found[f"{MEMBER_DIR}/{name}"] for split, name in SPLIT_FILES.items()}

    @cached_property
    def examples(self) -> dict[str, list[CoLAExample]]:
        return {split: read_cola(path) for split, path in self.paths.items()}

    def training_texts(self) -> Iterator[str]:
        return (example.sentence for example in self.examples["train"])

    def module_kwargs(self) -> dict:
        return {"id2label": dict(enumerate(LABEL_NAMES))}

    def _tokenize(self, split: str) -> ClassificationDataset:
        examples = self.examples[split]
        encoded = self.tokenizer([example.sentence for example in examples])["input_ids"]  # [CLS] … [SEP]
        too_long = sum(len(ids) > self.max_length for ids in encoded)
        if too_long:
            log.warning(
                "%s: %d of %d sentences longer than data.max_length=%d tokens were truncated",
                self.paths[split],
                too_long,
                len(encoded),
                self.max_length,
            )
        ids = [np.asarray(truncate(row, self.max_length), dtype=np.int32) for row in encoded]
        return ClassificationDataset(ids, np.array([example.label for example in examples], dtype=np.int64))

    def prepare_data(self) -> None:
        self.paths  # noqa: B018 - resolves (downloads once, on one process) before setup runs on every rank

    def setup(self, stage: str | None = None) -> None:
        for split in SPLIT_FILES:
            if split not in self.datasets:
                self.datasets[split] = self._tokenize(split)

    def batch_sampler(self, split: str, train: bool) -> BucketBatchSampler:
        return BucketBatchSampler(
            self.datasets[split].lengths,
            self.batch_size if train else self.eval_batch_size,
            train=train,
            seed=self.seed,
            bucket_batches=self.bucket_batches,
        )
