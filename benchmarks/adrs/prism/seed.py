"""PRISM: place models on GPUs so the most crowded GPU has the lowest KV-cache pressure.

Interface (as on the ADRS leaderboard): compute_model_placement(gpu_num, models)
-> {gpu_id: [Model, ...]}. A Model has model_name, model_size (GB), req_rate
(req/s), slo and cur_gpu_id. KVPR of a GPU = Σ req_rate/slo / (80 − Σ model_size);
minimise the maximum over GPUs; every model exactly once; at most 80 GB per GPU.

Baseline (the leaderboard's): models by decreasing req_rate/slo, each onto the
GPU with the lowest current KVPR among those it fits on.
"""

GPU_MEM_SIZE = 80  # GB

# EVOLVE-BLOCK-START


def compute_model_placement(gpu_num, models):
    placement = {g: [] for g in range(gpu_num)}
    free = [float(GPU_MEM_SIZE)] * gpu_num
    pressure = [0.0] * gpu_num
    for model in sorted(models, key=lambda m: m.req_rate / m.slo, reverse=True):
        fits = [g for g in range(gpu_num) if free[g] > 0 and model.model_size <= free[g]]
        if not fits:
            raise ValueError(f"no GPU has {model.model_size} GB free (free: {free})")
        g = min(fits, key=lambda g: pressure[g] / free[g])
        placement[g].append(model)
        pressure[g] += model.req_rate / model.slo
        free[g] -= model.model_size
    return placement


# EVOLVE-BLOCK-END
