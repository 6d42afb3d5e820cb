"""Early floors of the bound worker (allocopt.formulations.bound_worker): the
start plan's tier values, used before the tier stages finish. The bound they
give is at most the cost of every valid plan that reaches them, and a tier
stage that gains over the start plan releases the early floors below it."""

from __future__ import annotations

import itertools
import time
from types import SimpleNamespace

import pytest
from formulation_kit import assignment_plan, random_problem
from test_bound_worker import _two_jobs  # the same two-job fixture
from hypothesis import given, settings
from hypothesis import strategies as st

from allocopt import solve
from allocopt.formulations.bound_worker import BoundWorker
from allocopt.prepared import Prepared
from allocopt.validate import compute_metrics, is_valid, validate

pytest.importorskip("highspy")


def _worker(early: dict[int, float], stages: list[tuple[int, float | None]]) -> BoundWorker:
    p = random_problem(0, max_jobs=2, max_slots=2)
    w = BoundWorker(p, Prepared(p), time.perf_counter() + 10, early=early)
    w.watch([SimpleNamespace(tier=t, value=v, status="not run" if v is None else "feasible")
             for t, v in stages])
    return w


def test_early_floors_hold_until_a_stage_gains():
    early = {3: 10.0, 2: 20.0, 1: 30.0, 0: 40.0}
    w = _worker(early, [(3, None), (2, None), (1, None), (0, None)])
    assert w.ready() and w.floors() == early
    # Tier 3 kept its value, tier 2 gained: tiers 1 and 0 may give value up.
    w = _worker(early, [(3, 10.0), (2, 25.0), (1, None), (0, None)])
    assert w.floors() == {3: 10.0, 2: 25.0}
    # Below the gain only the stages' own values count.
    w = _worker(early, [(3, 10.0), (2, 25.0), (1, 5.0), (0, None)])
    assert w.floors() == {3: 10.0, 2: 25.0, 1: 5.0}
    # No gain: every early floor stands, raised where a stage is higher.
    w = _worker(early, [(3, 10.0), (2, 20.0), (1, 30.0), (0, 45.0)])
    assert w.floors() == {3: 10.0, 2: 20.0, 1: 30.0, 0: 45.0}


def tiny_with_floors(seed: int):
    """A random problem small enough to enumerate (lexicographic, nothing
    required), its greedy plan and that plan's positive tier values as
    floors; None for a problem outside that case."""
    p = random_problem(seed, max_jobs=3, max_slots=3, max_entries=2, max_count=2,
                       max_replicas=2)
    if p.objective.mode != "lexicographic" or any(j.required for j in p.jobs):
        return None
    plan = solve(p, solver="greedy")
    floors = {int(t): v for t, v in plan.metrics["placed_value_by_priority"].items() if v > 0}
    return p, plan, floors


def _cheapest_reaching(p, floors: dict[int, float]) -> float:
    """The least cost of a valid plan whose tier values reach ``floors``
    (enumeration of every plan of a tiny problem)."""
    names = p.node_names()
    H = p.horizon.slots
    options = []
    for job in p.jobs:
        opts = [None] + [(s, ns) for s in range(H - job.duration + 1)
                         for ns in itertools.combinations(names, job.replicas)]
        options.append(opts)
    best = float("inf")
    for combo in itertools.product(*options):
        chosen = {job.id: o for job, o in zip(p.jobs, combo, strict=True) if o is not None}
        plan = assignment_plan(p, chosen)
        m = compute_metrics(p, plan.assignments)
        tiers = m["placed_value_by_priority"]
        if m["cost"] >= best or any(tiers.get(str(t), 0.0) < v - 1e-9 for t, v in floors.items()):
            continue
        if is_valid(plan, [v for v in validate(p, plan) if v.rule != "accounting"]):
            best = m["cost"]
    return best


@settings(max_examples=6, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_early_bound_is_below_every_plan_reaching_the_floors(seed):
    """The worker's bound with the greedy plan's tier values as early floors
    is at most the cheapest valid plan with at least those values (found by
    enumerating every plan)."""
    case = tiny_with_floors(seed)
    if case is None:
        return
    p, plan, floors = case
    w = BoundWorker(p, Prepared(p), time.perf_counter() + 30, early=floors).start()
    while not w.results and w._thread is not None and w._thread.is_alive():
        w._thread.join(0.05)
    w.stop()
    assert w.error is None
    cheapest = _cheapest_reaching(p, floors)
    assert cheapest <= plan.metrics["cost"] + 1e-9  # the greedy plan reaches them
    for fl, b in w.results:
        assert fl == floors
        assert b <= cheapest + 1e-6 * max(1.0, cheapest)


def test_resolves_when_a_stage_raises_the_floors():
    """Early floor 1 job (one node: 10 + 5 kWh = 15), then the tier stage
    reaches 2 jobs (two nodes: 30): the worker solves again, and the final
    plan (both jobs) gets the higher bound."""
    p = _two_jobs()
    stage = SimpleNamespace(tier=0, value=None, status="not run")
    w = BoundWorker(p, Prepared(p), time.perf_counter() + 60, early={0: 1.0})
    w.watch([stage])
    w.start()
    while not w.results and w._thread.is_alive():
        w._thread.join(0.05)
    stage.value, stage.status = 2.0, "optimal"
    while len(w.results) < 2 and w._thread.is_alive():
        w._thread.join(0.05)
    assert [(fl, round(b, 6)) for fl, b in w.results] == [({0: 1.0}, 15.0), ({0: 2.0}, 30.0)]
    plan = solve(p, solver="greedy")
    assert w.finish(plan).bound["cost"] == pytest.approx(30, rel=1e-5)


def test_time_limit_counts_from_the_objects_run_time():
    """A re-solve's limit is added to the run time HiGHS already counts."""
    import highspy

    from allocopt.formulations.bound_worker import set_time_limit
    from allocopt.formulations.packing_bound import _silent_highs

    h = _silent_highs(highspy)
    h.setOptionValue("threads", 1)  # as the package's (one global scheduler)
    h.addVars(2, [0.0, 0.0], [1.0, 1.0])
    h.changeColsCost(2, [0, 1], [1.0, 2.0])
    h.addRow(1.0, highspy.kHighsInf, 2, [0, 1], [1.0, 1.0])
    h.run()
    used = h.getRunTime()
    assert used > 0
    set_time_limit(h, 5.0)
    assert h.getOptionValue("time_limit")[1] == pytest.approx(used + 5.0)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
