"""Every export writes a Hugging Face model card; --push-to-hub uploads it (the hub client is replaced)."""

from __future__ import annotations

import sys

import yaml
from huggingface_hub import ModelCard

from bertlab import export, model_card
from bertlab.train import train
from tests.conftest import save_run_config


class FakeHub:
    """Records what would go over the network."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def create_repo(self, repo_id, repo_type, exist_ok):
        self.calls.append(("create_repo", repo_id, repo_type, exist_ok))

    def upload_folder(self, folder_path, repo_id, repo_type):
        self.calls.append(
            ("upload_folder", sorted(p.name for p in __import__("pathlib").Path(folder_path).iterdir()))
        )
        return "https://huggingface.co/me/model/commit/abc"


def test_export_writes_a_card_with_labels_metrics_and_the_command_and_pushes_it(
    compose, tmp_path, monkeypatch
):
    overrides = ["experiment=glue", "data=glue_sst2", "debug=smoke", "data.batch_size=2"]
    cfg = compose(*overrides)
    train(cfg)
    run_dir = tmp_path / "run"
    save_run_config(cfg, run_dir)
    (run_dir / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    fake = FakeHub()
    monkeypatch.setattr(model_card, "HfApi", lambda: fake)
    out = tmp_path / "exported"
    monkeypatch.setattr(
        sys, "argv", ["bertlab-export", str(run_dir), "--out", str(out), "--push-to-hub", "me/model"]
    )
    export.main()

    card = ModelCard.load(out / "README.md")  # the Hub's own parser reads the metadata
    assert card.data.library_name == "transformers" and card.data.pipeline_tag == "text-classification"
    assert "sequence_classification" in card.data.tags
    text = (out / "README.md").read_text()
    assert "0=negative, 1=positive" in text
    assert "| val/accuracy |" in text and "| test/accuracy |" in text
    assert "bertlab-train experiment=glue data=glue_sst2 debug=smoke data.batch_size=2" in text
    assert "glue_data/SST-2/train.tsv" in text  # the data and its source
    assert fake.calls[0] == ("create_repo", "me/model", "model", True)
    assert (
        fake.calls[1][0] == "upload_folder"
        and "README.md" in fake.calls[1][1]
        and "config.json" in fake.calls[1][1]
    )


def test_a_module_exported_without_a_run_still_gets_a_card(compose, tmp_path):
    from bertlab.build import build

    datamodule, module = build(compose("debug=smoke", "objective=mlm", "model=bert_tiny"))
    out = export.export_pretrained(module, datamodule.tokenizer, tmp_path / "hf")
    card = ModelCard.load(out / "README.md")
    assert card.data.library_name == "transformers" and "bertlab" in card.data.tags
    assert "Reproduce" not in card.text
