"""Reference: matrix multiply. C = A @ B for row-major A (M, K) and B (K, N)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a @ b


SHAPES = [
    {"M": 2048, "K": 2048, "N": 2048, "dtype": "float32"},
    {"M": 4096, "K": 4096, "N": 4096, "dtype": "float16"},
    {"M": 1024, "K": 3072, "N": 768, "dtype": "bfloat16"},
]
CPU_SHAPES = [
    {"M": 20, "K": 24, "N": 18, "dtype": "float32"},
    {"M": 16, "K": 32, "N": 16, "dtype": "float16"},
    {"M": 16, "K": 16, "N": 16, "dtype": "bfloat16"},
]
# fp32 is held to 1e-4 relative to each output's scale (sqrt(K)); the seed uses IEEE fp32 dots.
TOLERANCE = {"float32": (2e-4, 1e-4)}


def get_inputs(M=2048, K=2048, N=2048, dtype=torch.float32, device="cpu", generator=None):
    a = torch.randn(M, K, generator=generator, device=device)
    b = torch.randn(K, N, generator=generator, device=device) / K**0.5
    return [a.to(dtype), b.to(dtype)]


def get_init_inputs():
    return []


def flops(M=2048, K=2048, N=2048, **_):
    return 2.0 * M * K * N
