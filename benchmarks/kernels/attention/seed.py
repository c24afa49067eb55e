"""Seed: a working but naive Triton kernel for scaled dot-product attention (small heads)."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


# EVOLVE-BLOCK-START
@triton.jit
def attention_kernel(
    q_ptr, k_ptr, v_ptr, o_ptr, S, scale, BQ: tl.constexpr, BS: tl.constexpr, D: tl.constexpr
):
    bh = tl.program_id(0)
    qb = tl.program_id(1)
    rq = qb * BQ + tl.arange(0, BQ)
    rs = tl.arange(0, BS)
    rd = tl.arange(0, D)
    base = bh * S * D
    q = tl.load(q_ptr + base + rq[:, None] * D + rd[None, :], mask=rq[:, None] < S, other=0.0).to(tl.float32)
    k = tl.load(k_ptr + base + rs[:, None] * D + rd[None, :], mask=rs[:, None] < S, other=0.0).to(tl.float32)
    v = tl.load(v_ptr + base + rs[:, None] * D + rd[None, :], mask=rs[:, None] < S, other=0.0).to(tl.float32)
    s = tl.dot(q, tl.trans(k), input_precision="ieee") * scale
    s = tl.where(rs[None, :] < S, s, -float("inf"))
    p = tl.exp(s - tl.max(s, axis=1)[:, None])
    p = p / tl.sum(p, axis=1)[:, None]
    o = tl.dot(p, v, input_precision="ieee")
    tl.store(o_ptr + base + rq[:, None] * D + rd[None, :], o.to(o_ptr.dtype.element_ty), mask=rq[:, None] < S)


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    B, H, S, D = q.shape
    out = torch.empty_like(q)
    BS = max(16, triton.next_power_of_2(S))  # naive: the whole key sequence in one block
    grid = (B * H, triton.cdiv(S, 16))
    attention_kernel[grid](q, k, v, out, S, D**-0.5, BQ=16, BS=BS, D=D)
    return out


# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return attention(q.contiguous(), k.contiguous(), v.contiguous())
