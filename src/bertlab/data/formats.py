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

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from bertlab.data.corpus import TokenizedCorpus
from bertlab.data.datasets import BlockDataset
from bertlab.data.packing import StreamBlocks
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
    """Variable-length framed sequences ``flat[offsets[i]:offsets[i + 1]]`` (FULL-/DOC-SENTENCES)."""

    def __init__(self, flat: np.ndarray, offsets: np.ndarray, dupe_factor: int | None = None) -> None:
        if dupe_factor is not None and dupe_factor < 1:
            raise ValueError(f"data.dupe_factor={dupe_factor}: expected a positive number of copies")
        self.flat, self.offsets, self.dupe_factor = flat, offsets, dupe_factor
        self.size = len(offsets) - 1

    def __len__(self) -> int:
        return self.size * (self.dupe_factor or 1)

    def mean_length(self) -> float:
        return float(self.offsets[-1]) / max(self.size, 1)

    def __getitem__(self, key: tuple[int, int]) -> dict:
        key_epoch, base = _copies(key[1], self.size, self.dupe_factor, key[0])
        row = self.flat[self.offsets[base] : self.offsets[base + 1]]
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


def _pieces(tokens: np.ndarray, body: int) -> list[np.ndarray]:
    """A sentence as one piece, or block-sized pieces if it is longer than a block body."""
    return [tokens[i : i + body] for i in range(0, max(len(tokens), 1), body)]


@dataclass
class _Packer:
    """Accumulates whole sentences into block bodies of at most ``body`` tokens."""

    body: int
    sep_id: int
    blocks: list[list[np.ndarray]]
    current: list[np.ndarray]
    length: int = 0
    pending_separator: bool = False

    def add(self, piece: np.ndarray) -> None:
        extra = 1 if self.pending_separator and self.current else 0
        if self.length + extra + len(piece) > self.body:
            self.flush()
            extra = 0
        if extra:
            self.current.append(np.array([self.sep_id], dtype=np.int64))
        self.current.append(piece)
        self.length += extra + len(piece)
        self.pending_separator = False

    def flush(self) -> None:
        if self.current:
            self.blocks.append(self.current)
        self.current, self.length, self.pending_separator = [], 0, False


def pack_sentences(
    corpus: TokenizedCorpus, block_size: int, cls_id: int, sep_id: int, cross_documents: bool
) -> tuple[np.ndarray, np.ndarray]:
    """FULL-SENTENCES (``cross_documents``) or DOC-SENTENCES blocks → (flat ids, offsets (N + 1,))."""
    if block_size < 3:
        raise ValueError(f"data.max_length={block_size}: a block needs room for [CLS], one token and [SEP]")
    packer = _Packer(block_size - 2, sep_id, [], [])
    starts = np.asarray(corpus.sentence_starts)
    for d in range(corpus.num_documents):
        for s in range(int(corpus.doc_starts[d]), int(corpus.doc_starts[d + 1])):
            tokens = np.asarray(corpus.ids[starts[s] : starts[s + 1]], dtype=np.int64)
            for piece in _pieces(tokens, packer.body):
                packer.add(piece)
        if cross_documents:
            packer.pending_separator = True
        else:
            packer.flush()
    packer.flush()
    rows = [np.concatenate([[cls_id], *block, [sep_id]]) for block in packer.blocks]
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    flat = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, dtype=np.int32)
    return flat, offsets


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
    flat, offsets = pack_sentences(
        corpus, block_size, cls_id, sep_id, cross_documents=format == "full_sentences"
    )
    return SequenceDataset(flat, offsets, dupe_factor)


def scaled_batch_size(batch_size: int, block_size: int, mean_length: float) -> int:
    """Batch size that keeps ``batch_size × block_size`` tokens per batch for shorter items (never smaller)."""
    if mean_length <= 0:
        return batch_size
    return max(batch_size, round(batch_size * block_size / mean_length))
