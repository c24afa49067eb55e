"""Reference: masked prefix sum. Inclusive prefix sum along each row of x, counting only the entries where mask is true."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(x * mask, dim=1)


SHAPES = [
    {"M": 4096, "N": 4096, "dtype": "float32"},
    {"M": 1024, "N": 8192, "dtype": "float32"},
    {"M": 4096, "N": 1024, "dtype": "float16"},
]
CPU_SHAPES = [
    {"M": 5, "N": 37, "dtype": "float32"},
    {"M": 3, "N": 64, "dtype": "float32"},
    {"M": 4, "N": 16, "dtype": "float16"},
]
# A prefix sum accumulates rounding along the row: tolerances scale with sqrt(N) * |x|.
TOLERANCE = {"float32": (1e-3, 1e-4), "float16": (5e-2, 1e-2)}


def get_inputs(M=4096, N=4096, dtype=torch.float32, device="cpu", generator=None):
    x = torch.randn(M, N, generator=generator, device=device)
    mask = torch.rand(M, N, generator=generator, device=device) < 0.5
    return [x.to(dtype), mask]


def get_init_inputs():
    return []


def flops(M=4096, N=4096, **_):
    return 2.0 * M * N
