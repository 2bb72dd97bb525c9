"""Input formats of RoBERTa (Liu et al. 2019, §4.2, Table 2; source chapter §4.4, Fig. 8) plus ``stream``.

* ``stream``: the token stream cut into full blocks regardless of sentences (``run_language_modeling.py``).
* ``segment_pair``: SEGMENT-PAIR+NSP, BERT's input: two segments of several sentences (NSP or SOP).
* ``sentence_pair``: SENTENCE-PAIR+NSP: two single sentences; the batch is enlarged to keep the number of
  tokens per batch about that of full blocks.
* ``full_sentences``: FULL-SENTENCES: whole sentences packed contiguously up to the block size; a block may
  cross a document boundary, marked by an extra ``[SEP]``. No pair loss.
* ``doc_sentences``: DOC-SENTENCES: like full_sentences but a block never crosses a document, so blocks near
  a document's end are short; the batch is enlarged likewise.

A sentence longer than a block is cut into block-sized pieces (never dropped). Every dataset is indexed by
``(epoch, index)`` keys and supports static masking (``dupe_factor`` copies, copy ``c`` keyed as epoch ``c``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from bertlab.data.corpus import TokenizedCorpus
from bertlab.data.datasets import BlockDataset
from bertlab.data.packing import SentenceBlocks, StreamBlocks
from bertlab.data.pairs import PairBuilder, frame_pair

FORMATS = ("stream", "segment_pair", "sentence_pair", "full_sentences", "doc_sentences")
PAIR_FORMATS = ("segment_pair", "sentence_pair")
SCALED_FORMATS = ("sentence_pair", "doc_sentences")  # batch size raised to keep tokens per batch


def resolve_format(format: str | None, pairing: str | None) -> str:
    """Check ``data.format`` against the objective; ``None`` picks the objective's natural format."""
    if format is None:
        return "segment_pair" if pairing else "stream"
    if format not in FORMATS:
        raise ValueError(f"data.format={format!r}: expected one of {FORMATS} or null")
    if pairing and format not in PAIR_FORMATS:
        raise ValueError(
            f"data.format={format} has no sentence pairs but objective={pairing} needs them: use "
            f"data.format=segment_pair or sentence_pair (or null)"
        )
    if not pairing and format in PAIR_FORMATS:
        raise ValueError(f"data.format={format} builds sentence pairs: use objective=nsp or objective=sop")
    return format


def _copies(index: int, size: int, dupe_factor: int | None, epoch: int) -> tuple[int, int]:
    """(key epoch, base index): static masking keys copy ``c`` as epoch ``c`` for the whole run."""
    copy, base = divmod(index, size)
    return (copy if dupe_factor else epoch), base


class SequenceDataset(Dataset):
    """Variable-length framed sequences ``rows[i]`` (FULL-/DOC-SENTENCES: :class:`SentenceBlocks`)."""

    def __init__(self, rows: SentenceBlocks, dupe_factor: int | None = None) -> None:
        if dupe_factor is not None and dupe_factor < 1:
            raise ValueError(f"data.dupe_factor={dupe_factor}: expected a positive number of copies")
        self.rows, self.dupe_factor = rows, dupe_factor
        self.size = len(rows)

    def __len__(self) -> int:
        return self.size * (self.dupe_factor or 1)

    def mean_length(self) -> float:
        return self.rows.mean_length()

    def __getitem__(self, key: tuple[int, int]) -> dict:
        key_epoch, base = _copies(key[1], self.size, self.dupe_factor, key[0])
        row = self.rows[base]
        return {"input_ids": torch.from_numpy(row.astype(np.int64)), "mask_epoch": key_epoch, "index": base}


class PairDataset(Dataset):
    """``[CLS] A [SEP] B [SEP]`` items with ``token_type_ids`` and ``next_sentence_label``, re-drawn per epoch."""

    def __init__(
        self, builder: PairBuilder, cls_id: int, sep_id: int, dupe_factor: int | None = None
    ) -> None:
        if dupe_factor is not None and dupe_factor < 1:
            raise ValueError(f"data.dupe_factor={dupe_factor}: expected a positive number of copies")
        self.builder, self.cls_id, self.sep_id, self.dupe_factor = builder, cls_id, sep_id, dupe_factor

    def __len__(self) -> int:
        return len(self.builder) * (self.dupe_factor or 1)

    @property
    def skipped_documents(self) -> int:
        """Documents with fewer than two sentences: no pair can start in them (reported by the datamodule)."""
        return self.builder.anchors.skipped_documents

    def mean_length(self, sample: int = 2000) -> float:
        """Mean framed length over (up to) ``sample`` evenly spaced epoch-0 items."""
        picks = np.linspace(0, len(self.builder) - 1, min(sample, len(self.builder))).astype(int)
        return float(np.mean([self[(0, int(i))]["input_ids"].numel() for i in picks])) if len(picks) else 0.0

    def __getitem__(self, key: tuple[int, int]) -> dict:
        key_epoch, base = _copies(key[1], len(self.builder), self.dupe_factor, key[0])
        pair = self.builder.build(key_epoch, base)
        input_ids, token_type_ids = frame_pair(pair.a, pair.b, self.cls_id, self.sep_id)
        return {
            "input_ids": torch.from_numpy(input_ids),
            "token_type_ids": torch.from_numpy(token_type_ids),
            "next_sentence_label": pair.label,
            "mask_epoch": key_epoch,
            "index": base,
        }


def build_dataset(
    format: str,
    corpus: TokenizedCorpus,
    block_size: int,
    cls_id: int,
    sep_id: int,
    *,
    pairing: str | None,
    seed: int,
    short_seq_prob: float,
    dupe_factor: int | None,
) -> Dataset:
    """The dataset of one split for a resolved ``format`` (see :func:`resolve_format`)."""
    if format == "stream":
        return BlockDataset(StreamBlocks(corpus, block_size, cls_id, sep_id), dupe_factor)
    if format in PAIR_FORMATS:
        unit = "segment" if format == "segment_pair" else "sentence"
        builder = PairBuilder(corpus, block_size, pairing, seed, short_seq_prob, unit)
        return PairDataset(builder, cls_id, sep_id, dupe_factor)
    rows = SentenceBlocks(corpus, block_size, cls_id, sep_id, cross_documents=format == "full_sentences")
    return SequenceDataset(rows, dupe_factor)


def scaled_batch_size(batch_size: int, block_size: int, mean_length: float) -> int:
    """Batch size that keeps ``batch_size × block_size`` tokens per batch for shorter items (never smaller)."""
    if mean_length <= 0:
        return batch_size
    return max(batch_size, round(batch_size * block_size / mean_length))
