"""The population's records and pure helpers: what it knows of a candidate (Member), what adding
one did (AddResult), a parent draw (Sample), ring migrations (Move, ring_moves) and the RNG state
that makes a resumed run sample the same parents. Plain data, JSON round-trips, no policy.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from syslab.search.features import Cell
from syslab.search.novelty import Signature, decode_signature, encode_signature


@dataclass(slots=True)
class Member:
    """What the population knows of a candidate. score: higher is better; None = invalid."""

    id: int
    score: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    parent_id: int | None = None
    island: int | None = None  # home island (set by Population.add)
    code_hash: str = ""
    code_length: int = 0
    signature: Signature | None = None
    children: int = 0  # children recorded while this member was in the population
    cell: Cell | None = None  # MAP-Elites cell (set by Population.add)

    @property
    def valid(self) -> bool:
        return self.score is not None and not math.isnan(self.score)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": self.score,
            "metrics": self.metrics,
            "parent_id": self.parent_id,
            "island": self.island,
            "code_hash": self.code_hash,
            "code_length": self.code_length,
            "signature": None if self.signature is None else encode_signature(self.signature),
            "children": self.children,
            "cell": None if self.cell is None else list(self.cell),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Member:
        sig = d.get("signature")
        cell = d.get("cell")
        return cls(
            id=int(d["id"]),
            score=d["score"],
            metrics=dict(d.get("metrics", {})),
            parent_id=d.get("parent_id"),
            island=d.get("island"),
            code_hash=d.get("code_hash", ""),
            code_length=int(d.get("code_length", 0)),
            signature=None if sig is None else decode_signature(sig),
            children=int(d.get("children", 0)),
            cell=None if cell is None else tuple(int(c) for c in cell),
        )


@dataclass(frozen=True)
class Move:
    """A migration: member `id` copied from island `src` to island `dst`."""

    src: int
    dst: int
    id: int


@dataclass
class AddResult:
    id: int
    islands: list[int] = field(default_factory=list)  # islands it was placed on (and stayed)
    evicted: list[int] = field(default_factory=list)  # ids pushed out of an island by it
    new_best: bool = False
    cell: Cell | None = None
    cell_improved: bool = False  # it became its cell's elite
    in_archive: bool = False
    on_front: bool = False
    migrations: list[Move] = field(default_factory=list)  # migrations this evaluation triggered


@dataclass(frozen=True)
class Sample:
    parent_id: int
    inspiration_ids: list[int]
    island: int  # pass back to Population.add(child, island=...) so the child joins this island
    mode: Literal["explore", "exploit", "select"]


def ring_moves(islands: Sequence[Sequence[int]], rank: Callable[[int], Any], count: int) -> list[Move]:
    """Ring topology: the `count` best of island i (by `rank`, higher better) go to island i+1 mod n.

    All moves come from the same snapshot, so a migrant does not travel on in the same
    round. A member already on the destination is not copied again.
    """
    n = len(islands)
    if n < 2 or count <= 0:
        return []
    moves = []
    for i, members in enumerate(islands):
        dst = (i + 1) % n
        there = set(islands[dst])
        for node_id in sorted(members, key=rank, reverse=True)[:count]:
            if node_id not in there:
                moves.append(Move(i, dst, node_id))
    return moves


def rng_state(rng: random.Random) -> list[Any]:
    """A JSON-able form of an RNG's state (store it beside Population.to_state())."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def rng_from_state(state: Sequence[Any]) -> random.Random:
    rng = random.Random()
    rng.setstate((state[0], tuple(state[1]), state[2]))
    return rng
