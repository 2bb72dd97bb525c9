"""data=text: a Hugging Face loader over local data files (offline), and the temporary cache of cache_dir=null."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from bertlab.data.collators import MLMCollator
from bertlab.data.text import TextDataModule
from tests.conftest import FIXTURE_DATA, subprocess_env

TEXT = FIXTURE_DATA / "text"


def test_hf_json_loader_reads_local_data_files_offline(tmp_path, bert_tokenizer, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)  # any hub request would raise
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf")  # not the user's cache
    news = [json.loads(line)["text"] for line in (TEXT / "news.jsonl").read_text().splitlines()]
    files = {"train": str(TEXT / "news.jsonl")}
    for split, text in (
        ("validation", "Held out. On purpose."),
        ("test", "Tested here. Once more, with feeling."),
    ):
        (tmp_path / f"{split}.jsonl").write_text(json.dumps({"text": text}) + "\n")
        files[split] = str(tmp_path / f"{split}.jsonl")
    hf = {
        "path": "json",
        "data_files": files,
        "split": "train",
        "val_split": "validation",
        "test_split": "test",
    }
    dm = TextDataModule(
        data_dir=str(tmp_path), hf=hf, boundary="record", max_length=8, batch_size=2,
        cache_dir=str(tmp_path / "cache"), tokenize_workers=1,
    )  # fmt: skip
    dm.attach(bert_tokenizer, MLMCollator)
    assert [text for _, fixed, text in dm.documents() if fixed is None] == news
    dm.prepare_data()
    dm.setup("fit")
    val = dm.corpora["val"]
    assert bert_tokenizer.decode(val.ids.tolist()) == "held out. on purpose."
    assert dm.corpora["train"].num_documents == len(news) and dm.corpora["test"].num_documents == 1
    assert next(iter(dm.train_dataloader()))["input_ids"].shape == (2, 8)


def test_a_temporary_cache_is_removed_when_the_process_exits(tmp_path):
    script = textwrap.dedent(f"""
        from pathlib import Path
        from bertlab.data.collators import MLMCollator
        from bertlab.data.text import TextDataModule
        from bertlab.tokenization import PretrainedTokenizer
        dm = TextDataModule({str(TEXT)!r}, files=["reviews.txt"], cache_dir=None, tokenize_workers=1, max_length=8)
        dm.attach(PretrainedTokenizer("bert-base-uncased").build(), MLMCollator)
        dm.prepare_data()
        print(Path(dm.corpora["train"].ids.filename).parent.parent.parent)
    """)
    env = subprocess_env(tmp_path, TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    used = out.stdout.strip().splitlines()[-1]
    assert used.startswith(str(tmp_path / "tmp" / "bertlab-text-"))
    assert list((tmp_path / "tmp").iterdir()) == []
