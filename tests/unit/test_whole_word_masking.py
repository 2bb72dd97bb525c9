"""Whole-word masking: words selected together, the 15% budget in tokens, 80/10/10 per token, keyed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bertlab.data.collators import MLMCollator, continuation_pieces
from bertlab.data.masking import IGNORE_INDEX, MaskingRule, mask_tokens
from bertlab.errors import ConfigError

VOCAB, MASK, CLS, SEP, PAD = 1000, 4, 2, 3, 0
RULE = MaskingRule(mask_token_id=MASK, vocab_size=VOCAB, special_ids=(PAD, CLS, SEP, MASK))
CONTINUATION = np.arange(VOCAB) >= 500  # ids 500.. are "##" pieces


def _words(batch: int, length: int, seed: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    """Rows of [CLS] words [SEP]; a word is a start id (10..499) and 0-3 "##" ids. Also (B, T) word numbers."""
    rng = np.random.default_rng(seed)
    ids = np.empty((batch, length), dtype=np.int64)
    word = np.full((batch, length), -1)
    for row in range(batch):
        ids[row, 0], ids[row, -1], t, w = CLS, SEP, 1, 0
        while t < length - 1:
            size = min(int(rng.integers(1, 5)), length - 1 - t)
            ids[row, t] = rng.integers(10, 500)
            ids[row, t + 1 : t + size] = rng.integers(500, VOCAB, size - 1)
            word[row, t : t + size], t, w = w, t + size, w + 1
    return torch.from_numpy(ids), word


def _mask(ids: torch.Tensor, epoch: int = 0, seed: int = 0):
    n = ids.shape[0]
    return mask_tokens(ids, RULE, seed, np.full(n, epoch), np.arange(n), CONTINUATION)


def test_every_piece_of_a_chosen_word_is_selected_together():
    ids, word = _words(300, 128)
    _, labels = _mask(ids)
    selected = (labels != IGNORE_INDEX).numpy()
    multi = 0
    for row in range(ids.shape[0]):
        for w in np.unique(word[row][word[row] >= 0]):
            picked = selected[row][word[row] == w]
            assert picked.all() or not picked.any()
            multi += picked.all() and len(picked) > 1
    assert multi > 500  # multi-piece words are really chosen, not avoided


def test_budget_is_counted_in_tokens():
    ids, _ = _words(1000, 130)  # ~128k candidates, words of 2.5 pieces on average
    _, labels = _mask(ids)
    rate = (labels != IGNORE_INDEX).sum().item() / (1000 * 128)
    assert abs(rate - 0.15) < 0.003  # not 15% of words (that would be ~37% of tokens here)
    per_row = (labels != IGNORE_INDEX).sum(dim=1)
    assert (
        per_row.max().item() <= 20
    )  # the budget: floor(128 × 0.15 + jitter); an overshooting word is skipped


def test_replacement_is_drawn_per_token_not_per_word():
    ids, word = _words(1000, 130)
    corrupted, labels = _mask(ids)
    selected = labels != IGNORE_INDEX
    n = selected.sum()
    assert abs((corrupted[selected] == MASK).sum() / n - 0.8) < 0.01
    assert abs((selected & (corrupted != MASK) & (corrupted != ids)).sum() / n - 0.1) < 0.01
    assert abs((selected & (corrupted == ids)).sum() / n - 0.1) < 0.01
    mixed = 0  # selected words whose pieces were not all replaced alike
    for row in range(200):
        for w in np.unique(word[row][selected[row].numpy()]):
            kinds = {int(k == MASK) for k in corrupted[row][torch.from_numpy(word[row] == w)]}
            mixed += len(kinds) > 1
    assert mixed > 20  # HF's whole-word collator would give 0 here


def test_specials_never_selected_and_masks_keyed():
    ids, _ = _words(64, 64)
    ids[:, -5:] = PAD
    ids[:, -6] = SEP
    corrupted, labels = _mask(ids, epoch=2)
    special = torch.isin(ids, torch.tensor(RULE.special_ids))
    assert (labels[special] == IGNORE_INDEX).all() and torch.equal(corrupted[special], ids[special])
    single, lsingle = mask_tokens(ids[7:8], RULE, 0, np.array([2]), np.array([7]), CONTINUATION)
    assert torch.equal(lsingle[0], labels[7]) and torch.equal(single[0], corrupted[7])
    assert not torch.equal(_mask(ids, epoch=3)[1], labels)


def test_a_leading_continuation_piece_opens_its_own_word():
    ids = torch.tensor([[CLS, 600, 601, 20, 602, SEP]])  # a block that starts mid-word
    rule = MaskingRule(mask_token_id=MASK, vocab_size=VOCAB, special_ids=RULE.special_ids, probability=0.5)
    groups = set()
    for index in range(200):
        _, labels = mask_tokens(ids, rule, 0, np.array([0]), np.array([index]), CONTINUATION)
        groups.add(tuple((labels[0, 1:5] != IGNORE_INDEX).tolist()))
    assert groups == {(True, True, False, False), (False, False, True, True)}


def test_collator_uses_the_tokenizers_hash_pieces(tiny_tokenizer):
    collate = MLMCollator(tiny_tokenizer, seed=3, masking_unit="word", probability=0.3)
    assert collate.continuation.sum() > 0
    text = "Whereas the unfortunate outrageousness of thy misbehaviour astonisheth everybody"
    row = torch.tensor(tiny_tokenizer(text)["input_ids"])
    pieces = tiny_tokenizer.convert_ids_to_tokens(row.tolist())
    for index in range(50):
        labels = collate([{"input_ids": row, "mask_epoch": 0, "index": index}])["labels"][0]
        chosen = (labels != IGNORE_INDEX).tolist()
        for t in range(2, len(pieces) - 1):
            if pieces[t].startswith("##"):
                assert chosen[t] == chosen[t - 1], (pieces, chosen)


def test_word_unit_refuses_a_vocabulary_without_hash_pieces():
    class ByteLevel:
        def __len__(self) -> int:
            return 3

        def convert_ids_to_tokens(self, ids):
            return ["a", "Ġb", "c"][: len(ids)]

    with pytest.raises(ConfigError, match="masking_unit=word"):
        continuation_pieces(ByteLevel())
