"""Seed: a working but naive Triton kernel for masked prefix sum."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


# EVOLVE-BLOCK-START
@triton.jit
def masked_cumsum_kernel(x_ptr, m_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    carry = 0.0
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        inb = cols < n_cols
        x = tl.load(x_ptr + row * n_cols + cols, mask=inb, other=0.0).to(tl.float32)
        keep = tl.load(m_ptr + row * n_cols + cols, mask=inb, other=0).to(tl.int1)
        x = tl.where(keep, x, 0.0)
        y = tl.cumsum(x, axis=0) + carry
        tl.store(out_ptr + row * n_cols + cols, y.to(out_ptr.dtype.element_ty), mask=inb)
        carry += tl.sum(x, axis=0)


def masked_cumsum(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    n_rows, n_cols = x.shape
    masked_cumsum_kernel[(n_rows,)](x, mask.view(torch.uint8), out, n_cols, BLOCK=16)
    return out


# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return masked_cumsum(x.contiguous(), mask.contiguous())
