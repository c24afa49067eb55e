"""Held-out evaluation for kernel-attention: the same reference and checks on other shapes.

The search times the kernel on reference.py's SHAPES (CPU_SHAPES without a GPU); these shapes
(other sizes and aspect ratios, sizes that are not multiples of the usual block sizes) are used
only after the search, on the best candidates: a kernel tuned to the search shapes alone (block
sizes, a hard-coded width) shows a smaller speedup or fails here.
"""

from pathlib import Path

from syslab.evaluators.handle import Candidate
from syslab.evaluators.kernel import evaluate_kernel

HELDOUT_SHAPES = [
    {"B": 4, "H": 12, "S": 384, "D": 64, "dtype": "float16"},
    {"B": 2, "H": 8, "S": 2048, "D": 64, "dtype": "float32"},
    {"B": 1, "H": 32, "S": 512, "D": 128, "dtype": "bfloat16"},
]
HELDOUT_CPU_SHAPES = [
    {"B": 2, "H": 2, "S": 24, "D": 16, "dtype": "float32"},
    {"B": 1, "H": 3, "S": 16, "D": 32, "dtype": "float16"},
]


def evaluate_heldout(candidate: Candidate) -> dict:
    reference = Path(__file__).resolve().parent / "reference.py"
    return evaluate_kernel(
        candidate, reference, shapes={"SHAPES": HELDOUT_SHAPES, "CPU_SHAPES": HELDOUT_CPU_SHAPES}
    )
