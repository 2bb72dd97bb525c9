"""Korean sentence splitting on hand-written paragraphs (plain rule, and Kiwi when installed)."""

from __future__ import annotations

import pytest

from bertlab.data.corpus import split_sentences
from bertlab.data.korean_sentences import kiwi_split_sentences, split_korean_sentences

REVIEW = "이 영화 정말 재밌어요! 배우들 연기가 좋았다. 그런데 결말은 왜 그랬을까? 다음 편도 볼 거예요."
REVIEW_SENTENCES = [
    "이 영화 정말 재밌어요!",
    "배우들 연기가 좋았다.",
    "그런데 결말은 왜 그랬을까?",
    "다음 편도 볼 거예요.",
]


def test_korean_endings_split_where_the_english_rule_already_does():
    assert split_korean_sentences(REVIEW) == REVIEW_SENTENCES


def test_mixed_korean_and_english():
    text = "BERT는 2018년에 나왔다. It was trained on English text. 한국어 모델은 KoBERT가 있죠? Yes."
    assert split_korean_sentences(text) == [
        "BERT는 2018년에 나왔다.",
        "It was trained on English text.",
        "한국어 모델은 KoBERT가 있죠?",
        "Yes.",
    ]


def test_numbers_dates_enumerators_and_quotes_do_not_end_a_sentence():
    law = "1. 제안이유 가. 국회의 권한을 정한다. 나. 시행일은 2010. 11. 12.로 한다. 비율은 3.5%이다."
    assert split_korean_sentences(law) == [
        "1. 제안이유 가. 국회의 권한을 정한다.",
        "나. 시행일은 2010. 11. 12.로 한다.",
        "비율은 3.5%이다.",
    ]
    quoted = '그는 "정말 좋다." 라고 말했다. 모두 웃었다…… 그리고 끝났다.'
    assert split_korean_sentences(quoted) == [
        '그는 "정말 좋다." 라고 말했다.',
        "모두 웃었다……",
        "그리고 끝났다.",
    ]


def test_closing_quotes_stay_with_their_sentence_and_full_width_marks_end():
    assert split_korean_sentences("“이게 뭐야?” 그가 물었다。 답은 없었다！") == [
        "“이게 뭐야?”",
        "그가 물었다。",
        "답은 없었다！",
    ]


def test_english_paragraph_agrees_with_the_english_rule():
    text = "To be, or not to be. That is the question! Whether 'tis nobler? HAMLET. Ay."
    assert split_korean_sentences(text) == split_sentences(text)


def test_kiwi_finds_sentences_without_punctuation():
    pytest.importorskip("kiwipiepy")
    sentences = kiwi_split_sentences("영화 정말 재밌어요 강추합니다 그런데 결말은 좀 아쉬웠다.")
    assert sentences[0] == "영화 정말 재밌어요" and sentences[-1].endswith("아쉬웠다.")
    assert len(sentences) == 3
