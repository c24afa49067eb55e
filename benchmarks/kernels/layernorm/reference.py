"""Reference: layer normalisation. LayerNorm over the last dimension with a learned weight and bias (passed as inputs)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, eps: float = 1e-5):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.layer_norm(x, (x.shape[-1],), weight, bias, self.eps)


SHAPES = [
    {"M": 4096, "N": 4096, "dtype": "float32"},
    {"M": 8192, "N": 1024, "dtype": "float16"},
    {"M": 2048, "N": 3000, "dtype": "bfloat16"},
]
CPU_SHAPES = [
    {"M": 5, "N": 40, "dtype": "float32"},
    {"M": 4, "N": 64, "dtype": "float16"},
    {"M": 4, "N": 16, "dtype": "bfloat16"},
]


def get_inputs(M=4096, N=4096, dtype=torch.float32, device="cpu", generator=None):
    x = torch.randn(M, N, generator=generator, device=device) * 2 + 0.5
    w = torch.randn(N, generator=generator, device=device)
    b = torch.randn(N, generator=generator, device=device)
    return [x.to(dtype), w.to(dtype), b.to(dtype)]


def get_init_inputs():
    return [1e-5]


def flops(M=4096, N=4096, **_):
    return 8.0 * M * N
