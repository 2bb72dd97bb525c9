"""Score an exported QA model on the v2 articles of the local split's *training* half (a diagnostic).

    python experiments/squad_v2_local/score_training_articles.py <run>/hf [--data-dir ../shared/data]

The evaluation articles tell how well the model generalises; the training articles tell what it learned. A model
that abstains on the training articles' unanswerable questions but not on the evaluation's has memorised which
contexts carry unanswerable questions rather than learned to judge a question against its context.
The windows, decoding and metric are bertlab's own (``make_windows``, ``span_decoding``, ``squad_v2``).
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch
from transformers import AutoModelForQuestionAnswering, AutoTokenizer

from bertlab.data import files
from bertlab.data.squad import read_squad, split_by_title
from bertlab.data.squad_datamodule import SOURCES, training_titles
from bertlab.data.squad_features import make_windows
from bertlab.evaluation import span_decoding, squad_v2
from bertlab.objectives.extractive_qa import complete_examples


def window_logits(model, windows, batch_size: int = 64) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Start/end logits of every window (length-sorted batches, padded per batch)."""
    collected = {}
    order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
    with torch.inference_mode():
        for begin in range(0, len(order), batch_size):
            rows = order[begin : begin + batch_size]
            width = max(len(windows[i].input_ids) for i in rows)
            ids, types, mask = (torch.zeros(len(rows), width, dtype=torch.long) for _ in range(3))
            for r, i in enumerate(rows):
                n = len(windows[i].input_ids)
                ids[r, :n] = torch.from_numpy(windows[i].input_ids.astype(np.int64))
                types[r, :n] = torch.from_numpy(windows[i].token_type_ids.astype(np.int64))
                mask[r, :n] = 1
            out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
            for r, i in enumerate(rows):
                n = len(windows[i].input_ids)
                collected[i] = (
                    out.start_logits[r, :n].float().numpy(),
                    out.end_logits[r, :n].float().numpy(),
                )
    return collected


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", help="an exported QA model directory (<run>/hf)")
    parser.add_argument("--data-dir", default=os.environ.get("BERTLAB_DATA_DIR", "data"))
    parser.add_argument("--max-seq-length", type=int, default=384)
    parser.add_argument("--doc-stride", type=int, default=128)
    args = parser.parse_args()
    examples = read_squad(files.resolve(SOURCES["cs224n-dev-v2.0"], args.data_dir), training=False)
    train = split_by_title(examples, training_titles([e.title for e in examples]))[0]
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForQuestionAnswering.from_pretrained(args.model).eval()
    windows = make_windows(train, tokenizer, args.max_seq_length, args.doc_stride, 64)
    contexts, logits = complete_examples(train, windows, window_logits(model, windows))
    predictions = span_decoding.decode(logits, contexts, 20, 30, 0.0)
    golds = {e.id: [a.text for a in e.answers] for e in train}
    metrics = squad_v2.evaluate(golds, predictions.best_non_null, predictions.null_odds, 0.0)
    print(json.dumps({k: round(float(v), 2) for k, v in metrics.items()}, indent=1))


if __name__ == "__main__":
    main()
