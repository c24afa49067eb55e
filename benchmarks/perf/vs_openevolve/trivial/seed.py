"""A program that does nothing: run() returns the constant K (the benchmark's scripted LLM edits K)."""

# EVOLVE-BLOCK-START
K = 0.0


def run():
    return K


# EVOLVE-BLOCK-END
