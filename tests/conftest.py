"""Shared test fixtures: offline environment, fixture data, Hydra composition and a tiny tokenizer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["WANDB_MODE"] = "offline"
os.environ["WANDB_SILENT"] = "true"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_DATA = FIXTURES / "data"

# Overrides that make the hand-written fixture corpus big enough for train/val/test splits. Chunks are held out
# by a hash of their text; with split_seed 1301 each split of the fixture t8 holds at least 3 documents (NSP
# draws negatives from another document), and each split of tiny_shakespeare at least one block of 32 tokens.
# The default run reads tiny Shakespeare (one document); these tests read the t8 fixture.
SMALL_SPLITS = [
    "data=shakespeare",
    "data.val_fraction=0.2",
    "data.test_fraction=0.2",
    "data.split_chunk_sentences=4",
    "data.split_seed=1301",
]


def subprocess_env(tmp_path: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of a ``python -m bertlab...`` subprocess: this tree's code first (not the installed
    copy), a private cache under ``tmp_path`` when given, and ``extra`` variables."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    if tmp_path is not None:
        env["BERTLAB_CACHE_DIR"] = str(tmp_path / "cache")
    return {**env, **extra}


def save_run_config(cfg, run_dir: Path) -> Path:
    """Write a composed config to ``<run_dir>/.hydra/config.yaml``, as ``bertlab-train`` (hydra.main) does for
    the runs that tests start with ``train(cfg)``; export and evaluation rebuild runs from it."""
    from omegaconf import OmegaConf, open_dict

    cfg = cfg.copy()
    with open_dict(cfg):
        cfg.pop("hydra", None)
    (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, run_dir / ".hydra" / "config.yaml")
    return run_dir


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets a fresh cache directory; nothing is written to the user's ~/.cache."""
    monkeypatch.setenv("BERTLAB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def real_data_dir() -> Path:
    """The real data sets, located by BERTLAB_DATA_DIR (.ci/run points it at ../shared/data)."""
    value = os.environ.get("BERTLAB_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.skip("BERTLAB_DATA_DIR is not set to the real data directory")
    return Path(value)


def compose_config(output_dir: Path, *overrides: str, data_dir: Path | str = FIXTURE_DATA):
    """Compose ``conf/train.yaml`` with overrides, as ``bertlab-train`` would, writing under ``output_dir``."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from bertlab.config import config_dir, register_schemas

    register_schemas()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = hydra_compose(
            "train", overrides=[f"paths.data_dir={data_dir}", *overrides], return_hydra_config=True
        )
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(output_dir)
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    return cfg


@pytest.fixture
def compose(tmp_path):
    """Compose ``conf/train.yaml`` with overrides, as ``bertlab-train`` would, writing under tmp_path/run."""
    from hydra.core.global_hydra import GlobalHydra

    def _compose(*overrides: str, data_dir: Path | str = FIXTURE_DATA):
        return compose_config(tmp_path / "run", *overrides, data_dir=data_dir)

    yield _compose
    GlobalHydra.instance().clear()


@pytest.fixture(scope="session")
def bert_tokenizer():
    """bert-base-uncased's vocabulary, offline (from the MiniLM package)."""
    from bertlab.tokenization import PretrainedTokenizer

    return PretrainedTokenizer("bert-base-uncased").build()


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """A WordPiece vocabulary trained in memory on the fixture corpus."""
    from bertlab.data.shakespeare import parse_t8
    from bertlab.tokenization import WordPieceTrainer

    works = parse_t8((FIXTURE_DATA / "shakespeare" / "t8.shakespeare.txt").read_text())
    sentences = [s for work in works for s in work]
    return WordPieceTrainer(vocab_size=300, min_frequency=1).build(lambda: sentences)
