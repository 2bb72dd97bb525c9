"""``bertlab-predict`` for extractive QA: answers with their character spans, "" when judged unanswerable.

Inputs: SQuAD-format JSON (``.json`` / ``.json.gz``, v1.1 or v2.0 layout; answers, if present, are ignored) or
JSONL (``.jsonl`` / ``.jsonl.gz``) of ``{"question": ..., "context": ..., "id": ...}`` (``id`` optional: the
line number). A missing or empty field names the JSON path of the record (JSON) or the line (JSONL).

Everything after reading is bertlab's SQuAD evaluation: the windows of :mod:`bertlab.data.squad_features`
(question first, ``doc_stride`` context tokens shared by neighbouring windows, character offsets) and the
decoding of :mod:`bertlab.evaluation.span_decoding` (n-best spans over all windows of a question, null score =
min over its windows of start[CLS] + end[CLS]). A question is answered "" when null score − best span score >
the null threshold; the threshold is the one the run evaluated with (``objective.module.null_threshold``,
recorded by the export in ``config.bertlab_qa``), and never fires for a model trained without unanswerable
questions, as in ``bertlab-eval``. Window sizes are the run's (``data.max_length``, ``data.doc_stride``,
``data.max_query_length``), from its config for a run or checkpoint and from ``config.bertlab_qa`` for an
export; an export made before exports recorded them gets the SQuAD presets' 384/128/64.

Output row per question, in input order: ``id``, ``answer``, ``start``/``end`` (``context[start:end] ==
answer``; null when unanswered), ``score`` (start + end logit of the answer, or the null score) and
``null_odds``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from bertlab.data.records import read_table, resolve_path
from bertlab.data.squad import SquadExample, check_unique_ids, read_squad_questions
from bertlab.data.squad_features import WINDOW_KEYS, Window, check_lengths, make_windows
from bertlab.errors import ConfigError, DataError
from bertlab.evaluation.span_decoding import ExampleDecoding, WindowLogits, decode_examples
from bertlab.inference import batched_outputs
from bertlab.task_model import TaskModel

FIELDS = ("question", "context")


@dataclass(frozen=True)
class QASettings:
    """Windowing and decoding of one prediction run; ``null_threshold`` inf: never answer ""."""

    max_length: int = 384
    doc_stride: int = 128
    max_query_length: int = 64
    n_best: int = 20
    max_answer_length: int = 30
    null_threshold: float = 0.0


def qa_settings(task_model: TaskModel, **overrides: float | int | None) -> QASettings:
    """The settings the model was evaluated with (run data config, ``config.bertlab_qa``), then ``overrides``
    that are not None (command-line options)."""
    data = task_model.data
    recorded = dict(getattr(task_model.model.config, "bertlab_qa", None) or {})
    threshold = recorded.pop("null_threshold", 0.0)
    recorded.update({key: data[key] for key in WINDOW_KEYS if key in data})
    settings = QASettings(**recorded, null_threshold=math.inf if threshold is None else float(threshold))
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    limit = task_model.model.config.max_position_embeddings
    if settings.max_length > limit:
        settings = replace(settings, max_length=limit)
    try:
        check_lengths(settings.max_length, settings.doc_stride, settings.max_query_length)
    except ValueError as err:
        raise ConfigError(f"--max-length/--doc-stride/--max-query-length: {err}") from err
    return settings


def read_questions(path) -> list[SquadExample]:
    """Questions with their contexts from SQuAD JSON or JSONL (see the module docstring)."""
    resolved = resolve_path(path)
    if resolved.name.removesuffix(".gz").endswith(".json"):
        return read_squad_questions(resolved)
    if not resolved.name.removesuffix(".gz").endswith(".jsonl"):
        raise DataError(
            f"{resolved}: QA inputs are SQuAD JSON (.json, .json.gz) or JSONL (.jsonl, .jsonl.gz)"
        )
    table = read_table(resolved, "jsonl")
    examples = []
    for i, record in enumerate(table.records):
        for key in FIELDS:
            value = record.get(key)
            if not isinstance(value, str) or not value.strip():
                found = "missing" if value is None else repr(value)
                raise DataError(
                    f"{table.where(i)}: field {key!r} must be a non-empty text, found {found} "
                    "(each line holds question, context and optionally id)"
                )
        qid = record.get("id", table.lines[i])
        if not isinstance(qid, str | int) or isinstance(qid, bool):
            raise DataError(f"{table.where(i)}: field 'id' must be a string or an integer, found {qid!r}")
        examples.append(SquadExample(str(qid), "", record["context"], record["question"], ()))
    check_unique_ids([e.id for e in examples], table.path)
    return examples


def window_logits(
    task_model: TaskModel,
    examples: list[SquadExample],
    windows: list[Window],
    batch_size: int,
    dtype: torch.dtype,
) -> dict[int, WindowLogits]:
    """Start/end logits (float32, padding cut off) of every window, keyed by window index."""
    ids = [w.input_ids for w in windows]
    types = [w.token_type_ids for w in windows]
    pad_id = task_model.tokenizer.pad_token_id
    collected = {}
    for batch, output in batched_outputs(task_model.model, ids, types, batch_size, pad_id, dtype):
        start = output.start_logits.float().cpu().numpy()  # (B, T)
        end = output.end_logits.float().cpu().numpy()  # (B, T)
        for row, index in enumerate(batch.tolist()):
            window = windows[index]
            n = len(window.input_ids)
            qid = examples[window.example_index].id
            collected[index] = WindowLogits(qid, start[row, :n], end[row, :n], window.offsets)
    return collected


def answer_row(qid: str, decoding: ExampleDecoding, threshold: float) -> dict:
    """One output row: the answer and its span, or "" with a null span."""
    best = decoding.best(threshold)
    odds = float(decoding.null_odds)
    if best is None:
        return {
            "id": qid,
            "answer": "",
            "start": None,
            "end": None,
            "score": decoding.null_score,
            "null_odds": odds,
        }
    return {
        "id": qid,
        "answer": best.text,
        "start": best.start_char,
        "end": best.end_char,
        "score": best.score,
        "null_odds": odds,
    }


def predict_answers(
    task_model: TaskModel, inputs, settings: QASettings, batch_size: int, dtype: torch.dtype
) -> list[dict]:
    """One row per question of ``inputs``, in input order."""
    examples = read_questions(inputs)
    if not examples:
        raise DataError(f"{inputs}: no questions to answer")
    windows = make_windows(
        examples, task_model.tokenizer, settings.max_length, settings.doc_stride, settings.max_query_length
    )
    logits = window_logits(task_model, examples, windows, batch_size, dtype)
    contexts = {e.id: e.context for e in examples}
    decodings = decode_examples(logits, contexts, settings.n_best, settings.max_answer_length)
    return [answer_row(qid, decoding, settings.null_threshold) for qid, decoding in decodings.items()]
