"""Reference: row softmax. Softmax over the last dimension of an (M, N) matrix."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=-1)


SHAPES = [
    {"M": 4096, "N": 4096, "dtype": "float32"},
    {"M": 8192, "N": 2048, "dtype": "float16"},
    {"M": 2048, "N": 1000, "dtype": "bfloat16"},
]
CPU_SHAPES = [
    {"M": 6, "N": 37, "dtype": "float32"},
    {"M": 4, "N": 64, "dtype": "float16"},
    {"M": 4, "N": 16, "dtype": "bfloat16"},
]


def get_inputs(M=4096, N=4096, dtype=torch.float32, device="cpu", generator=None):
    x = torch.randn(M, N, generator=generator, device=device) * 4
    return [x.to(dtype)]


def get_init_inputs():
    return []


def flops(M=4096, N=4096, **_):
    return 5.0 * M * N
