"""Korean morpheme pre-tokenization with Kiwi for WordPiece (``tokenizer.morphemes=kiwi``).

After BERT's whitespace/punctuation split, every word is cut at Kiwi's morpheme starts ("대한민국은" → "대한민국",
"은"), so the vocabulary is learned over morphemes (as KLUE's Mecab-based tokenizer) and whole-word masking
(``data.masking_unit=word``) masks morphemes. Only offsets are used: the pieces are the original characters,
never Kiwi's restored forms ("했" stays "했", not "하" + "었").

HF ``tokenizers`` cannot serialise a Python pre-tokenizer, so :class:`MorphemeTokenizerFast` saves
``tokenizer.json`` with BERT's pre-tokenizer plus a marker file, and its ``tokenizer_config.json`` names its
own class: ``AutoTokenizer`` alone cannot build it (it would split only at spaces), bertlab re-attaches Kiwi
when it loads the directory. Needs ``pip install 'bertlab[korean]'`` (kiwipiepy) to train and to load.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from tokenizers import NormalizedString, PreTokenizedString, Tokenizer, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from bertlab.atomic import write_text
from bertlab.errors import ConfigError

MARKER = "bertlab_morphemes.json"


@lru_cache(maxsize=1)
def _kiwi():
    try:
        from kiwipiepy import Kiwi
    except ImportError as err:
        raise ConfigError(
            "tokenizer.morphemes=kiwi needs the optional dependency kiwipiepy: pip install 'bertlab[korean]'"
        ) from err
    return Kiwi()


def morpheme_cuts(word: str) -> list[int]:
    """Character offsets where Kiwi's morphemes of ``word`` start, after 0, ending with ``len(word)``."""
    starts = {token.start for token in _kiwi().tokenize(word)}
    return sorted({s for s in starts if 0 < s < len(word)} | {len(word)})


class KiwiMorphemes:
    """A custom ``tokenizers`` pre-tokenizer step: split each pre-token at its morpheme starts."""

    @staticmethod
    def _split(_: int, word: NormalizedString) -> list[NormalizedString]:
        pieces, start = [], 0
        for end in morpheme_cuts(str(word)):
            pieces.append(word[start:end])
            start = end
        return pieces

    def pre_tokenize(self, pretok: PreTokenizedString) -> None:
        pretok.split(self._split)


def pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    """BERT's pre-tokenizer, then Kiwi's morpheme cuts."""
    _kiwi()  # fail early, naming the missing package
    return pre_tokenizers.Sequence(
        [pre_tokenizers.BertPreTokenizer(), pre_tokenizers.PreTokenizer.custom(KiwiMorphemes())]
    )


def attach(tokenizer: PreTrainedTokenizerFast) -> None:
    tokenizer.backend_tokenizer.pre_tokenizer = pre_tokenizer()


def is_morpheme_tokenizer(directory: str | Path) -> bool:
    return (Path(directory) / MARKER).is_file()


class MorphemeTokenizerFast(PreTrainedTokenizerFast):
    """A fast WordPiece tokenizer whose words are Kiwi morphemes; saves and loads as the module docstring says."""

    @classmethod
    def wrap(cls, plain: PreTrainedTokenizerFast) -> MorphemeTokenizerFast:
        """The same vocabulary and special tokens as ``plain``, with Kiwi's cuts after BERT's split."""
        return _rebuild(plain.backend_tokenizer.to_str(), _init_kwargs(plain))

    def save_pretrained(self, save_directory, *args, **kwargs):
        self.backend_tokenizer.pre_tokenizer = (
            pre_tokenizers.BertPreTokenizer()
        )  # what tokenizer.json can hold
        try:
            saved = super().save_pretrained(save_directory, *args, **kwargs)
        finally:
            attach(self)
        write_text(
            Path(save_directory) / MARKER, json.dumps({"pre_tokenizer": "kiwi", "package": "kiwipiepy"})
        )
        return saved

    def _plain_json(self) -> str:
        """tokenizer.json with BERT's pre-tokenizer in place of the Kiwi step."""
        self.backend_tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        try:
            return self.backend_tokenizer.to_str()
        finally:
            attach(self)

    def __reduce__(
        self,
    ):  # DataLoader workers and deepcopy pickle the tokenizer: rebuild it on the other side
        return _rebuild, (self._plain_json(), _init_kwargs(self))


def _init_kwargs(tokenizer: PreTrainedTokenizerFast) -> dict:
    return {**tokenizer.special_tokens_map, "model_max_length": tokenizer.model_max_length}


def _rebuild(tokenizer_json: str, kwargs: dict) -> MorphemeTokenizerFast:
    tokenizer = MorphemeTokenizerFast(tokenizer_object=Tokenizer.from_str(tokenizer_json), **kwargs)
    attach(tokenizer)
    return tokenizer
