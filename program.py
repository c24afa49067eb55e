import numpy as np
def f(x):
    return x
def prio(item, bins):
    return -(bins-item)
