"""cant_be_late in split mode: the seed's published numbers, and hostile strategies that must not gain.

The evaluator runs here; each candidate is served by an unsandboxed child process with the task's
adapter (syslab.evaluators.local), except the end-to-end tests, which go through the harness with the
process sandbox (trusted evaluator and sandboxed candidate processes).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from types import ModuleType

import pytest
from adrs_support import DATA, TASKS

from syslab.adrs.spot_sim import PRICES, SpotRun, simulate
from syslab.evaluators import InvalidOutput, WrongAnswer
from syslab.evaluators.handle import CandidateError
from syslab.evaluators.harness import evaluate_program
from syslab.evaluators.local import task_candidate
from syslab.sandbox.process import ProcessSandbox
from syslab.task import Task, load_task

TASK = load_task(TASKS / "cant_be_late")
SEED = TASK.seed_code
# The seed's numbers before split evaluation (shared mode, commit cded5ff), to the last digit.
SEED_QUICK_COST = 123.80935254629568
SEED_FULL_COST = 119.03453876543158  # results/cant_be_late/baseline: 119.0345387654
SEED_FULL_SCORE = 27.797871278938874


# Never idle: fall back to on-demand whenever spot is down. Idling until the deadline forces a long
# on-demand tail costs more than bridging spot gaps, so this beats the baseline.
BETTER = SEED.replace(
    "return ClusterType.SPOT if has_spot else ClusterType.NONE",
    "return ClusterType.SPOT if has_spot else ClusterType.ON_DEMAND",
)

# Spot when it is up, otherwise wait, and leave the deadline to the simulator's guard: the guard keeps a
# running spot instance at the edge, a preemption there comes too late to recover, and the job ends late
# in some scenarios (scored as on the leaderboard, counted in deadline_misses).
GREEDY = """
from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType

class Greedy(Strategy):
    NAME = "greedy"

    def _step(self, last, has_spot):
        return ClusterType.SPOT if has_spot else ClusterType.NONE
"""

# Never runs anything: every hour of work is the guard's forced on-demand at the end.
IDLE = """
from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType

class Idle(Strategy):
    NAME = "idle"

    def _step(self, last, has_spot):
        return ClusterType.NONE
