"""syslab's own minimal spot-scheduling API, with the names leaderboard strategies import.

It runs in the candidate's process. A strategy sees only what it may observe
now: elapsed time, the tick length, the cluster it runs on, whether spot is
available in this tick (per region in the multi-region variant), its own
progress. The simulator that owns the traces, the progress, the deadline
guard and the bill runs in the trusted evaluator (syslab/adrs/spot_sim.py);
the views here are copies it refreshes once per tick.
"""
