"""syslab's own minimal spot-scheduling simulator API, with the names leaderboard strategies import.

Only what a strategy may legitimately observe is offered: elapsed time, tick
length, the cluster it runs on, whether spot is available now (per region in
the multi-region variant). The future of a trace is not exposed.
"""
