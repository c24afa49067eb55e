"""The population: islands, an elite archive, a MAP-Elites grid and a Pareto front.

It holds lightweight member records (ids, scores, metrics, signatures), never code: the
run loop fetches code from the artifact store by id. Every structure is bounded (island
capacity, archive size, grid cells, front capacity), so adding a candidate costs the
same at the 100,000th as at the 100th. Members that no structure refers to any more are
forgotten. The whole state is JSON (`to_state` / `from_state`) and every choice draws
from an RNG the caller passes in, so a resumed run with the same RNG state samples the
same parents.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any

import numpy as np

from syslab.search import selection as sel
from syslab.search.features import Cell, describe
from syslab.search.members import (  # noqa: F401 - re-exported: the population's records
    AddResult,
    Member,
    Move,
    Sample,
    ring_moves,
    rng_from_state,
    rng_state,
)
from syslab.search.pareto import crowding_distances, dominates  # noqa: F401 - re-exported
from syslab.search.settings import SearchSettings

STATE_VERSION = 1


class Population:
    """Bounded population policies; see docs/search.md for the settings."""

    def __init__(self, settings: SearchSettings | None = None, directions: Mapping[str, Any] | None = None):
        self.settings = settings or SearchSettings()
        dirs = {k: (v.value if isinstance(v, Enum) else str(v)) for k, v in (directions or {}).items()}
        for name in self.settings.pareto_metrics:
            if dirs.get(name) not in ("maximize", "minimize"):
                raise ValueError(f"pareto metric {name!r} needs a direction (maximize/minimize)")
        self.directions = dirs
        self.members: dict[int, Member] = {}
        self.islands: list[list[int]] = [[] for _ in range(self.settings.islands)]
        self.archive: list[int] = []
        self.grid: dict[Cell, int] = {}
        self.front: list[int] = []
        self.best_id: int | None = None
        self.evaluations = 0
        self.next_island = 0
        self._refs: dict[int, int] = {}  # how many structures hold each member
        self._arrays: dict[int, np.ndarray] = {}  # signatures as arrays, for vectorised comparisons
        # Noise-aware promotion (syslab.search.noise): promotes(challenger, incumbent) decides who
        # becomes the best or keeps a MAP-Elites cell; None = the plain score ranking. Not state.
        self.promotes: Callable[[int, int], bool] | None = None

    # ---------------------------------------------------------------- bookkeeping
    def _rank(self, node_id: int) -> tuple[float, int]:
        """Sort key, higher is better; equal scores favour the older (smaller) id."""
        return (self.members[node_id].score, -node_id)  # type: ignore[return-value]

    def _wins(self, challenger: int, incumbent: int) -> bool:
        if self.promotes is None:
            return self._rank(challenger) > self._rank(incumbent)
        return self.promotes(challenger, incumbent)

    def _ref(self, node_id: int) -> None:
        self._refs[node_id] = self._refs.get(node_id, 0) + 1

    def _deref(self, node_id: int) -> None:
        left = self._refs[node_id] - 1
        if left:
            self._refs[node_id] = left
        else:
            del self._refs[node_id]
            self.members.pop(node_id, None)
            self._arrays.pop(node_id, None)

    def _objectives(self, node_id: int) -> tuple[float, ...] | None:
        m = self.members[node_id].metrics
        out = []
        for name in self.settings.pareto_metrics:
            v = m.get(name)
            if v is None or math.isnan(v):
                return None
            out.append(float(v) if self.directions[name] == "maximize" else -float(v))
        return tuple(out)

    def _similarities(self, sig: np.ndarray, ids: Sequence[int]) -> np.ndarray:
        """Estimated Jaccard of sig to each id (0.0 for ids without a signature)."""
        rows = [self._arrays.get(i) for i in ids]
        out = np.zeros(len(ids))
        have = [k for k, r in enumerate(rows) if r is not None]
        if have:
            out[have] = np.count_nonzero(np.stack([rows[k] for k in have]) == sig, axis=1) / len(sig)
        return out

    # ---------------------------------------------------------------- add
    def add(self, member: Member, island: int | None = None) -> AddResult:
        """Record one evaluated candidate (valid or not) and place it if it is valid.

        Island: `island` if given (pass Sample.island), else the parent's home island if the
        parent is still known, else every island for a root (the seed), else parent_id mod n.
        Every call counts as an evaluation; a due ring migration runs at the end.
        """
        self.evaluations += 1
        result = AddResult(member.id)
        parent = self.members.get(member.parent_id) if member.parent_id is not None else None
        if parent is not None:
            parent.children += 1
        if member.valid:
            self._place(member, island, parent, result)
        interval = self.settings.migration_interval
        if interval and self.evaluations % interval == 0:
            result.migrations = self.migrate()
        return result

    def _place(self, member: Member, island: int | None, parent: Member | None, result: AddResult) -> None:
        if member.id in self.members:
            raise ValueError(f"member {member.id} is already in the population")
        n = self.settings.islands
        if island is not None:
            if not 0 <= island < n:
                raise ValueError(f"island {island} out of range 0..{n - 1}")
            targets = [island]
        elif parent is not None and parent.island is not None:
            targets = [parent.island]
        elif member.parent_id is None:
            targets = list(range(n))
        else:
            targets = [member.parent_id % n]
        member.island = targets[0]
        self.members[member.id] = member
        self._refs[member.id] = 1  # held by this call until the end, so eviction cannot drop it early
        arr = None
        if member.signature is not None:
            arr = np.asarray(member.signature, dtype=np.uint32)
            self._arrays[member.id] = arr
        member.cell, archive_sims = self._describe(member, arr)
        result.cell = member.cell

        for i in targets:
            if self._insert_island(i, member.id, result.evicted):
                result.islands.append(i)
        result.in_archive = self._insert_archive(member.id, archive_sims)
        result.cell_improved = self._insert_grid(member.id)
        result.on_front = self._insert_front(member.id)
        if self.best_id is None or self._wins(member.id, self.best_id):
            if self.best_id is not None:
                self._deref(self.best_id)
            self.best_id = member.id
            self._ref(member.id)
            result.new_best = True
        self._deref(member.id)

    def _describe(self, member: Member, arr: np.ndarray | None) -> tuple[Cell | None, np.ndarray | None]:
        """The member's MAP-Elites cell and its similarities to the archive."""
        sims = self._similarities(arr, self.archive) if arr is not None else None
        div = float(np.mean(1.0 - sims)) if sims is not None and len(sims) else 0.0
        return describe(self.settings, member.code_length, member.metrics, diversity_value=div), sims

    def rivals(self, member: Member) -> list[int]:
        """Incumbents a valid `member` would displace by its score: the best and its cell's elite.

        Changes nothing: the run loop re-measures these before a noisy task's promotion.
        """
        if not member.valid:
            return []
        out = []
        if self.best_id is not None and member.score > self.members[self.best_id].score:  # type: ignore[operator]
            out.append(self.best_id)
        arr = None if member.signature is None else np.asarray(member.signature, dtype=np.uint32)
        cell, _ = self._describe(member, arr)
        cur = None if cell is None else self.grid.get(cell)
        if cur is not None and cur not in out and member.score > self.members[cur].score:  # type: ignore[operator]
            out.append(cur)
        return out

    def rescore(self, node_id: int, score: float | None, metrics: Mapping[str, float]) -> None:
        """A member's score after re-measurement (its mean); its cell stays where it was placed."""
        m = self.members.get(node_id)
        if m is not None:
            m.score = score
            m.metrics = dict(metrics)

    def _insert_island(self, i: int, node_id: int, evicted: list[int]) -> bool:
        isl = self.islands[i]
        if node_id in isl:
            return True
        isl.append(node_id)
        self._ref(node_id)
        if len(isl) <= self.settings.island_capacity:
            return True
        best = max(isl, key=self._rank)
        worst = min((x for x in isl if x != best), key=self._rank)
        isl.remove(worst)
        self._deref(worst)
        if worst == node_id:
            return False
        evicted.append(worst)
        return True

    def _insert_archive(self, node_id: int, sims: np.ndarray | None) -> bool:
        """Top-k by score, kept diverse: a close twin (similarity >= archive_similarity) is the
        only member a newcomer may replace; otherwise it replaces the worst when full."""
        twin = None
        if sims is not None and len(sims):
            k = int(np.argmax(sims))
            if sims[k] >= self.settings.archive_similarity:
                twin = self.archive[k]
        if twin is None and len(self.archive) < self.settings.archive_size:
            self.archive.append(node_id)
            self._ref(node_id)
            return True
        victim = twin if twin is not None else min(self.archive, key=self._rank)
        if self._rank(node_id) <= self._rank(victim):
            return False
        self.archive[self.archive.index(victim)] = node_id
        self._ref(node_id)
        self._deref(victim)
        return True

    def _insert_grid(self, node_id: int) -> bool:
        cell = self.members[node_id].cell
        if cell is None:
            return False
        cur = self.grid.get(cell)
        if cur is not None and not self._wins(node_id, cur):
            return False
        self.grid[cell] = node_id
        self._ref(node_id)
        if cur is not None:
            self._deref(cur)
        return True

    def _insert_front(self, node_id: int) -> bool:
        if not self.settings.pareto_metrics:
            return False
        v = self._objectives(node_id)
        if v is None:
            return False
        objs = [self._objectives(f) for f in self.front]
        if any(dominates(o, v) for o in objs):  # type: ignore[arg-type]
            return False
        keep = [f for f, o in zip(self.front, objs, strict=True) if not dominates(v, o)]  # type: ignore[arg-type]
        for f in self.front:
            if f not in keep:
                self._deref(f)
        self.front = keep + [node_id]
        self._ref(node_id)
        if len(self.front) > self.settings.pareto_capacity:
            dist = crowding_distances([self._objectives(f) for f in self.front])  # type: ignore[misc]
            k = min(range(len(self.front)), key=lambda j: (dist[j], j))  # most crowded, oldest first
            gone = self.front.pop(k)
            self._deref(gone)
            return gone != node_id
        return True

    # ---------------------------------------------------------------- migration
    def migrate(self) -> list[Move]:
        """Run one ring migration now; returns the moves (each placed subject to capacity)."""
        moves = ring_moves(self.islands, self._rank, self.settings.migration_count)
        for mv in moves:
            self._insert_island(mv.dst, mv.id, [])
        return moves

    # ---------------------------------------------------------------- sampling
    def _select(self, pool: Sequence[int], rng: random.Random) -> int:
        s = self.settings
        method = s.selection
        if method == "uniform_front":
            inside = set(pool)
            front = [f for f in self.front if f in inside]
            if front:
                return sel.uniform_from_front(front, rng)
            method = "power_law"  # no front member here: fall back to rank-based choice
        scores = [self.members[i].score for i in pool]
        if method == "power_law":
            k = sel.power_law_rank(scores, s.power_law_alpha, rng)  # type: ignore[arg-type]
        elif method == "sigmoid":
            children = [self.members[i].children for i in pool]
            k = sel.weighted_sigmoid(scores, s.sigmoid_lambda, s.sigmoid_midpoint, rng, children)  # type: ignore[arg-type]
        else:
            k = sel.tournament(scores, s.tournament_size, rng)  # type: ignore[arg-type]
        return pool[k]

    def sample(self, rng: random.Random, island: int | None = None) -> Sample:
        """Choose a parent and inspirations. island None = round-robin over islands.

        With probability exploration_ratio the parent is uniform over the island; with
        exploitation_ratio it is selected among the island's archive elites (its best member
        if none); otherwise the configured selection runs over the whole island.
        """
        n = self.settings.islands
        if island is None:
            island = self.next_island
            self.next_island = (island + 1) % n
        elif not 0 <= island < n:
            raise ValueError(f"island {island} out of range 0..{n - 1}")
        for k in range(n):  # an empty island borrows from the next one in the ring
            if self.islands[(island + k) % n]:
                island = (island + k) % n
                break
        else:
            raise LookupError("population is empty: add a valid seed before sampling")
        ids = self.islands[island]
        s = self.settings
        r = rng.random()
        if r < s.exploration_ratio:
            mode, parent = "explore", ids[rng.randrange(len(ids))]
        elif r < s.exploration_ratio + s.exploitation_ratio:
            here = set(ids)
            elites = [a for a in self.archive if a in here] or [max(ids, key=self._rank)]
            mode, parent = "exploit", self._select(elites, rng)
        else:
            mode, parent = "select", self._select(ids, rng)
        return Sample(parent, self._inspirations(ids, parent, rng), island, mode)  # type: ignore[arg-type]

    def _inspirations(self, ids: Sequence[int], parent: int, rng: random.Random) -> list[int]:
        s = self.settings
        if s.num_inspirations == 0:
            return []
        pool = list(dict.fromkeys([*ids, *self.archive, *self.grid.values()]))
        scores = [self.members[i].score for i in pool]
        similarity = None
        if parent in self._arrays:
            zero = np.zeros(len(self._arrays[parent]), dtype=np.uint32)
            # rows of members without a signature never match (similarity ~0)
            mat = np.stack([self._arrays.get(i, zero) for i in pool])
            has = np.array([i in self._arrays for i in pool])

            def similarity(anchor: int) -> np.ndarray:
                a = self._arrays.get(anchor)
                if a is None:
                    return np.zeros(len(pool))
                return np.where(has, np.count_nonzero(mat == a, axis=1) / mat.shape[1], 0.0)

        return sel.pick_inspirations(
            pool,
            scores,  # type: ignore[arg-type]
            s.num_top_inspirations,
            s.num_inspirations - s.num_top_inspirations,
            rng,
            similarity,
            exclude=[parent],
        )

    # ---------------------------------------------------------------- views
    def island_of(self, node_id: int) -> list[int]:
        return [i for i, isl in enumerate(self.islands) if node_id in isl]

    def best(self) -> Member | None:
        return None if self.best_id is None else self.members[self.best_id]

    # ---------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "settings": self.settings.model_dump(mode="json"),
            "directions": dict(self.directions),
            "evaluations": self.evaluations,
            "next_island": self.next_island,
            "best_id": self.best_id,
            "members": [m.to_dict() for m in self.members.values()],
            "islands": [list(isl) for isl in self.islands],
            "archive": list(self.archive),
            "grid": [[list(cell), node_id] for cell, node_id in self.grid.items()],
            "front": list(self.front),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Population:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"population state version {state.get('version')!r}, expected {STATE_VERSION}")
        pop = cls(SearchSettings.model_validate(state["settings"]), state["directions"])
        pop.evaluations = int(state["evaluations"])
        pop.next_island = int(state["next_island"])
        for d in state["members"]:
            m = Member.from_dict(d)
            pop.members[m.id] = m
            if m.signature is not None:
                pop._arrays[m.id] = np.asarray(m.signature, dtype=np.uint32)
        pop.islands = [[int(x) for x in isl] for isl in state["islands"]]
        pop.archive = [int(x) for x in state["archive"]]
        pop.grid = {tuple(int(c) for c in cell): int(x) for cell, x in state["grid"]}
        pop.front = [int(x) for x in state["front"]]
        pop.best_id = state["best_id"]
        held = [*(x for isl in pop.islands for x in isl), *pop.archive, *pop.grid.values(), *pop.front]
        if pop.best_id is not None:
            held.append(pop.best_id)
        for x in held:
            if x not in pop.members:
                raise ValueError(f"population state refers to unknown member {x}")
            pop._ref(x)
        return pop
