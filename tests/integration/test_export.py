"""Hugging Face export round trip: the AutoModel classes load the export and reproduce bertlab's outputs."""

from __future__ import annotations

import torch
from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

from bertlab.export import export_pretrained, export_run
from bertlab.train import build, train
from tests.conftest import SMALL_SPLITS, save_run_config


def _batch(tokenizer) -> dict[str, torch.Tensor]:
    encoded = tokenizer(["to be or not to be", "that is the question"], padding=True, return_tensors="pt")
    encoded["input_ids"][:, 2] = tokenizer.mask_token_id
    return dict(encoded)


def test_mlm_export_round_trip(compose, tmp_path):
    cfg = compose("debug=smoke", "objective=mlm", "model=bert_tiny")
    datamodule, module = build(cfg)
    module.eval()
    out = export_pretrained(module, datamodule.tokenizer, tmp_path / "hf")
    batch = _batch(AutoTokenizer.from_pretrained(out))
    with torch.no_grad():
        hidden = module.encoder(**batch).last_hidden_state
        ours = module.head(hidden.flatten(0, 1), module.encoder.get_input_embeddings().weight)
        theirs = AutoModelForMaskedLM.from_pretrained(out).eval()(**batch).logits.flatten(0, 1)
        encoder = AutoModel.from_pretrained(out).eval()(**batch).last_hidden_state
    torch.testing.assert_close(theirs, ours, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(encoder, hidden, rtol=1e-5, atol=1e-5)


def test_training_exports_and_the_export_fine_tunes_as_pretrained(compose, tmp_path):
    cfg = compose("debug=smoke", *SMALL_SPLITS, "data.max_length=32", "export=true")
    train(cfg)
    run_dir = tmp_path / "run"
    save_run_config(cfg, run_dir)
    assert (run_dir / "hf" / "config.json").is_file() and (run_dir / "hf" / "tokenizer.json").is_file()
    again = export_run(run_dir, out=tmp_path / "again")
    assert AutoModelForMaskedLM.from_pretrained(again).config.model_type == "bert"
    follow_up = compose(
        "debug=smoke",
        *SMALL_SPLITS,
        "data.max_length=32",
        "model=pretrained",
        f"model.path={run_dir / 'hf'}",
        f"tokenizer.name_or_path={run_dir / 'hf'}",
    )
    _, module = build(follow_up)
    exported = AutoModel.from_pretrained(run_dir / "hf")
    for name, tensor in exported.state_dict().items():
        if not name.startswith("pooler"):
            assert torch.equal(module.encoder.state_dict()[name], tensor)


def test_clm_export_round_trip(compose, tmp_path):
    from transformers import AutoModelForCausalLM

    datamodule, module = build(compose("debug=smoke", "objective=clm", "model=gpt2_tiny"))
    module.eval()
    out = export_pretrained(module, datamodule.tokenizer, tmp_path / "hf")
    batch = {"input_ids": torch.tensor([[101, 2000, 2022, 2030, 2025, 102]])}
    with torch.no_grad():
        theirs = AutoModelForCausalLM.from_pretrained(out).eval()(**batch).logits
        torch.testing.assert_close(theirs, module(batch), rtol=1e-5, atol=1e-5)


def test_rtd_export_round_trip(compose, tmp_path):
    from transformers import ElectraForMaskedLM, ElectraForPreTraining

    cfg = compose("debug=smoke", "objective=rtd", "model=bert_tiny", "objective.module.generator_ratio=0.5")
    datamodule, module = build(cfg)
    module.eval()
    out = export_pretrained(module, datamodule.tokenizer, tmp_path / "hf")
    batch = _batch(datamodule.tokenizer)
    with torch.no_grad():
        ours = module.rtd_head(module.encoder(**batch).last_hidden_state)
        theirs = ElectraForPreTraining.from_pretrained(out).eval()(**batch).logits
        torch.testing.assert_close(theirs, ours.reshape(theirs.shape), rtol=1e-5, atol=1e-5)
        hidden = module.generator(**batch).last_hidden_state
        ours_gen = module.generator_head(hidden.flatten(0, 1), module.encoder.get_input_embeddings().weight)
        theirs_gen = (
            ElectraForMaskedLM.from_pretrained(out / "generator").eval()(**batch).logits.flatten(0, 1)
        )
        torch.testing.assert_close(theirs_gen, ours_gen, rtol=1e-5, atol=1e-5)
    assert AutoModel.from_pretrained(out).config.model_type == "electra"
