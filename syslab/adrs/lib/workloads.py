"""The three benchmark workloads as JSON strings (WORKLOAD_1..3), read via syslab.data."""

from __future__ import annotations

import json

from syslab.data import data_path

_ALL = json.loads(data_path("adrs/txn_scheduling/workloads.json").read_text())
WORKLOAD_1 = json.dumps(_ALL["workload_1"])
WORKLOAD_2 = json.dumps(_ALL["workload_2"])
WORKLOAD_3 = json.dumps(_ALL["workload_3"])
WORKLOADS = [WORKLOAD_1, WORKLOAD_2, WORKLOAD_3]
