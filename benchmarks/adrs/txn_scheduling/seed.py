"""Transaction scheduling: order the transactions of each workload to minimise makespan.

Interface (as on the ADRS leaderboard): get_best_schedule(workload, num_seqs)
-> (makespan, schedule) and get_random_costs() -> (total_makespan,
[schedule per workload], seconds). `workload.get_opt_seq_cost(seq)` gives the
makespan of any (partial) sequence.
"""

import random
import time

from txn_simulator import Workload
from workloads import WORKLOAD_1, WORKLOAD_2, WORKLOAD_3

# EVOLVE-BLOCK-START


def get_best_schedule(workload, num_seqs):
    """Baseline: greedy construction from a random first transaction.

    At each step, sample up to `num_seqs` unscheduled transactions and append
    the one that keeps the partial makespan lowest.
    """
    n = workload.num_txns
    first = random.randrange(n)
    order = [first]
    left = [t for t in range(n) if t != first]
    while left:
        pool = random.sample(left, min(num_seqs, len(left)))
        best = min(pool, key=lambda t: workload.get_opt_seq_cost(order + [t]))
        order.append(best)
        left.remove(best)
    return workload.get_opt_seq_cost(order), order


# EVOLVE-BLOCK-END


def get_random_costs():
    start = time.time()
    total, schedules = 0, []
    for text in (WORKLOAD_1, WORKLOAD_2, WORKLOAD_3):
        workload = Workload(text)
        _, schedule = get_best_schedule(workload, 10)
        total += workload.get_opt_seq_cost(schedule)
        schedules.append(schedule)
    return total, schedules, time.time() - start
