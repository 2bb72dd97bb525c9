"""Korean sentence splitting: plain functions ``str -> list[str]`` for the text layer's pluggable splitter.

The English rule (:func:`bertlab.data.corpus.split_sentences`) relies on capitals; Korean has none, and its
sentences end in a verb ending and punctuation ("…했다.", "…해요.", "…할까?"). :func:`split_korean_sentences`
is a dependency-free rule for edited text (news, law, Wikipedia); :func:`kiwi_split_sentences` asks Kiwi's
model (``pip install 'bertlab[korean]'``), which also finds sentence ends without punctuation, as in
user reviews ("재밌어요 강추합니다").
"""

from __future__ import annotations

import re
from functools import lru_cache

from bertlab.errors import ConfigError

# Sentence-final punctuation (ASCII, ellipsis, full-width), then closing quotes/brackets, then whitespace. The
# character before must not be a digit ("2010. 11. 12.", "3.5", "1. 제안이유"), a capital ("HAMLET.") or a
# space; a quotative particle after the space ("…했다." 라고) continues the sentence.
_END = re.compile(
    r"(?<=[^\sA-Z0-9])([.!?…。！？]+['\"”’)\]」』]*)\s+(?!(?:이?라|하)고\b)",
)
# Korean enumerators ("가. 나. 다." in laws and bills) look like one-syllable sentences.
_ENUMERATOR = re.compile(r"(?:^|\s)[가나다라마바사아자차카타파하]$")


def split_korean_sentences(paragraph: str) -> list[str]:
    """Split a paragraph (lines already joined by spaces) at sentence-final punctuation; Korean and English.

    >>> split_korean_sentences("정말 재밌어요. 또 볼까? BERT is great. 그렇다.")
    ['정말 재밌어요.', '또 볼까?', 'BERT is great.', '그렇다.']
    """
    sentences, start = [], 0
    for match in _END.finditer(paragraph):
        if _ENUMERATOR.search(paragraph[start : match.start(1)]):
            continue
        sentences.append(paragraph[start : match.end(1)])
        start = match.end()
    sentences.append(paragraph[start:])
    return [s.strip() for s in sentences if s.strip()]


@lru_cache(maxsize=1)
def _kiwi():
    try:
        from kiwipiepy import Kiwi
    except ImportError as err:
        raise ConfigError(
            "kiwi_split_sentences needs the optional dependency kiwipiepy: pip install 'bertlab[korean]' "
            "(or use bertlab.data.korean_sentences.split_korean_sentences, which needs nothing)"
        ) from err
    return Kiwi()


def kiwi_split_sentences(paragraph: str) -> list[str]:
    """Split with Kiwi's sentence model (kiwipiepy), which also handles missing punctuation."""
    return [s.text.strip() for s in _kiwi().split_into_sents(paragraph) if s.text.strip()]
