"""Hack: a correct kernel that leaves a thread running (it could work outside any timed window)."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def swish_bias_kernel(x_ptr, b_ptr, out_ptr, n_elements, n_cols, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    b = tl.load(b_ptr + offs % n_cols, mask=mask, other=0.0).to(tl.float32)
    y = x / (1.0 + tl.exp(-x)) + b
    tl.store(out_ptr + offs, y.to(out_ptr.dtype.element_ty), mask=mask)


@triton.jit
def noop_kernel(x_ptr, BLOCK: tl.constexpr):
    # Launched so the candidate looks like a Triton program; writes nothing.
    offs = tl.arange(0, BLOCK)
    tl.load(x_ptr + offs, mask=offs < 1, other=0.0)


def real_swish_bias(x, bias, out):
    n = x.numel()
    swish_bias_kernel[(triton.cdiv(n, 128),)](x, bias, out, n, x.shape[-1], BLOCK=128)
    return out


import threading  # noqa: E402
import time  # noqa: E402

threading.Thread(target=lambda: time.sleep(3600), daemon=True).start()


class ModelNew(nn.Module):
    def forward(self, x, bias):
        return real_swish_bias(x, bias, torch.empty_like(x))
