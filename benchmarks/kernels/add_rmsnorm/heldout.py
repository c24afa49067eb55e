"""Held-out evaluation for kernel-add-rmsnorm: the same reference and checks on other shapes.

The search times the kernel on reference.py's SHAPES (CPU_SHAPES without a GPU); these shapes
(other sizes and aspect ratios, sizes that are not multiples of the usual block sizes) are used
only after the search, on the best candidates: a kernel tuned to the search shapes alone (block
sizes, a hard-coded width) shows a smaller speedup or fails here.
"""

from pathlib import Path

from syslab.evaluators.handle import Candidate
from syslab.evaluators.kernel import evaluate_kernel

HELDOUT_SHAPES = [
    {"M": 3000, "N": 4096, "dtype": "float32"},
    {"M": 8192, "N": 2048, "dtype": "float16"},
    {"M": 2000, "N": 6144, "dtype": "bfloat16"},
]
HELDOUT_CPU_SHAPES = [
    {"M": 3, "N": 72, "dtype": "float32"},
    {"M": 6, "N": 33, "dtype": "float16"},
]


def evaluate_heldout(candidate: Candidate) -> dict:
    reference = Path(__file__).resolve().parent / "reference.py"
    return evaluate_kernel(
        candidate, reference, shapes={"SHAPES": HELDOUT_SHAPES, "CPU_SHAPES": HELDOUT_CPU_SHAPES}
    )
