"""Broadcast topology a cloudcast candidate returns (syslab's own, leaderboard-compatible).

`paths[dst][str(partition)]` is the list of edges `[src, dst, edge_data]` that
carry that partition of the object to `dst`.
"""

from __future__ import annotations


class BroadCastTopology:
    def __init__(self, src: str, dsts: list[str], num_partitions: int = 4, paths: dict | None = None):
        self.src = src
        self.dsts = list(dsts)
        self.num_partitions = int(num_partitions)
        if paths is not None:
            self.paths = paths
        else:
            self.paths = {d: {str(i): None for i in range(self.num_partitions)} for d in self.dsts}

    def get_paths(self) -> dict:
        return self.paths

    def set_num_partitions(self, num_partitions: int) -> None:
        self.num_partitions = int(num_partitions)

    def set_dst_partition_paths(self, dst: str, partition: int, paths: list) -> None:
        self.paths[dst][str(partition)] = paths

    def append_dst_partition_path(self, dst: str, partition: int, path: list, graph=None) -> None:
        slot = self.paths.setdefault(dst, {})
        key = str(partition)
        if slot.get(key) is None:
            slot[key] = []
        slot[key].append(path)
