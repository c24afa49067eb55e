"""The fast makespan model agrees with the plain reading of its rules on random orders."""

import random

from syslab.adrs.lib.txn_simulator import Workload


def reference_makespan(workload: Workload, seq: list[int]) -> int:
    """The rules written out directly: each op waits for its key's locks, then holds it one tick."""
    last_write: dict[str, int] = {}
    last_any: dict[str, int] = {}
    makespan = 0
    for t in seq:
        start = 1
        for kind, key, pos, _ in workload.txns[t]:
            held = last_any if kind == "w" else last_write
            if key in held:
                start = max(start, held[key] + 1 - pos + 1)
        for kind, key, pos, _ in workload.txns[t]:
            at = start + pos - 1
            last_any[key] = max(last_any.get(key, 0), at)
            if kind == "w":
                last_write[key] = max(last_write.get(key, 0), at)
        makespan = max(makespan, start + workload.lengths[t] - 1)
    return makespan


def synthetic_workload(rng: random.Random, n: int) -> dict[str, str]:
    keys = [str(k) for k in range(6)]
    texts = {}
    for i in range(n):
        ops = [
            rng.choice(["*", f"r-{rng.choice(keys)}", f"w-{rng.choice(keys)}"])
            for _ in range(rng.randint(1, 7))
        ]
        texts[str(i)] = " ".join(ops)
    return texts


def test_fast_model_matches_the_rules_on_random_orders_and_prefixes() -> None:
    rng = random.Random(7)
    for _ in range(20):
        workload = Workload(synthetic_workload(rng, 25))
        for _ in range(60):
            seq = rng.sample(range(workload.num_txns), rng.randint(1, workload.num_txns))
            assert workload.get_opt_seq_cost(seq) == reference_makespan(workload, seq), seq


def test_the_model_reads_a_same_key_read_and_write_inside_one_transaction() -> None:
    workload = Workload({"0": "w-a * r-b", "1": "r-a w-b", "2": "r-b r-a *"})
    for seq in ([0, 1, 2], [2, 1, 0], [1, 0, 2], [0, 2], [1]):
        assert workload.get_opt_seq_cost(seq) == reference_makespan(workload, seq)
    assert workload.get_opt_seq_cost([0, 1]) == 4  # txn 1 reads a after txn 0's write at t=1
