"""Measured matmul peak of this machine and the useful model FLOPs of MLM training.

Useful FLOPs per token (training = forward + backward = 3 × forward):
    6 × N_layers                         (encoder non-embedding parameters: every token, every layer)
  + 12 × L × T × H                       (attention scores and weighted sum, QKᵀ and AV, per token)
  + 6 × p × (H × E + E × V)              (MLM transform and vocabulary projection, only at the fraction p
                                          of positions that carry a label)
Embedding lookups are not FLOPs. The vocabulary projection at unlabelled positions is not useful work even
when a baseline computes it.

    python -m benchmarks.flops      # 2048² matmul: fp32 (torch's default path), fp32 through oneDNN, bf16

prints each one's GFLOP/s and relative error against float64 (whether oneDNN kept fp32 arithmetic).
"""

from __future__ import annotations

import time

import torch


def matmul_peak(dtype: torch.dtype, size: int = 2048, repeats: int = 10, device: str = "cpu") -> float:
    """Best FLOP/s of a square matmul over ``repeats`` (all threads; on CUDA, synchronised per call)."""
    a = torch.randn(size, size, dtype=dtype, device=device)
    b = torch.randn(size, size, dtype=dtype, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for _ in range(2):
        a @ b
    best = 0.0
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        a @ b
        sync()
        best = max(best, 2 * size**3 / (time.perf_counter() - start))
    return best


def mlm_flops_per_token(config, block: int, label_fraction: float = 0.15) -> float:
    hidden, layers = config.hidden_size, config.num_hidden_layers
    embedding = getattr(config, "embedding_size", None) or hidden
    per_layer = 4 * hidden * hidden + 2 * hidden * config.intermediate_size  # attention + MLP weights
    encoder = 6 * layers * per_layer
    attention = 12 * layers * block * hidden
    head = 6 * label_fraction * (hidden * embedding + embedding * config.vocab_size)
    return encoder + attention + head


def onednn_fp32_check(size: int = 2048) -> dict[str, float]:
    """FLOP/s and relative error (against float64) of a square fp32 matmul by torch's default CPU path (MKL
    here) and with ``torch.backends.mkldnn.matmul.fp32_precision = "bf16"`` (oneDNN, which may compute in
    bf16), and of a bf16 matmul. The setting is restored afterwards."""
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.randn(size, size, generator=generator) for _ in range(2))
    reference = (a.double() @ b.double()).norm()

    def error(product: torch.Tensor) -> float:
        return float((product.double() - a.double() @ b.double()).norm() / reference)

    backend = torch.backends.mkldnn.matmul
    saved = backend.fp32_precision
    result = {"fp32": matmul_peak(torch.float32, size), "fp32_error": error(a @ b)}
    try:
        backend.fp32_precision = "bf16"
        result["fp32_onednn"] = matmul_peak(torch.float32, size)
        result["fp32_onednn_error"] = error(a @ b)
    finally:
        backend.fp32_precision = saved
    result["bf16"] = matmul_peak(torch.bfloat16, size)
    result["bf16_error"] = error((a.bfloat16() @ b.bfloat16()).float())
    return result


if __name__ == "__main__":
    from benchmarks.common import machine_line

    print(f"machine: {machine_line()}")
    check = onednn_fp32_check()
    for name in ("fp32", "fp32_onednn", "bf16"):
        print(f"{name:<12} {check[name] / 1e9:8,.0f} GFLOP/s   relative error {check[name + '_error']:.1e}")
