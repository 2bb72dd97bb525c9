"""``compile=true`` compiles the encoder in place: checkpoints and exports keep plain parameter names."""

from __future__ import annotations

import pytest
import torch

from bertlab.export import export_pretrained
from bertlab.train import build, train
from tests.conftest import SMALL_SPLITS


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_compiled_run_has_no_orig_mod_keys(compose, tmp_path):
    cfg = compose("debug=smoke", *SMALL_SPLITS, "data.max_length=32", "compile=true")
    assert train(cfg) is not None
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert state and not any("_orig_mod" in key for key in state)
    datamodule, module = build(cfg)
    assert module.encoder._compiled_call_impl is not None  # really compiled, in place
    exported = export_pretrained(module, datamodule.tokenizer, tmp_path / "hf")
    from safetensors.torch import load_file

    assert not any("_orig_mod" in key for key in load_file(exported / "model.safetensors"))
