"""trainer.precision=auto: the probe's decision, its cache, CUDA and DDP rules, and explicit values winning."""

from __future__ import annotations

import json
import time

import pytest
import torch

from bertlab import precision
from bertlab.precision import choose_cpu_precision, resolve_precision


@pytest.mark.parametrize(
    ("fp32_seconds", "bf16_seconds", "expected"),
    [
        (1.0, 0.25, "bf16-mixed"),  # bf16 4× faster (the AVX512-BF16 EPYC kind)
        (1.0, 2.0, "32-true"),  # bf16 at half speed (the Xeon kind)
        (1.0, 0.9, "32-true"),  # faster, but not clearly
        (1.25, 1.0, "bf16-mixed"),  # exactly the margin
    ],
)
def test_choice_follows_the_measured_times(fp32_seconds, bf16_seconds, expected):
    assert choose_cpu_precision(fp32_seconds, bf16_seconds) == expected


def _inject_rates(monkeypatch, fp32: float, bf16: float) -> list[tuple[int, int]]:
    calls = []

    def fake_probe(hidden, inner):
        calls.append((hidden, inner))
        return {"fp32": fp32, "bf16": bf16}

    monkeypatch.setattr(precision, "probe_cpu", fake_probe)
    return calls


def test_auto_on_cpu_probes_at_the_run_width_and_caches(monkeypatch, tmp_path):
    calls = _inject_rates(monkeypatch, fp32=200e9, bf16=800e9)
    first = resolve_precision("auto", "cpu", 256, 1024, cache_dir=tmp_path)
    assert (first.precision, first.source, first.bf16_gflops, first.fp32_gflops) == (
        "bf16-mixed",
        "probe",
        800,
        200,
    )
    assert calls == [(256, 1024)]
    again = resolve_precision("auto", "cpu", 256, 1024, cache_dir=tmp_path)
    assert (again.precision, again.source, again.bf16_gflops) == ("bf16-mixed", "cached", 800)
    assert len(calls) == 1
    resolve_precision("auto", "cpu", 384, 1536, cache_dir=tmp_path)  # another width: its own probe
    assert calls[-1] == (384, 1536)


def test_cache_is_per_cpu_model_and_torch_version(monkeypatch, tmp_path):
    calls = _inject_rates(monkeypatch, fp32=300e9, bf16=150e9)
    assert resolve_precision("auto", "cpu", 64, 256, cache_dir=tmp_path).precision == "32-true"
    monkeypatch.setattr(precision, "cpu_model", lambda: "another CPU")
    resolve_precision("auto", "cpu", 64, 256, cache_dir=tmp_path)
    monkeypatch.setattr(torch, "__version__", "0.0.0")
    resolve_precision("auto", "cpu", 64, 256, cache_dir=tmp_path)
    assert len(calls) == 3
    assert len(list((tmp_path / "precision").glob("probe-*.json"))) == 3


def test_unreadable_cache_is_measured_again(monkeypatch, tmp_path):
    calls = _inject_rates(monkeypatch, fp32=300e9, bf16=150e9)
    resolve_precision("auto", "cpu", 64, 256, cache_dir=tmp_path)
    (cached,) = (tmp_path / "precision").glob("probe-*.json")
    cached.write_text("{not json")
    assert resolve_precision("auto", "cpu", 64, 256, cache_dir=tmp_path).source == "probe"
    assert len(calls) == 2
    assert json.loads(cached.read_text())["choice"]["precision"] == "32-true"


@pytest.mark.parametrize("explicit", ["32-true", "bf16-mixed", "16-mixed"])
@pytest.mark.parametrize("accelerator", ["cpu", "gpu"])
def test_explicit_precision_wins_without_probing(monkeypatch, tmp_path, explicit, accelerator):
    calls = _inject_rates(monkeypatch, fp32=1e9, bf16=100e9)
    choice = resolve_precision(explicit, accelerator, 256, 1024, cache_dir=tmp_path)
    assert (choice.precision, choice.source) == (explicit, "explicit")
    assert calls == []


@pytest.mark.parametrize(("bf16_supported", "expected"), [(True, "bf16-mixed"), (False, "16-mixed")])
def test_auto_on_cuda_uses_what_the_gpu_supports(monkeypatch, bf16_supported, expected):
    calls = _inject_rates(monkeypatch, fp32=1e9, bf16=1e9)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16_supported)
    assert resolve_precision("auto", "gpu", 256, 1024).precision == expected
    assert calls == []


def test_auto_with_several_cpu_processes_is_fp32_without_probing(monkeypatch):
    calls = _inject_rates(monkeypatch, fp32=1e9, bf16=100e9)
    choice = resolve_precision("auto", "cpu", 256, 1024, processes=2)
    assert (choice.precision, choice.source) == ("32-true", "distributed")
    assert calls == []


@pytest.mark.parametrize(
    ("devices", "processes"), [(1, 1), (2, 2), ("2", 2), ("auto", 1), (-1, 2), ([0, 1], 2)]
)
def test_process_count(devices, processes):
    assert precision.process_count(devices) == processes


def test_real_probe_is_quick_and_leaves_the_global_rng_alone():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    start = time.perf_counter()
    rates = precision.probe_cpu(256, 1024)
    assert time.perf_counter() - start < 2.0  # ~0.1 s on an idle 2-core machine; slack for a shared one
    assert rates["fp32"] > 0 and rates["bf16"] > 0
    assert torch.equal(torch.rand(3), expected)
