"""SQuAD examples → fixed-length windows: question first, context second, overlapping context windows.

Devlin et al. 2019 (BERT §4.2/4.3): ``[CLS] question [SEP] context [SEP]``, a context longer than the window is
cut into overlapping windows, and the answer span is labelled by token start/end indices. A window that does
not hold the whole answer — and every window of an unanswerable question — is labelled with the CLS index 0.
Windows come from the fast tokenizer (``return_overflowing_tokens`` with ``stride``); ``doc_stride`` is the
number of context tokens two neighbouring windows share (the Hugging Face ``run_qa.py`` meaning). Character
offsets are kept for context tokens so that decoded spans map back to exact context substrings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from bertlab.data.collators import PaddingCollator, pad_batch, pad_stack
from bertlab.data.squad import Answer, SquadExample

CLS_INDEX = 0
WINDOW_KEYS = ("max_length", "doc_stride", "max_query_length")  # data.* keys that shape the windows
NO_OFFSET = -1  # offsets of question, special and padding tokens: they can never be part of an answer


@dataclass(frozen=True)
class Window:
    """One model input. ``offsets`` (T, 2) are character spans into the example's context (-1 outside it)."""

    example_index: int
    input_ids: np.ndarray  # (T,)
    token_type_ids: np.ndarray  # (T,)
    offsets: np.ndarray  # (T, 2)
    start_position: int
    end_position: int


def check_lengths(max_seq_length: int, doc_stride: int, max_query_length: int) -> None:
    """Each window must have room for the question, three special tokens and more than the overlap."""
    if max_query_length + 3 + doc_stride >= max_seq_length:
        raise ValueError(
            f"data.max_query_length={max_query_length} + 3 special tokens + data.doc_stride={doc_stride} must be "
            f"below data.max_length={max_seq_length}, or windows could not advance through the context"
        )


def truncate_questions(questions: list[str], tokenizer, max_query_length: int) -> list[str]:
    """Questions without leading whitespace, each cut after its first ``max_query_length`` tokens."""
    questions = [q.lstrip() for q in questions]
    encoded = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    return [
        q if len(offsets) <= max_query_length else q[: offsets[max_query_length - 1][1]]
        for q, offsets in zip(questions, encoded, strict=True)
    ]


def answer_tokens(offsets: np.ndarray, answer: Answer | None) -> tuple[int, int]:
    """Token (start, end) of ``answer`` in a window with context ``offsets`` (T, 2), or CLS when not inside it."""
    context = np.flatnonzero(offsets[:, 0] != NO_OFFSET)
    if answer is None or len(context) == 0:
        return CLS_INDEX, CLS_INDEX
    first, last = context[0], context[-1]
    start_char, end_char = answer.start, answer.start + len(answer.text)
    if offsets[first, 0] > start_char or offsets[last, 1] < end_char:
        return CLS_INDEX, CLS_INDEX
    start = context[offsets[context, 0] <= start_char][-1]
    end = context[(offsets[context, 1] >= end_char) & (context >= start)][0]
    return int(start), int(end)


def labelled_answer(example: SquadExample) -> Answer | None:
    """The first answer that really is at its ``answer_start`` (training labels); None if unanswerable."""
    for answer in example.answers:
        if example.context[answer.start : answer.start + len(answer.text)] == answer.text:
            return answer
    return None


def make_windows(
    examples: list[SquadExample],
    tokenizer,
    max_seq_length: int = 384,
    doc_stride: int = 128,
    max_query_length: int = 64,
    chunk: int = 512,
) -> list[Window]:
    """All windows of ``examples`` in example order; needs a fast tokenizer (offset mappings)."""
    check_lengths(max_seq_length, doc_stride, max_query_length)
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError("SQuAD windows need a fast tokenizer (offset mappings and overflowing tokens)")
    windows: list[Window] = []
    for begin in range(0, len(examples), chunk):
        part = examples[begin : begin + chunk]
        encoded = tokenizer(
            truncate_questions([e.question for e in part], tokenizer, max_query_length),
            [e.context for e in part],
            truncation="only_second",
            max_length=max_seq_length,
            stride=doc_stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            return_token_type_ids=True,
        )
        for w, local in enumerate(encoded["overflow_to_sample_mapping"]):
            in_context = np.array([s == 1 for s in encoded.sequence_ids(w)])
            offsets = np.array(encoded["offset_mapping"][w], dtype=np.int32).reshape(-1, 2)  # (T, 2)
            offsets[~in_context] = NO_OFFSET
            start, end = answer_tokens(offsets, labelled_answer(part[local]))
            windows.append(
                Window(
                    example_index=begin + local,
                    input_ids=np.array(encoded["input_ids"][w], dtype=np.int32),
                    token_type_ids=np.array(encoded["token_type_ids"][w], dtype=np.int8),
                    offsets=offsets,
                    start_position=start,
                    end_position=end,
                )
            )
    return windows


class WindowDataset(Dataset):
    """Map-style dataset of windows addressed by ``(epoch, index)`` keys (see ``data/sampling.py``)."""

    def __init__(self, windows: list[Window]) -> None:
        self.windows = windows

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, torch.Tensor | int]:
        _, index = key
        window = self.windows[index]
        return {
            "input_ids": torch.from_numpy(window.input_ids.astype(np.int64)),
            "token_type_ids": torch.from_numpy(window.token_type_ids.astype(np.int64)),
            "start_positions": window.start_position,
            "end_positions": window.end_position,
            "window_index": index,
        }


@dataclass
class SpanCollator(PaddingCollator):
    """Batch of windows: ``input_ids``, ``token_type_ids``, ``attention_mask`` (B, T), ``start_positions``,
    ``end_positions`` and ``window_index`` (B,). Pads to the longest window (rounded up to a multiple)."""

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        input_ids, attention = pad_batch(items, self.pad_id, self.pad_to_multiple_of)  # (B, T) each
        return {
            "input_ids": input_ids,
            "token_type_ids": pad_stack([it["token_type_ids"] for it in items], 0, self.pad_to_multiple_of),
            "attention_mask": attention.long(),
            "start_positions": torch.tensor([it["start_positions"] for it in items]),
            "end_positions": torch.tensor([it["end_positions"] for it in items]),
            "window_index": torch.tensor([it["window_index"] for it in items]),
        }
