"""Model ensemble with UCB1 selection: proposals drift toward the model whose
candidates improve the most per unit of cost.

Reward of one proposal = improvement / max(cost, min_cost), where
improvement is how much the child beat its parent (0 when it did not, or
failed) and cost its LLM spend in USD. Rewards are normalised by the
largest reward seen so far so the exploration term has a meaningful
scale whatever the task's metric units. Configured weights scale each
model's exploration bonus: with no signal yet (all rewards 0) the models
are tried in proportion to their weights.

Pure bookkeeping: `choose` depends only on the state and the rng passed
in, and the state round-trips through `to_state`/`from_state`, so a
resumed or replayed run picks the same models.
"""

from __future__ import annotations

import math
import random
import threading
from typing import Any

from syslab.agents.llm_config import ModelSpec


class Ensemble:
    def __init__(self, models: list[ModelSpec], c: float = 1.0, min_cost: float = 1e-6) -> None:
        if not models:
            raise ValueError("an ensemble needs at least one model")
        self.models = list(models)
        self.c = c
        self.min_cost = min_cost
        self.plays: dict[str, int] = {m.name: 0 for m in models}
        self.reward_sum: dict[str, float] = {m.name: 0.0 for m in models}  # un-normalised
        self.cost_sum: dict[str, float] = {m.name: 0.0 for m in models}
        self.max_reward = 0.0
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.models]

    def _weight(self, name: str) -> float:
        top = max(m.weight for m in self.models)
        return next(m.weight for m in self.models if m.name == name) / top

    def scores(self) -> dict[str, float]:
        """The UCB1 score of each played model (an unplayed model has +inf)."""
        total = sum(self.plays.values())
        out: dict[str, float] = {}
        for name in self.names:
            n = self.plays[name]
            if n == 0:
                out[name] = math.inf
                continue
            mean = self.reward_sum[name] / n / self.max_reward if self.max_reward > 0 else 0.0
            bonus = self.c * self._weight(name) * math.sqrt(2.0 * math.log(max(total, 1)) / n)
            out[name] = mean + bonus
        return out

    def choose(self, rng: random.Random) -> str:
        """The model for the next proposal (unplayed models first, drawn by weight)."""
        with self._lock:
            if len(self.models) == 1:
                return self.models[0].name
            unplayed = [m for m in self.models if self.plays[m.name] == 0]
            if unplayed:
                return rng.choices([m.name for m in unplayed], weights=[m.weight for m in unplayed])[0]
            scores = self.scores()
            best = max(scores.values())
            tied = [n for n in self.names if scores[n] >= best - 1e-12]
            return tied[0] if len(tied) == 1 else rng.choice(tied)

    def update(self, model: str, improvement: float, cost: float) -> None:
        """Record the outcome of one proposal by `model` (improvement <= 0 counts as 0)."""
        with self._lock:
            if model not in self.plays:
                return  # a model no longer configured (e.g. resumed with another ensemble)
            reward = max(0.0, float(improvement)) / max(float(cost), self.min_cost)
            if not math.isfinite(reward):
                reward = 0.0
            self.plays[model] += 1
            self.reward_sum[model] += reward
            self.cost_sum[model] += max(0.0, float(cost))
            self.max_reward = max(self.max_reward, reward)

    def to_state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "plays": dict(self.plays),
                "reward_sum": dict(self.reward_sum),
                "cost_sum": dict(self.cost_sum),
                "max_reward": self.max_reward,
            }

    @classmethod
    def from_state(
        cls, models: list[ModelSpec], state: dict[str, Any], c: float = 1.0, min_cost: float = 1e-6
    ) -> Ensemble:
        ens = cls(models, c=c, min_cost=min_cost)
        for name in ens.names:  # models added since the state was saved start unplayed
            ens.plays[name] = int(state.get("plays", {}).get(name, 0))
            ens.reward_sum[name] = float(state.get("reward_sum", {}).get(name, 0.0))
            ens.cost_sum[name] = float(state.get("cost_sum", {}).get(name, 0.0))
        ens.max_reward = float(state.get("max_reward", 0.0))
        return ens
