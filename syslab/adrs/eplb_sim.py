"""MoE expert-parallel load balancing (EPLB): seeded expert-load windows and the balancedness measure.

The leaderboard replays vLLM expert-load logs (`expert-load.json`, on
HuggingFace, not reachable here). syslab generates the windows instead, with
a fixed seed: per MoE layer a skewed expert popularity (lognormal, a few hot
experts several times the mean, some nearly idle), drifting from window to
window as an AR(1) walk in log space, and token counts drawn as Poisson
around it. A placement computed on window i is scored on window i+1, as on
the leaderboard, so a policy must generalise across drift rather than fit.
"""

from __future__ import annotations

import numpy as np

from syslab.evaluators import InvalidOutput, WrongAnswer

LAYERS = 58  # MoE layers of a DeepSeek-V3-sized model
EXPERTS = 256  # logical experts per layer
TOKENS_PER_WINDOW = 100 * 2048 * 8  # 100 steps x 2048 tokens x top-8 routing


def generate_windows(
    seed: int = 0, windows: int = 16, layers: int = LAYERS, experts: int = EXPERTS, sigma: float = 1.0
) -> list[np.ndarray]:
    """`windows` arrays [layers, experts] of int64 token counts (the load of each logical expert)."""
    rng = np.random.default_rng(seed)
    log_pop = rng.normal(0.0, sigma, size=(layers, experts))
    rho, shock = 0.9, 0.3  # AR(1) in log space: popularity persists but drifts between windows
    out = []
    for _ in range(windows):
        pop = np.exp(log_pop)
        lam = pop / pop.sum(axis=1, keepdims=True) * TOKENS_PER_WINDOW
        out.append(rng.poisson(lam).astype(np.int64))
        log_pop = (
            rho * log_pop
            + (1 - rho) * rng.normal(0.0, sigma, size=log_pop.shape)
            + rng.normal(0.0, shock, size=log_pop.shape)
        )
    return out


def _array(x: object, name: str) -> np.ndarray:
    """A returned map (decoded plain data: an array or nested lists) as an int64 array."""
    try:
        arr = np.asarray(x)
    except Exception as e:  # noqa: BLE001 - anything unconvertible is the candidate's fault
        raise InvalidOutput(f"{name} is not an array: {e}") from None
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise InvalidOutput(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def check_placement(
    out, layers: int, experts: int, replicas: int, next_load: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Validate (phy2log, log2phy, logcnt); return (phy2log, logcnt). Raises InvalidOutput / WrongAnswer."""
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise InvalidOutput("rebalance_experts must return (phy2log, log2phy, logcnt)")
    phy2log, log2phy, logcnt = (
        _array(x, n) for x, n in zip(out, ("phy2log", "log2phy", "logcnt"), strict=True)
    )
    if phy2log.shape != (layers, replicas):
        raise InvalidOutput(f"phy2log has shape {phy2log.shape}, expected {(layers, replicas)}")
    if logcnt.shape != (layers, experts):
        raise InvalidOutput(f"logcnt has shape {logcnt.shape}, expected {(layers, experts)}")
    if log2phy.ndim != 3 or log2phy.shape[:2] != (layers, experts):
        raise InvalidOutput(f"log2phy has shape {log2phy.shape}, expected {(layers, experts)} + (X,)")
    if (logcnt < 0).any():
        raise WrongAnswer("logcnt has negative replica counts")
    sums = logcnt.sum(axis=1)
    if not (sums == replicas).all():
        bad = int(np.argmax(sums != replicas))
        raise WrongAnswer(f"layer {bad}: logcnt sums to {int(sums[bad])} replicas, expected {replicas}")
    if phy2log.min() < 0 or phy2log.max() >= experts:
        raise WrongAnswer(f"phy2log holds expert ids outside 0..{experts - 1}")
    counted = np.stack([np.bincount(row, minlength=experts) for row in phy2log])
    if not (counted == logcnt).all():
        layer, expert = map(int, np.argwhere(counted != logcnt)[0])
        raise WrongAnswer(
            f"layer {layer} expert {expert}: logcnt says {int(logcnt[layer, expert])} replicas, "
            f"phy2log places {int(counted[layer, expert])}"
        )
    if logcnt.max() > log2phy.shape[2]:
        raise WrongAnswer(
            f"log2phy has room for {log2phy.shape[2]} replicas, logcnt asks {int(logcnt.max())}"
        )
    # Every listed replica slot of expert e must be a physical slot holding e, each slot listed once.
    k = np.arange(log2phy.shape[2])
    used = k[None, None, :] < logcnt[:, :, None]
    slots = np.where(used, log2phy, 0)
    if (slots < 0).any() or (slots >= replicas).any():
        raise WrongAnswer("log2phy lists physical slots outside 0..num_replicas-1")
    owner = np.take_along_axis(phy2log, slots.reshape(layers, -1), axis=1).reshape(slots.shape)
    expert_ids = np.broadcast_to(np.arange(experts)[None, :, None], slots.shape)
    if (owner[used] != expert_ids[used]).any():
        raise WrongAnswer("log2phy and phy2log disagree (a listed replica slot holds another expert)")
    listed = np.sort(slots[used].reshape(layers, replicas), axis=1)
    if (listed != np.arange(replicas)[None, :]).any():
        raise WrongAnswer("log2phy lists a physical slot twice")
    starved = (next_load > 0) & (logcnt == 0)
    if starved.any():
        raise WrongAnswer(f"{int(starved.sum())} experts receive load but have no replica")
    return phy2log, logcnt


def balancedness(phy2log: np.ndarray, logcnt: np.ndarray, load: np.ndarray, gpus: int) -> tuple[float, float]:
    """(GPU balancedness, expert balancedness): sum over layers of mean load / sum of max load.

    A logical expert's load splits evenly over its replicas; physical slot r sits
    on GPU r // (num_replicas / gpus).
    """
    layers, replicas = phy2log.shape
    per_replica = load.astype(np.float64) / np.maximum(logcnt, 1)
    slot_load = np.take_along_axis(per_replica, phy2log, axis=1)
    gpu_load = slot_load.reshape(layers, gpus, replicas // gpus).sum(axis=2)
    gpu_max = gpu_load.max(axis=1).sum()
    slot_max = slot_load.max(axis=1).sum()
    gpu_bal = gpu_load.mean(axis=1).sum() / gpu_max if gpu_max > 0 else 0.0
    slot_bal = slot_load.mean(axis=1).sum() / slot_max if slot_max > 0 else 0.0
    return float(gpu_bal), float(slot_bal)


def speed_points(seconds: float) -> tuple[float, float]:
    """(speed score, slow penalty) of the leaderboard for a mean algorithm time."""
    speed = 5.0 * min(0.002 / seconds, 2.0) if seconds > 0 else 10.0
    penalty = min(seconds * 20.0, 20.0) if seconds > 0.01 else 0.0
    return speed, penalty
