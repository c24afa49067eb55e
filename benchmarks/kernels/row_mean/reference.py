"""Reference: row mean reduction. Mean of each row of an (M, N) matrix."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1)


SHAPES = [
    {"M": 8192, "N": 8192, "dtype": "float32"},
    {"M": 65536, "N": 256, "dtype": "float16"},
    {"M": 128, "N": 100000, "dtype": "bfloat16"},
]
CPU_SHAPES = [
    {"M": 7, "N": 45, "dtype": "float32"},
    {"M": 4, "N": 130, "dtype": "float16"},
    {"M": 4, "N": 16, "dtype": "bfloat16"},
]


def get_inputs(M=8192, N=8192, dtype=torch.float32, device="cpu", generator=None):
    x = torch.randn(M, N, generator=generator, device=device) + 1.0
    return [x.to(dtype)]


def get_init_inputs():
    return []


def flops(M=8192, N=8192, **_):
    return 1.0 * M * N
