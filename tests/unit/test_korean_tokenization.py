"""WordPiece keeps Hangul whole: NFC, separate accent stripping, round trips, [UNK] share on real Korean."""

from __future__ import annotations

import re
import unicodedata

import pytest
from tokenizers import normalizers

from bertlab.tokenization import WordPieceTrainer, build_normalizer

KOREAN = ["영화가 정말 재밌어요.", "대한민국은 민주공화국이다.", "서울에서 부산까지 기차로 갔다."]
MIXED = ["BERT 모델을 Korean 데이터로 학습했다.", "오늘 Seoul의 날씨는 맑음, 기온은 20도입니다."]
LATIN = ["Le café était naïve et déjà fermé.", "Señor Müller aß crème brûlée."]
JAMO = re.compile("[\u1100-\u11ff]")  # conjoining jamo, what NFD makes of a syllable


def _squash(text: str) -> str:
    return "".join(text.split())


def _train(**settings):
    corpus = (KOREAN + MIXED + LATIN) * 10
    return WordPieceTrainer(vocab_size=400, min_frequency=1, **settings).build(lambda: corpus)


def test_bert_normalizer_decomposes_hangul_ours_does_not():
    text = "영화가 정말 재밌어요"
    broken = normalizers.BertNormalizer(lowercase=True, strip_accents=True).normalize_str(text)
    assert JAMO.search(broken) and len(broken) > len(text)  # the bug being fixed
    for lowercase in (True, False):
        for strip in (True, False):
            assert build_normalizer(lowercase, strip).normalize_str(text) == text


def test_normalizer_composes_nfc_and_strips_latin_accents_only_when_asked():
    decomposed = unicodedata.normalize("NFD", "Café 한국어")
    assert build_normalizer(False, False).normalize_str(decomposed) == "Café 한국어"
    assert build_normalizer(True, True).normalize_str(decomposed) == "cafe 한국어"
    assert build_normalizer(True, False).normalize_str("CAFÉ") == "café"


@pytest.mark.parametrize("text", KOREAN + MIXED + LATIN)
def test_korean_preset_round_trips_up_to_spacing(text):
    tokenizer = _train(lowercase=False, strip_accents=False, limit_alphabet=6000)
    ids = tokenizer(text)["input_ids"]
    assert tokenizer.unk_token_id not in ids
    assert _squash(tokenizer.decode(ids, skip_special_tokens=True)) == _squash(text)


def test_english_default_still_lowercases_and_strips_but_keeps_hangul():
    tokenizer = _train()  # the dataclass defaults are tokenizer=wordpiece's: lowercase + strip accents
    assert not any(JAMO.search(piece) for piece in tokenizer.get_vocab())
    decoded = tokenizer.decode(tokenizer(MIXED[0] + " " + LATIN[0])["input_ids"], skip_special_tokens=True)
    assert _squash(decoded) == _squash(
        "bert 모델을 korean 데이터로 학습했다. le cafe etait naive et deja ferme."
    )


def test_limit_alphabet_caps_the_initial_characters():
    full = _train(lowercase=False, strip_accents=False)
    capped = _train(lowercase=False, strip_accents=False, limit_alphabet=20)
    single = lambda tok: {p for p in tok.get_vocab() if len(p) == 1}  # noqa: E731
    assert len(single(capped)) < len(single(full))
    assert capped.unk_token_id in capped(KOREAN[0])["input_ids"]


def test_cache_key_separates_normalisation_settings(tmp_path):
    corpus = KOREAN * 5
    for strip in (True, False):
        WordPieceTrainer(vocab_size=100, min_frequency=1, strip_accents=strip, cache_dir=str(tmp_path)).build(
            lambda: corpus
        )
    assert len(list(tmp_path.iterdir())) == 2


@pytest.mark.realdata
def test_unk_share_on_the_real_korean_corpus_is_below_one_percent(real_data_dir):
    files = [
        real_data_dir / "korean" / "constitution.txt",
        *sorted((real_data_dir / "korean" / "kobill").glob("*")),
    ]
    lines = [line for f in files for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    tokenizer = WordPieceTrainer(
        vocab_size=32000, lowercase=False, strip_accents=False, limit_alphabet=6000
    ).build(lambda: lines)
    ids = [i for line in lines for i in tokenizer(line, add_special_tokens=False)["input_ids"]]
    assert len(ids) > 20000  # ~22k pieces
    assert sum(i == tokenizer.unk_token_id for i in ids) / len(ids) < 0.01
    assert not any(JAMO.search(piece) for piece in tokenizer.get_vocab())
    sample = lines[:200]
    decoded = [tokenizer.decode(tokenizer(line)["input_ids"], skip_special_tokens=True) for line in sample]
    assert [_squash(d) for d in decoded] == [_squash(unicodedata.normalize("NFC", s)) for s in sample]


def test_morpheme_pre_tokenizer_trains_saves_and_loads(tmp_path):
    pytest.importorskip("kiwipiepy")
    import copy

    from transformers import AutoTokenizer

    from bertlab.morphemes import MorphemeTokenizerFast
    from bertlab.tokenization import PretrainedTokenizer

    settings = dict(lowercase=False, strip_accents=False, morphemes=True, cache_dir=str(tmp_path / "cache"))
    tokenizer = _train(**settings)
    pieces = tokenizer.tokenize("대한민국은 민주공화국이다.")
    assert pieces[:2] == ["대한민국", "은"] and "##은" not in pieces  # the particle is a word of its own
    text = MIXED[0]
    ids = tokenizer(text)["input_ids"]
    assert _squash(tokenizer.decode(ids, skip_special_tokens=True)) == _squash(text)
    again = _train(**settings)  # from the cache: Kiwi re-attached
    assert isinstance(again, MorphemeTokenizerFast) and again(text)["input_ids"] == ids
    tokenizer.save_pretrained(str(tmp_path / "saved"))
    loaded = PretrainedTokenizer(str(tmp_path / "saved")).build()
    assert loaded(text)["input_ids"] == ids
    assert (
        AutoTokenizer.from_pretrained(str(tmp_path / "saved"))(text)["input_ids"] != ids
    )  # why bertlab loads it
    assert copy.deepcopy(tokenizer)(text)["input_ids"] == ids  # DataLoader workers pickle it
