"""Reference: y = x * sigmoid(x) + bias (SiLU plus a per-column bias), rows of N features."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x) + bias


# Shapes timed on a GPU, and the small ones checked in Triton's interpreter on a CPU.
SHAPES = [
    {"M": 4096, "N": 4096, "dtype": "float32"},
    {"M": 8192, "N": 8192, "dtype": "float16"},
    {"M": 1000, "N": 3000, "dtype": "bfloat16"},
]
CPU_SHAPES = [
    {"M": 5, "N": 37, "dtype": "float32"},
    {"M": 8, "N": 64, "dtype": "float16"},
    {"M": 4, "N": 16, "dtype": "bfloat16"},
]


def get_inputs(M=4096, N=4096, dtype=torch.float32, device="cpu", generator=None):
    x = torch.randn(M, N, generator=generator, device=device, dtype=torch.float32) * 3
    bias = torch.randn(N, generator=generator, device=device, dtype=torch.float32)
    return [x.to(dtype), bias.to(dtype)]


def get_init_inputs():
    return []


def flops(M=4096, N=4096, **_):
    return 5.0 * M * N
