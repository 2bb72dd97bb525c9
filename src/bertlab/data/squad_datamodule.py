"""SQuAD v2.0 question answering data: the official files, or the local split this machine can build.

``split=official``: ``train-v2.0.json`` for training, ``dev-v2.0.json`` for validation and test (read from the
data directory, or downloaded once from the official site and checked against the sha1 its publishers give).
``split=local``: the official v2.0 files are not available here, so train on the SQuAD 1.1 dev set plus half of
the 16 articles of CS224n's half of the v2.0 dev set, and evaluate on the other half. The articles are ordered
by the sha256 of their title and the first half goes to training: deterministic, and independent of file order.
Validation and test are the same evaluation articles in both splits (as with the official dev set).
``split=files``: any SQuAD-format files, ``train_file`` and ``validation_file`` (v1.1 or v2.0, ``.json`` or
``.json.gz``; ``conf/data/squad.yaml``). Whether an empty answer may be predicted (HF's
``version_2_with_negative``) follows the data: only when some question is unanswerable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

from bertlab.data import files
from bertlab.data.base import KeyedDataModule
from bertlab.data.bucketing import BucketBatchSampler
from bertlab.data.records import resolve_path
from bertlab.data.squad import SquadExample, read_squad, split_by_title
from bertlab.data.squad_features import WINDOW_KEYS, Window, WindowDataset, make_windows
from bertlab.data.squad_negatives import add_answer_removed_negatives, check_fraction
from bertlab.errors import ConfigError

_SITE = "https://rajpurkar.github.io/SQuAD-explorer/dataset"
SOURCES = {
    "train-v2.0": files.RemoteFile(
        "squad_v2",
        "train-v2.0.json",
        f"{_SITE}/train-v2.0.json",
        "ceb2acdea93b9d82ab1829c7b1e03bee9e302c99",
        "sha1",
    ),
    "dev-v2.0": files.RemoteFile(
        "squad_v2",
        "dev-v2.0.json",
        f"{_SITE}/dev-v2.0.json",
        "846082d15ed71cb5220645b9d473441e00070778",
        "sha1",
    ),
    "dev-v1.1": files.RemoteFile(
        "squad_v1.1",
        "dev-v1.1.json",
        f"{_SITE}/dev-v1.1.json",
        "e1621aae0683b346ee9743bd5609266ba0cc34fc",
        "sha1",
    ),
    "cs224n-dev-v2.0": files.RemoteFile(
        "squad_v2_partial",
        "cs224n-dev-v2.0.json",
        "https://raw.githubusercontent.com/chrischute/squad/4f2fd9fcd60b21e1f5fb32ac70dc50f867705de0/data/dev-v2.0.json",
        "e67e5969b6dc6c1642154740806b79263b77fc048c7c11ee60d534eb48ef81e8",
    ),
}
SPLITS = ("official", "local", "files")


def training_titles(titles: list[str]) -> list[str]:
    """The half of ``titles`` (distinct, any order) that ``split=local`` trains on: lowest sha256 first."""
    ordered = sorted(set(titles), key=lambda t: hashlib.sha256(t.encode("utf-8")).hexdigest())
    return ordered[: len(ordered) // 2]


def oversample_unanswerable(
    windows: list[Window], examples: list[SquadExample], repeats: int
) -> list[Window]:
    """``windows`` with every window of an unanswerable example ``repeats`` times (training only).

    The local split trains on 12% unanswerable questions and evaluates on 50%: repeating the unanswerable ones
    moves the training mix towards the evaluation's without changing which questions are in it.
    """
    if repeats == 1:
        return windows
    extra = [w for w in windows if examples[w.example_index].is_impossible]
    return windows + extra * (repeats - 1)


STAGE_SPLITS = {"fit": ("train", "val"), "validate": ("val",), "test": ("test",), "predict": ("test",)}


class SQuADv2DataModule(KeyedDataModule):
    """Windows of SQuAD examples for extractive QA; ``evaluation_set(stage)`` gives the module what to decode.

    Training only: ``unanswerable_repeats`` repeats the windows of unanswerable questions;
    ``answer_removed_negatives`` adds an unanswerable copy, without its answer sentences, of that fraction of the
    answerable questions (``bertlab.data.squad_negatives``).

    Batches hold windows of similar length (``bucket_batches`` batches' worth of shuffled windows are sorted
    together), padded per batch.

    The tokenizer must be a fast tokenizer (windows need its offset mapping).
    """

    def __init__(
        self,
        data_dir: str,
        split: str = "official",
        max_length: int = 384,
        doc_stride: int = 128,
        max_query_length: int = 64,
        batch_size: int = 32,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
        max_bad_answer_fraction: float = 0.01,
        bucket_batches: int = 50,
        unanswerable_repeats: int = 1,
        answer_removed_negatives: float = 0.0,
        download: bool = True,
        train_file: str | None = None,
        validation_file: str | None = None,
    ) -> None:
        super().__init__(batch_size, eval_batch_size, num_workers, seed)
        if split not in SPLITS:
            raise ValueError(f"data.split={split!r}: expected one of {list(SPLITS)}")
        if unanswerable_repeats < 1:
            raise ValueError(f"data.unanswerable_repeats={unanswerable_repeats}: expected a positive integer")
        check_fraction(answer_removed_negatives)
        if split == "files" and not (train_file and validation_file):
            raise ConfigError("data.split=files reads data.train_file and data.validation_file: set both")
        self.files = {"train": train_file, "val": validation_file}
        self.data_dir, self.split, self.download = data_dir, split, download
        self.max_length = max_length
        self.doc_stride, self.max_query_length = doc_stride, max_query_length
        self.max_bad_answer_fraction, self.bucket_batches = max_bad_answer_fraction, bucket_batches
        self.unanswerable_repeats = unanswerable_repeats
        self.answer_removed_negatives = answer_removed_negatives
        self.windows: dict[str, list[Window]] = {}

    def _path(self, name: str) -> Path:
        return files.resolve(SOURCES[name], self.data_dir, download=self.download)

    def _read(self, name: str, training: bool) -> list[SquadExample]:
        path = resolve_path(self.files[name]) if self.split == "files" else self._path(name)
        return read_squad(path, training=training, max_bad_fraction=self.max_bad_answer_fraction)

    @cached_property
    def examples(self) -> dict[str, list[SquadExample]]:
        """Examples of ``train`` and ``val`` (= ``test``); evaluation examples keep every gold string."""
        if self.split == "official":
            train, evaluation = self._read("train-v2.0", True), self._read("dev-v2.0", False)
        elif self.split == "files":
            train, evaluation = self._read("train", True), self._read("val", False)
        else:
            partial_train = self._read("cs224n-dev-v2.0", True)
            chosen = training_titles([e.title for e in partial_train])
            train = self._read("dev-v1.1", True) + split_by_title(partial_train, chosen)[0]
            evaluation = split_by_title(self._read("cs224n-dev-v2.0", False), chosen)[1]
        for name, part in (("train", train), ("evaluation", evaluation)):
            if not part:
                raise ValueError(
                    f"data.split={self.split}: the {name} set is empty (data_dir={self.data_dir})"
                )
        train = add_answer_removed_negatives(train, self.answer_removed_negatives, self.seed)
        return {"train": train, "val": evaluation, "test": evaluation}

    def module_kwargs(self) -> dict:
        """SQuAD v2.0 semantics (an empty answer may be predicted) only when the data has unanswerable
        questions; the window sizes, which an export records for ``bertlab-predict``."""
        examples = self.examples["train"] + self.examples["val"]
        return {
            "version_2_with_negative": any(e.is_impossible for e in examples),
            "window_settings": {key: getattr(self, key) for key in WINDOW_KEYS},
        }

    def training_texts(self) -> Iterator[str]:
        train = self.examples["train"]
        yield from (e.question for e in train)
        yield from sorted({e.context for e in train})

    def _windows(self, split: str) -> list[Window]:
        if split not in self.windows:
            if split == "test" and "val" in self.windows:
                self.windows[split] = self.windows["val"]
            else:
                windows = make_windows(
                    self.examples[split],
                    self.tokenizer,
                    self.max_length,
                    self.doc_stride,
                    self.max_query_length,
                )
                if split == "train":
                    windows = oversample_unanswerable(
                        windows, self.examples[split], self.unanswerable_repeats
                    )
                self.windows[split] = windows
        return self.windows[split]

    def evaluation_set(self, stage: str) -> tuple[list[SquadExample], list[Window]]:
        """(examples, windows) of ``val`` or ``test``: window ``i`` is the dataset item with index ``i``."""
        return self.examples[stage], self._windows(stage)

    def prepare_data(self) -> None:
        if self.split == "files":
            for path in self.files.values():
                resolve_path(path)
            return
        for name in (
            ("train-v2.0", "dev-v2.0") if self.split == "official" else ("dev-v1.1", "cs224n-dev-v2.0")
        ):
            self._path(name)

    def setup(self, stage: str | None = None) -> None:
        for split in STAGE_SPLITS.get(stage, ("train", "val", "test")):  # evaluation never tokenizes train
            if split not in self.datasets:
                self.datasets[split] = WindowDataset(self._windows(split))

    def batch_sampler(self, split: str, train: bool) -> BucketBatchSampler:
        return BucketBatchSampler(
            [len(w.input_ids) for w in self.datasets[split].windows],
            self.batch_size if train else self.eval_batch_size,
            train=train,
            seed=self.seed,
            bucket_batches=self.bucket_batches,
        )
