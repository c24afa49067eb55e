"""Candidate-side adapter for eplb (runs in the candidate's process, before the program).

The evaluator sends the expert loads as a numpy array; this hands the program the torch tensor its
`rebalance_experts(weight, ...)` is written against and turns the tensors it returns into numpy
arrays (the channel carries no torch objects). The evaluator checks the maps, computes the
balancedness and times this call on its own clock. Nothing here is trusted.
"""

import syslab.adrs.adapter_support as support
from syslab.adrs.common import require

support.prepare()
require("torch", "eplb")  # one line naming the extra, not a traceback, where torch is missing

import torch  # noqa: E402 - loaded with the program, so no call pays for the import


def _plain(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def rebalance_experts(program, weight, num_replicas, num_groups, num_nodes, num_gpus):
    module = support.entry_module(program, "rebalance_experts")
    support.seed_everything(0)
    out = module.rebalance_experts(torch.from_numpy(weight), num_replicas, num_groups, num_nodes, num_gpus)
    return _plain(out)
