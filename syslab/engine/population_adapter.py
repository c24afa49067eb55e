"""Glue between the run loop's nodes and the pure search structures in syslab.search."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from syslab.agents.patch import code_hash
from syslab.artifacts.schema import Node, NodeKind
from syslab.search.novelty import NoveltyChecker, Signature, signature
from syslab.search.population import Member, Population
from syslab.search.settings import SearchSettings, validate_for_task
from syslab.task import Task


class PopulationAdapter:
    """Feeds evaluated nodes to the Population and samples parents for new slots."""

    def __init__(
        self, settings: SearchSettings, task: Task, signatures: dict[int, tuple[str, Signature]] | None = None
    ):
        self.settings = settings
        self.signatures = signatures if signatures is not None else {}  # filled by Dedup.add
        self.directions = {k: m.direction.value for k, m in task.spec.metrics.items()}
        validate_for_task(settings, self.directions, path="search settings")
        self.pop = Population(settings, self.directions)
        self.promotes: Callable[[int, int], bool] | None = (
            None  # noise-aware promotion (syslab.engine.contest)
        )

    def _signature(self, code: str) -> Signature:
        return signature(code, self.settings.minhash_perms, self.settings.shingle_size)

    def _member(self, node: Node, code: str, keys: tuple[str, Signature] | None) -> Member:
        keys = keys or (code_hash(code), self._signature(code))
        return Member(
            id=node.id,
            score=node.score if node.valid else None,
            metrics=dict(node.metrics),
            parent_id=node.parent_id,
            code_hash=keys[0],
            code_length=len(code),
            signature=keys[1] if node.valid else None,
        )

    def add(self, node: Node, code: str) -> None:
        member = self._member(node, code, self.signatures.pop(node.id, None))
        self.pop.promotes = self.promotes
        self.pop.add(member, island=None if node.kind == NodeKind.seed else node.island)

    def rivals(self, node: Node, code: str) -> list[int]:
        """Who `node` (scored, not yet added) would displace: the best, its cell's elite."""
        return self.pop.rivals(self._member(node, code, self.signatures.get(node.id)))

    def rescore(self, node: Node) -> None:
        self.pop.rescore(node.id, node.score if node.valid else None, node.metrics)

    def sample(self, rng: random.Random) -> tuple[int, list[int], int]:
        # The island comes from the slot's own RNG rather than the population's round-robin
        # counter, so sampling leaves no state behind that a resume would have to restore.
        island = rng.randrange(self.settings.islands)
        s = self.pop.sample(rng, island=island)
        return s.parent_id, list(s.inspiration_ids), s.island

    def to_state(self) -> dict[str, Any]:
        return self.pop.to_state()

    def load_state(self, state: dict[str, Any]) -> None:
        self.pop = Population.from_state(state)


class Dedup:
    """Exact (normalised hash) and near (MinHash/embedding) duplicate rejection before evaluation."""

    def __init__(self, settings: SearchSettings, embedder: Any = None):
        self.checker = NoveltyChecker.from_settings(settings, embedder)
        self._last: tuple[str, str, Signature] | None = None
        # node id -> (normalised hash, signature), until the population takes them
        self.signatures: dict[int, tuple[str, Signature]] = {}

    def _keys(self, code: str) -> tuple[str, Signature]:
        if self._last is not None and self._last[0] == code:
            return self._last[1], self._last[2]
        h, sig = code_hash(code), self.checker.signature(code)
        self._last = (code, h, sig)
        return h, sig

    def check(self, code: str) -> tuple[int, float] | None:
        h, sig = self._keys(code)
        verdict = self.checker.check(h, sig, code)
        if not verdict.duplicate or verdict.duplicate_of is None:
            return None
        return verdict.duplicate_of, (1.0 if verdict.kind == "exact" else verdict.similarity)

    def add(self, node_id: int, code: str) -> None:
        h, sig = self._keys(code)
        self.checker.add(node_id, h, sig, code)
        if len(self.signatures) < 4096:
            self.signatures[node_id] = (h, sig)
