"""Reference: bias + exact GELU. y = gelu(x + bias) with the exact (erf) GELU and a per-column bias."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.gelu(x + bias)


SHAPES = [
    {"M": 4096, "N": 4096, "dtype": "float32"},
    {"M": 8192, "N": 8192, "dtype": "float16"},
    {"M": 4096, "N": 3072, "dtype": "bfloat16"},
]
CPU_SHAPES = [
    {"M": 5, "N": 37, "dtype": "float32"},
    {"M": 8, "N": 64, "dtype": "float16"},
    {"M": 4, "N": 16, "dtype": "bfloat16"},
]


def get_inputs(M=4096, N=4096, dtype=torch.float32, device="cpu", generator=None):
    x = torch.randn(M, N, generator=generator, device=device) * 2
    bias = torch.randn(N, generator=generator, device=device)
    return [x.to(dtype), bias.to(dtype)]


def get_init_inputs():
    return []


def flops(M=4096, N=4096, **_):
    return 8.0 * M * N
