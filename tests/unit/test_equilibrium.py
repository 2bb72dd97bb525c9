"""Equilibrium analysis: per-layer input/output distances for a shared and an unshared encoder, CSV and PNG."""

from __future__ import annotations

import csv

import pytest
import torch

from bertlab import equilibrium
from bertlab.models.encoder import EncoderSpec

TINY = dict(hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=64)


def test_transitions_are_recorded_per_application_of_a_shared_layer():
    torch.manual_seed(0)
    albert = EncoderSpec("albert", embedding_size=16, num_hidden_groups=1, **TINY).build(40, 0).eval()
    ids = torch.randint(5, 40, (2, 7))
    transitions = equilibrium.layer_transitions(albert, {"input_ids": ids})
    assert len(transitions) == 3  # one layer module, applied three times
    for (_, out), (nxt, _) in zip(transitions, transitions[1:], strict=False):
        torch.testing.assert_close(out, nxt)  # each application feeds the next
    with torch.no_grad():
        torch.testing.assert_close(transitions[-1][1], albert(input_ids=ids).last_hidden_state)


def test_metrics_ignore_padding_and_are_exact():
    x = torch.tensor([[[1.0, 0.0], [9.0, 9.0]]])
    y = torch.tensor([[[0.0, 2.0], [1.0, 1.0]]])
    rows = equilibrium.transition_metrics([(x, y)], torch.tensor([[True, False]]))
    assert rows == [{"layer": 1, "l2_distance": pytest.approx(5**0.5), "cosine_similarity": 0.0}]


def test_command_writes_csv_and_png(tmp_path, monkeypatch):
    monkeypatch.setenv("BERTLAB_LOG_DIR", str(tmp_path))
    overrides = ["model@shared=albert_tiny", "model@unshared=bert_tiny", "max_length=16"]
    equilibrium.main(overrides)
    out = tmp_path / "equilibrium"
    rows = list(csv.DictReader((out / "equilibrium.csv").open()))
    assert [r["model"] for r in rows] == ["shared (albert)"] * 2 + ["unshared (bert)"] * 2
    assert all(float(r["l2_distance"]) > 0 and -1 <= float(r["cosine_similarity"]) <= 1 for r in rows)
    assert (out / "equilibrium.png").stat().st_size > 1000
