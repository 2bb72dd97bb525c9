"""Shakespeare, the presets ``data=shakespeare`` (t8) and ``data=shakespeare_tiny`` of ``data=text``.

``t8.shakespeare.txt`` (MIT OCW 6.006, Project Gutenberg etext #100) is the file of the source chapter's
pretraining run (Block 7). Its cleaner :func:`t8_works` removes the licence header and the notice repeated
between works and cuts the file into works (ending at ``THE END``), one document each. Tiny Shakespeare
(char-rnn) has no work boundaries and is one document (``data.boundary=file``). Both files are found in the
data directory (also as ``.gz``) or downloaded once and checked against their sha256.
"""

from __future__ import annotations

import re

from bertlab.data import files
from bertlab.data.corpus import paragraphs_to_sentences

SOURCES = {
    "t8": files.RemoteFile(
        "shakespeare",
        "t8.shakespeare.txt",
        "https://ocw.mit.edu/ans7870/6/6.006/s08/lecturenotes/files/t8.shakespeare.txt",
        "c5601d266987ac885ca96522b1b4e439feb7eca39f0fe1111f7342b63b6468f3",
    ),
    "tiny": files.RemoteFile(
        "shakespeare",
        "tiny_shakespeare.txt",
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        packaged="tiny_shakespeare.txt.gz",  # public domain, 0.43 MB: the default run needs no data directory
    ),
}

KNOWN_FILES = {f"{remote.subdir}/{remote.name}": remote for remote in SOURCES.values()}

_NOTICE = re.compile(r"<<.*?>>", re.DOTALL)
_YEAR_LINE = re.compile(r"^\s*\d{4}\s*$", re.MULTILINE)
_THE_END = re.compile(r"^\s*THE END\s*$", re.MULTILINE)


def t8_works(text: str) -> list[str]:
    """The cleaner of ``data=shakespeare``: the works of the Gutenberg complete-works file, each as its text,
    without the licence header, the notices between works and each work's year line."""
    first_work = _YEAR_LINE.search(text)
    if first_work is None:
        return []
    body = _NOTICE.sub("\n", text[first_work.start() :])
    return [
        _YEAR_LINE.sub("", piece, count=1)
        for piece in _THE_END.split(body)
        if not piece.strip().startswith("End of this Etext")
    ]


def parse_t8(text: str) -> list[list[str]]:
    """Works of the complete-works file, each as a list of sentences (empty works dropped)."""
    return [s for s in (paragraphs_to_sentences(work) for work in t8_works(text)) if s]


def parse_tiny(text: str) -> list[list[str]]:
    sentences = paragraphs_to_sentences(text)
    return [sentences] if sentences else []
