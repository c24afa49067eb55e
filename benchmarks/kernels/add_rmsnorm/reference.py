"""Reference: fused residual add + RMSNorm. h = x + residual, then RMSNorm(h) * weight: the pre-norm transformer block step."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, eps: float = 1e-6):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        h = x.float() + residual.float()
        y = h * torch.rsqrt(h.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return (y * weight.float()).to(x.dtype)


SHAPES = [
    {"M": 4096, "N": 4096, "dtype": "float32"},
    {"M": 16384, "N": 4096, "dtype": "float16"},
    {"M": 4096, "N": 5120, "dtype": "bfloat16"},
]
CPU_SHAPES = [
    {"M": 5, "N": 40, "dtype": "float32"},
    {"M": 4, "N": 64, "dtype": "float16"},
    {"M": 4, "N": 16, "dtype": "bfloat16"},
]


def get_inputs(M=4096, N=4096, dtype=torch.float32, device="cpu", generator=None):
    x = torch.randn(M, N, generator=generator, device=device) * 2
    r = torch.randn(M, N, generator=generator, device=device) * 2
    w = torch.randn(N, generator=generator, device=device)
    return [x.to(dtype), r.to(dtype), w.to(dtype)]


def get_init_inputs():
    return [1e-6]


def flops(M=4096, N=4096, **_):
    return 5.0 * M * N
