"""``data=classification``: fine-tune on any table of texts and labels (one sentence or a pair; a class, a
number or a set of labels), from CSV, TSV or JSONL files. CoLA and the GLUE tasks are presets of it.

Keys (``conf/data/classification.yaml``): ``train_file``, ``validation_file``, ``test_file`` (default: the
validation file); ``format`` (csv | tsv | jsonl, default from the suffix), ``header``, ``quoting``;
``text_fields`` (one or two names, or column indices without a header), ``label_field``, ``task``
(single_label | regression | multi_label), ``labels`` (the label set in id order, a list or a mapping
``{value in the file: name}``; default: sorted from the training file), ``label_separator`` (multi-label
values in delimited files), ``metrics`` (``bertlab.evaluation.classification_metrics``; the first is the one
presets monitor), ``max_length``. Instead of files, ``dataset`` names a Hugging Face dataset: ``{path: <a
save_to_disk directory (offline) or a hub name>, name, train_split, validation_split, test_split}`` (splits
default to train / validation); ``ClassLabel`` columns give the label names and order. ``empty_texts``: ``error`` (an empty text is a data error naming the line)
or ``skip`` (NSMC's few empty reviews: dropped from training and counted; kept in evaluation as the input
``[CLS] [SEP]``, so scores stay over the whole official set and comparable to published ones). ``fetch``, when set, is called once before reading (CoLA's preset downloads
and verifies its official zip with it).

Texts are tokenized once; batches hold examples of similar length (``bucket_batches`` batches' worth of
shuffled examples sorted together), padded per batch; loaders come from ``KeyedDataModule`` (a stateful
training loader: exact mid-epoch resume).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property

from bertlab.data.base import KeyedDataModule
from bertlab.data.bucketing import BucketBatchSampler
from bertlab.data.classification import ClassificationDataset, encode_texts
from bertlab.data.labeled_texts import LabeledTexts, drop_empty, field_keys, label_names, labeled_texts
from bertlab.data.records import Table, read_table, table_from_hf
from bertlab.errors import ConfigError
from bertlab.evaluation.classification_metrics import check_task, metric_names

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


class ClassificationDataModule(KeyedDataModule):
    """Texts and labels from files, for ``objective=sequence_classification`` (see the module docstring)."""

    def __init__(
        self,
        train_file: str | None = None,
        validation_file: str | None = None,
        test_file: str | None = None,
        text_fields: Sequence[str | int] = ("sentence",),
        label_field: str | int = "label",
        task: str = "single_label",
        labels: Sequence | Mapping | None = None,
        metrics: Sequence[str] = ("accuracy",),
        format: str | None = None,
        header: bool = True,
        quoting: bool = True,
        label_separator: str = ",",
        max_length: int = 128,
        batch_size: int = 32,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
        bucket_batches: int = 50,
        fetch: Callable[..., object] | None = None,
        download: bool = True,
        empty_texts: str = "error",
        dataset: Mapping | None = None,
    ) -> None:
        super().__init__(batch_size, eval_batch_size, num_workers, seed)
        if max_length < 3:
            raise ConfigError(f"data.max_length={max_length}: needs room for [CLS], a token and [SEP]")
        self.dataset = dict(dataset) if dataset else None
        if self.dataset is None and not (train_file and validation_file):
            raise ConfigError("data.train_file and data.validation_file are required (or data.dataset)")
        self.files = {"train": train_file, "val": validation_file, "test": test_file or validation_file}
        if self.dataset is not None:
            splits = {"train": "train", "val": "validation"} | {
                k: self.dataset[f"{k.replace('val', 'validation')}_split"]
                for k in ("train", "val", "test")
                if self.dataset.get(f"{k.replace('val', 'validation')}_split")
            }
            splits.setdefault("test", splits["val"])
            self.files = {k: f"{self.dataset['path']}[{v}]" for k, v in splits.items()}
            self.hf_splits = splits
        self.text_keys, self.label_key = field_keys(text_fields, label_field)
        self.task = check_task(task)
        self.metrics = metric_names(task, list(metrics))
        self.labels, self.label_separator = labels, label_separator
        self.format, self.header, self.quoting = format, header, quoting
        self.max_length, self.bucket_batches = max_length, bucket_batches
        self.fetch, self.download = fetch, download
        if empty_texts not in ("error", "skip"):
            raise ConfigError(f"data.empty_texts={empty_texts!r}: expected error or skip")
        self.empty_texts = empty_texts

    @cached_property
    def tables(self) -> dict[str, Table]:
        if self.fetch is not None:
            self.fetch(download=self.download)
        read = {}  # a file named twice (test = validation) is read once
        for split, path in self.files.items():
            if path in read:
                continue
            if self.dataset is None:
                read[path] = read_table(path, self.format, self.header, self.quoting)
            else:
                read[path], classes = table_from_hf(self.dataset, self.hf_splits[split])
                if self.labels is None and self.label_key in classes:  # the dataset's own label order
                    self.labels = list(classes[self.label_key])
        tables = {split: read[path] for split, path in self.files.items()}
        if self.empty_texts == "skip":
            tables["train"], dropped = drop_empty(tables["train"], self.text_keys)
            log.warning(
                "data.empty_texts=skip: %d record(s) of %s with an empty text skipped in training",
                dropped,
                self.files["train"],
            )
        return tables

    @cached_property
    def label_names(self) -> dict[str, str]:
        """``{value in the file: name}`` in id order."""
        names = label_names(
            self.tables["train"], self.label_key, self.task, self.labels, self.label_separator
        )
        if self.task == "single_label" and len(names) < 2:
            raise ConfigError(
                f"data.labels: {self.files['train']} has a single label value {list(names)}; "
                "a classifier needs at least two (set data.labels or check data.label_field)"
            )
        return names

    @cached_property
    def examples(self) -> dict[str, LabeledTexts]:
        return {
            split: labeled_texts(
                table,
                self.text_keys,
                self.label_key,
                self.task,
                self.label_names,
                self.label_separator,
                allow_empty=self.empty_texts == "skip",  # only evaluation tables still hold any
            )
            for split, table in self.tables.items()
        }

    def training_texts(self) -> Iterator[str]:
        return (text for texts in self.examples["train"].texts for text in texts)

    def module_kwargs(self) -> dict:
        return {
            "id2label": dict(enumerate(self.label_names.values())),
            "task": self.task,
            "metrics": list(self.metrics),
            "text_fields": list(self.text_keys),
        }

    def _tokenize(self, split: str) -> ClassificationDataset:
        examples = self.examples[split]
        encoded = encode_texts(self.tokenizer, examples.texts, self.max_length)
        if encoded.truncated:
            log.warning(
                "%s: %d of %d examples longer than data.max_length=%d tokens were truncated",
                self.files[split],
                encoded.truncated,
                len(examples.texts),
                self.max_length,
            )
        empty = sum(1 for texts in examples.texts if not all(texts))
        if empty:  # only with empty_texts=skip, only in evaluation
            log.warning("%s: %d example(s) with an empty text kept for evaluation", self.files[split], empty)
        return ClassificationDataset(encoded.input_ids, examples.labels, encoded.token_type_ids)

    def prepare_data(self) -> None:
        self.tables  # noqa: B018 - fetches (downloads once, on one process) and checks the files early

    def setup(self, stage: str | None = None) -> None:
        for split in SPLITS:
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
