"""The ADRS case studies (arXiv 2510.06189, UCB-ADRS/ADRS-Leaderboard) as syslab tasks.

`syslab.adrs.lib` holds the modules leaderboard programs import
(`txn_simulator`, `workloads`, `broadcast`, `sky_spot`), written for syslab.
"""
