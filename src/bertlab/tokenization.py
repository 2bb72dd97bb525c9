"""Tokenizers: a pretrained WordPiece vocabulary, or one trained on the corpus with HF ``tokenizers``.

Both configs in ``conf/tokenizer/`` instantiate a small spec object whose :meth:`build` returns a
``PreTrainedTokenizerFast``. The trained vocabulary needs the training text, which the datamodule streams
(``KeyedDataModule.training_texts``), so the composition root builds the tokenizer after the datamodule.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

from bertlab import hub, morphemes
from bertlab.atomic import atomic_directory

log = logging.getLogger(__name__)

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
TextSource = Callable[[], Iterable[str]]  # called once per pass over the text
_NORMALIZER_VERSION = 2  # 2: NFC + Hangul-safe accent stripping; vocabularies cached before are not reused


def build_normalizer(lowercase: bool, strip_accents: bool) -> normalizers.Normalizer:
    """BERT's text cleaning and CJK spacing, with lower-casing and accent stripping that keep Hangul whole.

    BERT's own accent stripping NFD-decomposes the text and drops combining marks without recomposing, so
    every Hangul syllable comes out as conjoining jamo ("영화" → 5 code points; a known google-research/bert
    problem). Jamo are letters, not marks: NFD → drop marks → NFC strips "é" to "e" and gives the syllables
    back intact. Other scripts whose vowel signs are marks (Thai, Devanagari) still lose them: use
    ``strip_accents=false`` there.
    """
    steps = [normalizers.NFC(), normalizers.BertNormalizer(lowercase=lowercase, strip_accents=False)]
    if strip_accents:
        steps += [normalizers.NFD(), normalizers.StripAccents(), normalizers.NFC()]
    return normalizers.Sequence(steps)


@dataclass
class PretrainedTokenizer:
    """Load a tokenizer by hub id, local directory or packaged alias (``tokenizer=bert_uncased``)."""

    name_or_path: str = "bert-base-uncased"

    def build(self, texts: TextSource | None = None) -> PreTrainedTokenizerBase:
        target = hub.resolve_vocabulary(self.name_or_path, key="tokenizer.name_or_path")
        try:
            tokenizer = AutoTokenizer.from_pretrained(target)
        except OSError as err:
            raise OSError(
                f"tokenizer.name_or_path={self.name_or_path!r} is neither a local directory nor reachable "
                f"on the hub ({err}). Point it at a directory holding a saved tokenizer."
            ) from err
        if morphemes.is_morpheme_tokenizer(target):  # saved by a tokenizer.morphemes=true run
            return morphemes.MorphemeTokenizerFast.wrap(tokenizer)
        return tokenizer


@dataclass
class WordPieceTrainer:
    """Train a BERT WordPiece vocabulary on the training text (``tokenizer=wordpiece``), cached on disk.

    ``lowercase`` and ``strip_accents`` are separate switches (BERT ties them). Text is NFC-normalised first,
    and accents are stripped Hangul-safely (see :func:`build_normalizer`), so Korean survives either setting.
    ``limit_alphabet`` caps the initial characters kept (None keeps every character seen; Korean BERTs use
    about 6,000 so rare Hanja do not crowd out merges). ``morphemes`` also cuts words at Kiwi's morpheme starts
    (:mod:`bertlab.morphemes`; optional dependency kiwipiepy, needed again to load the saved tokenizer).

    The text is streamed twice, never held in memory: once to hash it (the cache key), once to train on it
    (HF ``tokenizers`` ``train_from_iterator`` consumes an iterator in batches).
    """

    vocab_size: int = 8000
    min_frequency: int = 2
    lowercase: bool = True
    strip_accents: bool = True
    limit_alphabet: int | None = None
    morphemes: bool = False
    cache_dir: str | None = None
    model_max_length: int = 512

    def build(self, texts: TextSource | None = None) -> PreTrainedTokenizerFast:
        if texts is None:
            raise ValueError("tokenizer=wordpiece needs training text; the datamodule provides it")
        if self.cache_dir is None:
            return self._with_morphemes(self._train(texts))
        target = Path(self.cache_dir) / self._cache_key(texts())
        if not (target / "tokenizer.json").is_file():
            tokenizer = self._train(texts)
            with atomic_directory(target, replace=True) as tmp:  # a crash never leaves a half-written cache
                tokenizer.save_pretrained(str(tmp))
        else:
            log.info("reusing WordPiece vocabulary cached at %s", target)
        return self._with_morphemes(PreTrainedTokenizerFast.from_pretrained(str(target)))

    def _with_morphemes(self, tokenizer: PreTrainedTokenizerFast) -> PreTrainedTokenizerFast:
        return morphemes.MorphemeTokenizerFast.wrap(tokenizer) if self.morphemes else tokenizer

    def _cache_key(self, corpus: Iterable[str]) -> str:
        settings = (
            _NORMALIZER_VERSION,
            self.vocab_size,
            self.min_frequency,
            self.lowercase,
            self.strip_accents,
            self.limit_alphabet,
            self.morphemes,
        )
        digest = hashlib.sha256(repr(settings).encode())
        empty = True
        for text in corpus:
            digest.update(text.encode())
            digest.update(b"\n")
            empty = False
        if empty:
            raise ValueError("tokenizer=wordpiece: the training text is empty")
        return f"wordpiece-{self.vocab_size}-{digest.hexdigest()[:16]}"

    def _train(self, texts: TextSource) -> PreTrainedTokenizerFast:
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = build_normalizer(self.lowercase, self.strip_accents)
        tok.pre_tokenizer = morphemes.pre_tokenizer() if self.morphemes else pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        limit = {} if self.limit_alphabet is None else {"limit_alphabet": self.limit_alphabet}
        trainer = trainers.WordPieceTrainer(
            vocab_size=self.vocab_size,
            min_frequency=self.min_frequency,
            special_tokens=list(SPECIAL_TOKENS),
            **limit,  # the binding rejects None
        )
        tok.train_from_iterator(_nonempty(texts()), trainer=trainer)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()  # serialisable; _with_morphemes adds Kiwi back
        cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
        )
        return PreTrainedTokenizerFast(
            tokenizer_object=tok,
            unk_token="[UNK]",
            pad_token="[PAD]",
            cls_token="[CLS]",
            sep_token="[SEP]",
            mask_token="[MASK]",
            model_max_length=self.model_max_length,
        )


def _nonempty(texts: Iterable[str]) -> Iterator[str]:
    """``texts`` unchanged; an error if it yields nothing (a vocabulary of special tokens only is useless)."""
    empty = True
    for text in texts:
        empty = False
        yield text
    if empty:
        raise ValueError("tokenizer=wordpiece: the training text is empty")