"""

NO_STRATEGY = "x = 1\n"


@cache
def evaluator() -> ModuleType:
    """The task's evaluate.py, loaded once (its trace selection is cached in the module)."""
    spec = importlib.util.spec_from_file_location(
        "_cant_be_late_evaluate", TASKS / "cant_be_late" / "evaluate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(code: str, entry: str = "evaluate_quick") -> dict:
    with task_candidate(TASK, code) as candidate:
        return getattr(evaluator(), entry)(candidate)


def quick_task() -> Task:
    """The task with its quick stage as the only evaluation (end-to-end tests stay short)."""
    spec = TASK.spec.model_copy(update={"evaluator": "evaluate.py:evaluate_quick", "stages": []})
    return TASK.model_copy(update={"spec": spec})


def test_seed_scores_what_it_scored_before_split_evaluation():
    q1, q2 = run(SEED), run(SEED)
    assert q1["scenarios"] == 72 and q1["avg_cost"] == q2["avg_cost"] == SEED_QUICK_COST
    full = run(SEED, "evaluate")
    assert full["scenarios"] == 1080
    assert full["avg_cost"] == SEED_FULL_COST and full["score"] == SEED_FULL_SCORE
    # One call per tick of the shared history clock for all 1,080 jobs (spot_lockstep.py): at least
    # one job's 52 h of 10 min ticks, at most the histories' 1,764 ticks and a few calls per pass.
    assert 52 * 6 < full["artifacts"]["candidate_calls"] < 1800


def test_better_candidate():
    better, seed = run(BETTER), run(SEED)
    assert better["avg_cost"] < seed["avg_cost"] and better["score"] > seed["score"]


def greedy_decide(tick: int, last: int, avail: int, done_inc: float, restart_left: float, region: int):
    """GREEDY's rule as a plain decide function: spot when region 0 has it, otherwise nothing."""
    return ("SPOT" if avail & 1 else "NONE"), 0


def test_late_job_is_billed_every_tick_and_scored():
    # Half-hour ticks, 1 h of work, 2 h deadline, 0.5 h restart. Spot at tick 0 (restart), kept by the
    # guard at tick 1, preempted at tick 2 (one tick of work done), nothing at tick 2, then on-demand
    # pays a restart and a tick of work: done after tick 5, at 2.5 h; the spot the strategy asked for
    # then runs one more tick, and is billed, as on the leaderboard.
    run_ = SpotRun(([0, 0, 1, 0, 0, 0, 0, 0],), 1800, 1.0, 2.0, 0.5)
    outcome = simulate(greedy_decide, run_)
    assert outcome.late and outcome.finish_h == 2.5
    assert run_.billed == ["NONE", "SPOT", "SPOT", "NONE", "ON_DEMAND", "ON_DEMAND", "SPOT"]
    assert outcome.cost == pytest.approx((3 * PRICES["SPOT"] + 2 * PRICES["ON_DEMAND"]) * 0.5)


def test_job_on_time_is_not_late():
    outcome = simulate(greedy_decide, SpotRun(([0] * 8,), 1800, 1.0, 2.0, 0.5))
    assert not outcome.late and outcome.finish_h <= 2.0


def test_running_past_the_trace_is_wrong_answer():
    with pytest.raises(WrongAnswer, match="after the trace ends"):
        simulate(greedy_decide, SpotRun(([1] * 4,), 1800, 1.0, 2.0, 0.5))


def test_deadline_misses_are_counted_not_rejected():
    greedy, seed = run(GREEDY), run(SEED)
    assert greedy["deadline_misses"] > 0 and seed["deadline_misses"] == 0
    od, spot = 3.06 * 48, 0.9731 * 48
    assert greedy["score"] == pytest.approx((od - greedy["avg_cost"]) / (od - spot) * 100)


def test_no_strategy_is_invalid():
    with pytest.raises(CandidateError, match="no subclass of Strategy") as err:
        run(NO_STRATEGY)
    assert err.value.kind.value == "invalid_output"


# --- hostile strategies: none may score better than the honest strategy it imitates ---------------

# Looks for the future everywhere in its own process: env attributes, every live object, the caller's
# frames. Finding anything trace-like (a long 0/1 list) switches it to never idling (BETTER's rule),
# which would change the score; finding nothing leaves it the seed.
PEEK_FUTURE = SEED.replace(
    "    def _step(self, last_cluster_type, has_spot):\n",
    """    def _leak(self):
        import gc, sys
        seen = [getattr(self.env, name, None) for name in dir(self.env)]
        seen += [v for v in vars(self.env).values()] + [getattr(self, "task", None)]
        seen += gc.get_objects()
        frame = sys._getframe(1)
        while frame is not None:
            seen += list(frame.f_locals.values())
            frame = frame.f_back
        for obj in seen:
            if isinstance(obj, (list, tuple)) and len(obj) > 300 and all(x in (0, 1) for x in obj):
                return True
        return False

    def _step(self, last_cluster_type, has_spot):
        if self.env.tick == 1 and self._leak():
            type(self).LEAKED = True
        if getattr(type(self), "LEAKED", False) and not has_spot:
            return ClusterType.ON_DEMAND
""",
)


def test_strategy_cannot_find_the_future_in_its_process():
    leaked = run(PEEK_FUTURE)
    assert leaked["avg_cost"] == SEED_QUICK_COST


# Claims the job is done and the restart paid, then idles as a finished job would: the simulator's own
# progress keeps the job running and its guard runs it on-demand before the deadline, as for IDLE.
FAKE_PROGRESS = SEED.replace(
    "        gap = self.env.gap_seconds\n",
    "        self.task_done_time.append(self.task_duration)\n"
    "        self.remaining_restart_overhead = 0.0\n"
    "        self.task.progress = [self.task_duration]\n"
    "        gap = self.env.gap_seconds\n",
    1,
)

# The pre-split way to fake progress: take over step() and book a whole tick of work each tick.
FAKE_STEP = """
from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType

class Booker(Strategy):
    NAME = "booker"

    def step(self):
        self.task_done_time.append(self.env.gap_seconds * 10)
        return ClusterType.NONE

    def _step(self, last, has_spot):
        return ClusterType.NONE
"""


@pytest.mark.parametrize("code", [FAKE_PROGRESS, FAKE_STEP], ids=["edit_views", "override_step"])
def test_edited_progress_only_misleads_the_strategy(code: str):
    faked, idle, seed = run(code), run(IDLE), run(SEED)
    assert faked["avg_cost"] == idle["avg_cost"] > seed["avg_cost"]


# Spot asked for when there is none gets nothing, exactly as the seed's NONE does.
SPOT_ANYWAY = SEED.replace(
    "return ClusterType.SPOT if has_spot else ClusterType.NONE", "return ClusterType.SPOT"
)


def test_spot_request_without_spot_gets_nothing():
    assert SPOT_ANYWAY != SEED
    assert run(SPOT_ANYWAY)["avg_cost"] == SEED_QUICK_COST


# Replaces the driver's answer on the wire (the adapter runs in the candidate's process): a str
# subclass that equals everything, with the seed's decision as its text.
FAKE_TYPE = (
    SEED
    + """
import syslab.adrs.spot_adapter as _adapter

class Anything(str):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = str.__hash__

_honest = _adapter.Driver.tick

def _tick(self, *obs):
    decision, region = _honest(self, *obs)
    return Anything(__TEXT__), region

_adapter.Driver.tick = _tick
"""
)


def test_str_subclass_decision_crosses_as_its_text():
    assert run(FAKE_TYPE.replace("__TEXT__", "decision"))["avg_cost"] == SEED_QUICK_COST


@pytest.mark.parametrize(
    "text, match",
    [("'FREE'", "decision 'FREE' is not one of"), ("'spot'", "decision 'spot' is not one of")],
)
def test_decision_outside_cluster_types_is_invalid(text: str, match: str):
    # Refused where the answer is packed (the adapter's fleet) and, were the adapter changed, by the
    # simulator's own check of the decision index (tests/adrs/test_spot_lockstep.py).
    with pytest.raises(CandidateError, match=match) as err:
        run(FAKE_TYPE.replace("__TEXT__", text))
    assert err.value.kind.value == "invalid_output"


# An object with the interface's look (a name and a value) but no ClusterType value.
POSER = """
from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType

class Cheap:
    name = "SPOT"
    value = 0.5

class Poser(Strategy):
    NAME = "poser"

    def _step(self, last, has_spot):
        return ClusterType.SPOT if has_spot else Cheap()
"""


def test_object_posing_as_cluster_type_is_rejected():
    with pytest.raises(CandidateError, match="not a ClusterType") as err:
        run(POSER)
    assert err.value.kind.value == "invalid_output"


def test_region_other_than_zero_is_invalid_in_one_region():
    code = SEED.replace(
        "        gap = self.env.gap_seconds\n",
        "        self.env.current_region = 1\n        gap = self.env.gap_seconds\n",
        1,
    )
    with pytest.raises(InvalidOutput, match="only int regions 0..0 exist"):
        run(code)


# --- end to end: trusted evaluator and sandboxed candidate, as a run evaluates ---------------------

# Reads the trace files the trusted side reads ($SYSLAB_DATA, or the path itself), prints what it got,
# and on success plays BETTER's rule, which would change the score.
READ_DATA = (
    "import os\n"
    "try:\n"
    "    with open(os.path.join(os.environ.get('SYSLAB_DATA', '__DATA__'), 'adrs/cant_be_late/real_traces.tar.gz'), 'rb') as f:\n"
    "        LEAK = len(f.read(100)) > 0\n"
    "except OSError as e:\n"
    "    LEAK = False\n"
    "    print('blocked:', type(e).__name__)\n"
    "print('leaked' if LEAK else 'no data')\n"
    + BETTER.replace(
        "return ClusterType.SPOT if has_spot else ClusterType.ON_DEMAND",
        "return ClusterType.SPOT if has_spot else (ClusterType.ON_DEMAND if LEAK else ClusterType.NONE)",
    )
).replace("__DATA__", str(DATA))


def test_end_to_end_seed_in_the_sandbox():
    result = evaluate_program(quick_task(), SEED, ProcessSandbox())
    assert result.ok, result.failure
    assert result.metrics["avg_cost"] == SEED_QUICK_COST and result.stage == "main"
    assert 52 * 6 < result.artifacts["channel"]["main"]["calls"] < 1800


def test_end_to_end_data_files_are_out_of_reach():
    assert (DATA / "adrs" / "cant_be_late" / "real_traces.tar.gz").is_file()
    result = evaluate_program(quick_task(), READ_DATA, ProcessSandbox())
    assert result.ok, result.failure
    assert "blocked" in result.evidence.stdout and "leaked" not in result.evidence.stdout
    assert result.metrics["avg_cost"] == SEED_QUICK_COST
