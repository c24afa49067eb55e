"""Online bin packing heuristic: score the bins an arriving item could go into.

`priority(item, bins)` gets the item's size and a numpy array with the
remaining capacity of every bin that can take it (the last entry is a
fresh, empty bin) and returns one score per bin; the item goes into the
bin with the highest score.
"""

import numpy as np  # noqa: F401  (for evolved heuristics)


# EVOLVE-BLOCK-START
def priority(item, bins):
    residual = bins - item  # space each bin would have left
    # Best fit: the tighter the fit, the higher the score.
    score = -residual
    # A knob for leaving a gap too small for a typical later item. Its weight
    # is 0.0, which makes this plain best fit.
    awkward_gap = (residual > 0) & (residual < 20.0)
    score = score - 0.0 * item * awkward_gap
    return score


# EVOLVE-BLOCK-END
