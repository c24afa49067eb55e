"""Reference: scaled dot-product attention (small heads). softmax(Q K^T / sqrt(D)) V per batch and head, non-causal, Q/K/V of shape (B, H, S, D)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        scale = q.shape[-1] ** -0.5
        p = torch.softmax((q.float() @ k.float().transpose(-1, -2)) * scale, dim=-1)
        return (p @ v.float()).to(q.dtype)


SHAPES = [
    {"B": 8, "H": 16, "S": 512, "D": 64, "dtype": "float16"},
    {"B": 4, "H": 8, "S": 1024, "D": 64, "dtype": "float32"},
    {"B": 2, "H": 16, "S": 256, "D": 128, "dtype": "bfloat16"},
]
CPU_SHAPES = [
    {"B": 1, "H": 2, "S": 16, "D": 16, "dtype": "float32"},
    {"B": 2, "H": 1, "S": 32, "D": 16, "dtype": "float16"},
    {"B": 1, "H": 1, "S": 16, "D": 16, "dtype": "bfloat16"},
]


def get_inputs(B=8, H=16, S=512, D=64, dtype=torch.float16, device="cpu", generator=None):
    q, k, v = (torch.randn(B, H, S, D, generator=generator, device=device).to(dtype) for _ in range(3))
    return [q, k, v]


def get_init_inputs():
    return []


def flops(B=8, H=16, S=512, D=64, **_):
    return 4.0 * B * H * S * S * D
