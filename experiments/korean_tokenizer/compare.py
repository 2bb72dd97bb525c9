"""Korean WordPiece vocabularies learned with and without the Hangul fix; prints the notebook's tables.

    BERTLAB_DATA_DIR=../shared/data python experiments/korean_tokenizer/compare.py > results.md

Training text: the constitution and the first eight bills (lines, blank lines dropped); held out: the last two
bills. "before" is the normaliser ``tokenizer=wordpiece`` had until this entry (BERT's, accent stripping tied to
lower-casing); "after" the current ``tokenizer=wordpiece`` and ``tokenizer=wordpiece_korean``.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from unittest import mock

from tokenizers import normalizers

from bertlab.tokenization import WordPieceTrainer

JAMO = re.compile("[\u1100-\u11ff]")  # conjoining jamo: what NFD makes of a syllable
EXAMPLES = [
    "대한민국은 민주공화국이다.",
    "모든 국민은 인간으로서의 존엄과 가치를 가진다.",
    "영화가 정말 재밌어요",
]
SETTINGS = {
    "before: wordpiece (BERT normaliser)": dict(vocab_size=8000),
    "after: wordpiece": dict(vocab_size=8000),
    "after: wordpiece_korean": dict(
        vocab_size=32000, lowercase=False, strip_accents=False, limit_alphabet=6000
    ),
}


def read_lines(root: Path) -> tuple[list[str], list[str]]:
    files = [root / "constitution.txt", *sorted((root / "kobill").glob("*.txt"))]
    lines = [[ln for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()] for f in files]
    return [ln for f in lines[:-2] for ln in f], [ln for f in lines[-2:] for ln in f]


def train(name: str, settings: dict, texts: list[str]):
    """Train as ``tokenizer=wordpiece`` does; "before" swaps BERT's own normaliser back in."""
    if not name.startswith("before"):
        return WordPieceTrainer(**settings).build(lambda: texts)
    bert = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    with mock.patch("bertlab.tokenization.build_normalizer", lambda *_: bert):
        return WordPieceTrainer(**settings).build(lambda: texts)


def measure(tokenizer, lines: list[str]) -> dict[str, float]:
    ids = [tokenizer(ln, add_special_tokens=False)["input_ids"] for ln in lines]
    pieces = sum(len(i) for i in ids)
    words = sum(len(ln.split()) for ln in lines)
    # the decoded text as it comes out (no NFC afterwards), against the NFC source, spaces ignored
    squash = lambda s: "".join(s.split())  # noqa: E731
    round_trip = sum(
        squash(tokenizer.decode(i)) == squash(unicodedata.normalize("NFC", ln))
        for i, ln in zip(ids, lines, strict=True)
    )
    return {
        "unk": 100 * sum(i.count(tokenizer.unk_token_id) for i in ids) / pieces,
        "per_word": pieces / words,
        "round_trip": 100 * round_trip / len(lines),
    }


def main() -> None:
    train_lines, held_out = read_lines(Path(os.environ["BERTLAB_DATA_DIR"]) / "korean")
    print(f"training lines {len(train_lines)}, held-out lines {len(held_out)}\n")
    print(
        "| tokenizer | vocabulary | jamo pieces | [UNK] % train | [UNK] % held out | pieces/word held out "
        "| round trip % held out |\n|---|---|---|---|---|---|---|"
    )
    tokenizers = {}
    for name, settings in SETTINGS.items():
        tok = tokenizers[name] = train(name, settings, train_lines)
        jamo = sum(bool(JAMO.search(p)) for p in tok.get_vocab())
        seen, new = measure(tok, train_lines), measure(tok, held_out)
        print(
            f"| {name} | {len(tok)} | {jamo} | {seen['unk']:.2f} | {new['unk']:.2f} | {new['per_word']:.2f} "
            f"| {new['round_trip']:.1f} |"
        )
    print("\n| text | " + " | ".join(tokenizers) + " |\n|---|" + "---|" * len(tokenizers))
    for text in EXAMPLES:
        pieces = [tok.tokenize(text) for tok in tokenizers.values()]
        # conjoining jamo render like syllables: the code point count shows the decomposition
        cells = [
            f"`{' '.join(p)}` ({sum(len(x.removeprefix('##')) for x in p if x != '[UNK]')} code points)"
            for p in pieces
        ]
        print(f"| {text} ({len(''.join(text.split()))} code points) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
