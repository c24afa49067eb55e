"""Candidate-side adapter: runs in the candidate's sandboxed process, next to the program.

The evaluator sends plain data (the request as a tuple, the servers as one
numpy array, a row per server); this turns them into the small objects the
program's `choose_server(request, servers)` is written against, and returns
whatever the program answers (the evaluator checks it). Nothing here is
trusted: a candidate can change it, and it only changes what the candidate sees.
"""


class Request:
    """What the balancer knows about a request."""

    __slots__ = ("id", "time_ms", "est_work")

    def __init__(self, id, time_ms, est_work):  # noqa: A002 - the interface's field name
        self.id, self.time_ms, self.est_work = id, time_ms, est_work


class Server:
    """One server's observable state at this decision (a fresh copy each time)."""

    __slots__ = ("index", "speed", "queue_len", "outstanding_work")

    def __init__(self, index, speed, queue_len, outstanding_work):
        self.index = index
        self.speed = speed  # work units per ms
        self.queue_len = queue_len  # requests on the server, the one in service included
        self.outstanding_work = outstanding_work  # estimated work units still to do


def choose_server(program, request, servers):
    rid, time_ms, est_work = request
    views = [Server(int(i), speed, int(q), work) for i, speed, q, work in servers.tolist()]
    return program.choose_server(Request(rid, time_ms, est_work), views)
