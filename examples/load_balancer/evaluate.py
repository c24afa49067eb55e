"""Evaluator for a request load balancer over heterogeneous servers.

A discrete-event simulation: requests arrive (Poisson with bursts), the
candidate's `choose_server(request, servers)` picks a server for each one
at its arrival, and every server works through its own FIFO queue at its
own speed. The balancer sees each request's *estimated* work (the true
work differs by a noise factor) and, for each server, its speed, queue
length and estimated outstanding work. Latency = completion − arrival.

Split evaluation: the candidate runs in its own sandboxed process. Per
decision this evaluator sends a copy of what the balancer may observe (the
request as (id, time_ms, est_work), the servers as one array with a row
(index, speed, queue_len, outstanding_work) each); `adapter.py`, on the
candidate's side, turns that into the Request and Server objects of the
interface. The true work of a request never leaves this process.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from syslab.evaluators import InvalidOutput
from syslab.evaluators.handle import Candidate

SPEEDS = (1.0, 1.0, 1.5, 1.5, 2.0, 2.0, 3.0, 3.0)  # work units per ms
MEAN_WORK = 10.0  # work units: 10 ms on a speed-1 server
UTILISATION = 0.5  # offered load / total capacity, averaged over bursts
BURST_FACTOR = 2.5  # arrival rate in a burst, relative to the calm rate
CALM_MS, BURST_MS = 500.0, 100.0  # mean phase durations (exponential)
ESTIMATE_SIGMA = 0.3  # lognormal noise of the work estimate the balancer sees
# Secret (the candidate cannot read this file): with public seeds a candidate could regenerate the
# workload and know each request's true work and every future arrival.
WORKLOAD_SEEDS = (0xAA64981F09A8E56BC9904CCAD5934329, 0x86F0C5802D835714E38045977A1FD372)
QUICK_SEED = 0xE7D1B9466B2F7E126A0C1C7107E03000
REQUESTS_PER_WORKLOAD = 10_000


def workload(seed: int, n_requests: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrival times (ms), true work and estimated work of n requests (a Markov-modulated Poisson stream)."""
    rng = np.random.default_rng(seed)
    calm_share = CALM_MS / (CALM_MS + BURST_MS)
    mean_rate = UTILISATION * sum(SPEEDS) / MEAN_WORK  # requests per ms
    calm_rate = mean_rate / (calm_share + (1 - calm_share) * BURST_FACTOR)
    times: list[np.ndarray] = []
    t, burst, count = 0.0, False, 0
    while count < n_requests:
        length = rng.exponential(BURST_MS if burst else CALM_MS)
        rate = calm_rate * (BURST_FACTOR if burst else 1.0)
        k = rng.poisson(rate * length)
        times.append(np.sort(rng.uniform(t, t + length, k)))
        count += k
        t += length
        burst = not burst
    arrivals = np.concatenate(times)[:n_requests]
    sigma = 1.0  # lognormal work: a few requests are much bigger than the mean
    work = rng.lognormal(np.log(MEAN_WORK) - sigma**2 / 2, sigma, n_requests)
    est = work * rng.lognormal(-(ESTIMATE_SIGMA**2) / 2, ESTIMATE_SIGMA, n_requests)
    return arrivals, work, est


def simulate(choose_server: Any, arrivals: np.ndarray, work: np.ndarray, est: np.ndarray) -> np.ndarray:
    """Run the simulation; return each request's latency in ms."""
    n_servers = len(SPEEDS)
    # Per server, the FIFO of requests not yet finished: (start, finish, estimated work).
    queues: list[deque[tuple[float, float, float]]] = [deque() for _ in range(n_servers)]
    est_sum = [0.0] * n_servers  # estimated work of everything in each queue
    free_at = [0.0] * n_servers  # when each server finishes its last queued request
    latency = np.empty(len(arrivals))
    views = np.empty((n_servers, 4))
    views[:, 0] = np.arange(n_servers)
    views[:, 1] = SPEEDS
    for i, (now, w, e) in enumerate(zip(arrivals.tolist(), work.tolist(), est.tolist(), strict=True)):
        for s in range(n_servers):
            q = queues[s]
            while q and q[0][1] <= now:
                est_sum[s] -= q.popleft()[2]
            outstanding = 0.0
            if q:  # the head is in service: count only its estimated remainder
                start, _, head_est = q[0]
                done = (now - start) * SPEEDS[s]
                outstanding = max(0.0, est_sum[s] - head_est + max(0.0, head_est - done))
            views[s, 2] = len(q)
            views[s, 3] = outstanding
        choice = choose_server((i, now, e), views)
        if type(choice) is not int:  # decoded from the channel: exactly int, or not an index
            shown = repr(choice)[:60]
            raise InvalidOutput(f"choose_server returned {shown} ({type(choice).__name__}), not an int index")
        if not 0 <= choice < n_servers:
            raise InvalidOutput(f"choose_server returned {choice}, outside 0..{n_servers - 1}")
        start = max(now, free_at[choice])
        finish = start + w / SPEEDS[choice]
        free_at[choice] = finish
        queues[choice].append((start, finish, e))
        est_sum[choice] += e
        latency[i] = finish - now
    return latency


def evaluate(
    candidate: Candidate, seeds: tuple[int, ...] = WORKLOAD_SEEDS, n_requests: int = REQUESTS_PER_WORKLOAD
) -> dict[str, Any]:
    """p99 and mean latency and throughput over seeded bursty workloads."""
    latencies, throughputs = [], []
    for k, seed in enumerate(seeds):
        if k:
            candidate.reload()  # fresh module state per workload
        choose = candidate.function("choose_server")
        arrivals, work, est = workload(seed, n_requests)
        lat = simulate(choose, arrivals, work, est)
        latencies.append(lat)
        makespan_ms = float(np.max(arrivals + lat) - arrivals[0])
        throughputs.append(n_requests / makespan_ms * 1000.0)
    all_lat = np.concatenate(latencies)
    return {
        "p99_latency_ms": float(np.percentile(all_lat, 99)),
        "mean_latency_ms": float(np.mean(all_lat)),
        "throughput_rps": float(np.mean(throughputs)),
        "artifacts": {"p50_latency_ms": float(np.percentile(all_lat, 50)), "seeds": list(seeds)},
    }


def evaluate_quick(candidate: Candidate) -> dict[str, Any]:
    """Cascade stage 1: one short workload, to reject broken candidates cheaply."""
    return evaluate(candidate, seeds=(QUICK_SEED,), n_requests=1000)
