"""BERT masking: rates, special tokens, labels, and keyed determinism."""

from __future__ import annotations

import numpy as np
import torch

from bertlab.data.collators import MLMCollator
from bertlab.data.masking import IGNORE_INDEX, MaskingRule, mask_tokens

VOCAB, MASK, CLS, SEP, PAD = 1000, 4, 2, 3, 0
RULE = MaskingRule(mask_token_id=MASK, vocab_size=VOCAB, special_ids=(PAD, CLS, SEP, MASK))


def _blocks(batch: int, length: int, pad_tail: int = 0) -> torch.Tensor:
    ids = torch.randint(10, VOCAB, (batch, length), generator=torch.Generator().manual_seed(0))
    ids[:, 0], ids[:, -1 - pad_tail] = CLS, SEP
    if pad_tail:
        ids[:, -pad_tail:] = PAD
    return ids


def _mask(ids: torch.Tensor, epoch: int = 0, seed: int = 0):
    n = ids.shape[0]
    return mask_tokens(ids, RULE, seed, np.full(n, epoch), np.arange(n))


def test_rates_within_one_percent_on_100k_tokens():
    ids = _blocks(1000, 130, pad_tail=4)  # 1000 × 124 = 124k candidate tokens
    corrupted, labels = _mask(ids)
    candidates = ~torch.isin(ids, torch.tensor(RULE.special_ids))
    selected = labels != IGNORE_INDEX
    assert abs(selected.sum() / candidates.sum() - 0.15) < 0.01
    n_sel = selected.sum()
    assert abs((corrupted[selected] == MASK).sum() / n_sel - 0.8) < 0.01
    changed_not_mask = selected & (corrupted != MASK) & (corrupted != ids)
    unchanged = selected & (corrupted == ids)
    # a random replacement can draw the original id (p = 1/V); those count as unchanged
    assert abs(changed_not_mask.sum() / n_sel - 0.1) < 0.01
    assert abs(unchanged.sum() / n_sel - 0.1) < 0.01


def test_rate_is_unbiased_for_short_blocks():
    corrupted, labels = _mask(_blocks(4000, 32))  # 30 candidates: 4.5 expected per row
    assert abs((labels != IGNORE_INDEX).float().sum() / (4000 * 30) - 0.15) < 0.005


def test_special_and_pad_never_selected_and_labels_off_selection():
    ids = _blocks(200, 64, pad_tail=10)
    corrupted, labels = _mask(ids)
    special = torch.isin(ids, torch.tensor(RULE.special_ids))
    assert (labels[special] == IGNORE_INDEX).all()
    assert torch.equal(corrupted[special], ids[special])
    selected = labels != IGNORE_INDEX
    assert torch.equal(labels[selected], ids[selected])
    assert torch.equal(corrupted[~selected], ids[~selected])


def test_masks_are_a_pure_function_of_seed_epoch_index():
    ids = _blocks(16, 64)
    a, la = _mask(ids, epoch=3)
    b, lb = _mask(ids, epoch=3)
    assert torch.equal(a, b) and torch.equal(la, lb)
    # the same sample in another batch position / batch gets the same mask
    single, lsingle = mask_tokens(ids[5:6], RULE, 0, np.array([3]), np.array([5]))
    assert torch.equal(single[0], a[5]) and torch.equal(lsingle[0], la[5])
    c, lc = _mask(ids, epoch=4)
    assert not torch.equal(la, lc)
    d, ld = _mask(ids, epoch=3, seed=1)
    assert not torch.equal(la, ld)


def test_collator_keys_masks_by_item_and_adds_attention_mask_only_with_padding(bert_tokenizer):
    collate = MLMCollator(bert_tokenizer, seed=7)
    row = torch.tensor(bert_tokenizer("There is my school and I love this place")["input_ids"])
    items = [{"input_ids": row, "mask_epoch": 0, "index": i} for i in range(8)]
    batch = collate(items)
    assert set(batch) == {"input_ids", "labels"}
    assert torch.equal(collate(items)["labels"], batch["labels"])
    padded = collate([*items[:2], {"input_ids": row[:5], "mask_epoch": 0, "index": 9}])
    assert padded["attention_mask"][2].tolist() == [1] * 5 + [0] * 6
    assert (padded["labels"][2, 5:] == IGNORE_INDEX).all()
