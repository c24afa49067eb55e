"""EPLB: place replicas of MoE experts on GPU slots so every GPU gets the same token load.

Interface (as on the ADRS leaderboard):
    rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus)
        -> (phy2log [layers, num_replicas], log2phy [layers, num_logical, X], logcnt [layers, num_logical])
`weight` is a torch tensor [layers, num_logical] of recent token counts per
expert. Physical slot r lives on GPU r // (num_replicas // num_gpus); every
expert needs at least one replica; a replica gets load / logcnt.

Baseline: hierarchical balancing as in DeepSeek's EPLB. Expert groups are
packed onto nodes, experts are replicated within each node (next replica to
the expert with the highest load per replica), and each node's replicas are
packed onto its GPUs, greedily, heaviest first, equal counts per GPU.
"""

import torch

# EVOLVE-BLOCK-START


def pack_equal(weights, num_bins):
    """Greedy: heaviest item first into the lightest bin that still has room; equal item counts per bin."""
    cap = len(weights) // num_bins
    loads, sizes = [0.0] * num_bins, [0] * num_bins
    where = [0] * len(weights)
    for item in sorted(range(len(weights)), key=lambda i: -weights[i]):
        b = min((b for b in range(num_bins) if sizes[b] < cap), key=lambda b: loads[b])
        where[item] = b
        loads[b] += weights[item]
        sizes[b] += 1
    return where


def replicate(weights, num_slots):
    """Replica counts: start at one each, give each extra slot to the highest load-per-replica expert."""
    counts = [1] * len(weights)
    for _ in range(num_slots - len(weights)):
        e = max(range(len(weights)), key=lambda i: weights[i] / counts[i])
        counts[e] += 1
    return counts


def place_layer(w, num_replicas, num_groups, num_nodes, num_gpus):
    """Physical-slot -> logical-expert list for one layer."""
    n = len(w)
    group_size = n // num_groups
    gpus_per_node = num_gpus // num_nodes
    per_gpu = num_replicas // num_gpus
    group_load = [sum(w[g * group_size : (g + 1) * group_size]) for g in range(num_groups)]
    node_of_group = pack_equal(group_load, num_nodes)
    phy2log = []
    for node in range(num_nodes):
        experts = [e for g in range(num_groups) if node_of_group[g] == node
                   for e in range(g * group_size, (g + 1) * group_size)]  # fmt: skip
        counts = replicate([w[e] for e in experts], num_replicas // num_nodes)
        replicas = [(experts[i], w[experts[i]] / c) for i, c in enumerate(counts) for _ in range(c)]
        gpu_of = pack_equal([load for _, load in replicas], gpus_per_node)
        for gpu in range(gpus_per_node):
            phy2log += [e for (e, _), g in zip(replicas, gpu_of, strict=True) if g == gpu]
        assert len(phy2log) == (node + 1) * gpus_per_node * per_gpu
    return phy2log


def rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus):
    layers, n = weight.shape
    if num_groups % num_nodes or n % num_groups:
        num_groups, num_nodes = 1, 1  # no usable hierarchy: balance globally
    w = weight.float().cpu().tolist()
    phy2log = torch.tensor([place_layer(row, num_replicas, num_groups, num_nodes, num_gpus) for row in w])
    logcnt = torch.zeros(layers, n, dtype=torch.int64)
    logcnt.scatter_add_(1, phy2log, torch.ones_like(phy2log))
    width = int(logcnt.max())
    log2phy = torch.full((layers, n, width), -1, dtype=torch.int64)
    for layer in range(layers):
        seen = [0] * n
        for slot, e in enumerate(phy2log[layer].tolist()):
            log2phy[layer, e, seen[e]] = slot
            seen[e] += 1
    return phy2log, log2phy, logcnt


# EVOLVE-BLOCK-END
