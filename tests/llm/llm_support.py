"""Helpers shared by the LLM tests (a uniquely named module: `conftest` names clash across test dirs)."""

PROGRAM = """import math

# EVOLVE-BLOCK-START
def schedule(jobs):
    order = sorted(jobs)
    return order
# EVOLVE-BLOCK-END


def main(jobs):
    return schedule(jobs)
"""
