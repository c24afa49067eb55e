"""Load balancer policy: pick a server for each request.

`choose_server(request, servers)` gets the request (`id`, `time_ms`,
`est_work`: estimated work units) and one snapshot per server (`index`,
`speed` in work units per ms, `queue_len`, `outstanding_work`: estimated
work units still queued) and returns the index of the chosen server.
"""

# EVOLVE-BLOCK-START
_turn = [0]  # round robin's position, kept between calls


def choose_server(request, servers):
    n = len(servers)
    turn = _turn[0] % n
    _turn[0] += 1
    best, best_score = 0, float("inf")
    for s in servers:
        # Round robin: the server whose turn it is scores lowest. The load terms
        # have weight 0.0, which makes this plain round robin.
        score = 1.0 * ((s.index - turn) % n) + 0.0 * s.queue_len + 0.0 * s.outstanding_work / s.speed
        if score < best_score:
            best, best_score = s.index, score
    return best


# EVOLVE-BLOCK-END
