"""Candidate-side adapter: runs in the candidate's sandboxed process, before the program.

Importing syslab.evaluators.kernel_candidate puts Triton in interpreter mode when there is no GPU
and installs its (advisory) instruments before the program loads; `kernel_model` builds the
program's ModelNew and runs it on the inputs the evaluator sends, returning numpy arrays.
"""

from syslab.evaluators.kernel_candidate import kernel_model

__all__ = ["kernel_model"]
