"""The background cost bound (allocopt.formulations.bound_worker) is merged into the
plan and never contradicts it: the merged cost bound is at most the plan's
cost, at least the solver's own, and at most the true optimum's cost."""

from __future__ import annotations

import time

import pytest
from formulation_kit import brute_force_best, problem, random_problem, solve_exact, tiny_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from allocopt.formulations.bound_worker import BoundWorker, merge_cost_bound, trivial_tier_bounds
from allocopt import SolveParams, solve
from allocopt.plan import SolveStatus
from allocopt.prepared import Prepared
from allocopt.validate import compute_metrics

pytest.importorskip("highspy")

SEEDS = st.integers(min_value=0, max_value=2**31 - 1)


def _two_jobs():
    return problem([{"id": "a", "demand": {"gpu": 5}, "duration": 1, "value": 1},
                    {"id": "b", "demand": {"gpu": 5}, "duration": 1, "value": 1}],
                   slots=1, regions=[{"id": "eu", "price_per_kwh": 1.0}],
                   nodes=[{"id": "n", "region": "eu", "capacity": {"gpu": 8}, "count": 2,
                           "kw_per_unit": {"gpu": 1.0}, "cost_per_slot": 10.0}])


def _run(worker: BoundWorker) -> BoundWorker:
    """Start and wait until the worker has a result or its thread ended."""
    worker.start()
    while not worker.results and worker._thread is not None and worker._thread.is_alive():
        worker._thread.join(0.05)
    return worker


def test_worker_bound_is_merged_and_below_the_cost():
    """Hand-checked: both jobs placed cost 30 (two nodes at 10, 10 kWh at 1),
    and the relaxation proves 30. Merged into a plan with no cost bound, the
    plan's cost gap becomes 0."""
    p = _two_jobs()
    plan = solve(p, solver="greedy")
    assert plan.metrics["cost"] == pytest.approx(30)
    w = _run(BoundWorker(p, Prepared(p), time.perf_counter() + 60, floors={0: 2.0}))
    assert w.error is None and w.results
    merged = w.finish(plan.replace(bound={"placed_value_by_priority": {"0": 2.0}, "cost": 0.0}))
    assert merged.bound["cost"] == pytest.approx(30, rel=1e-5)
    assert merged.bound["cost"] <= merged.metrics["cost"]
    assert merged.gap == pytest.approx(0, abs=1e-5)


def test_floors_the_plan_does_not_reach_are_not_used():
    """A bound computed for floors above the plan's tier values says nothing
    about the plan: it is dropped."""
    p = _two_jobs()
    plan = solve(p, solver="greedy")
    w = BoundWorker(p, Prepared(p), time.perf_counter() + 60)
    w.results.append(({0: 3.0}, 1000.0))
    assert w.finish(plan) == plan
    w.results.append(({0: 1.0}, 15.0))
    assert w.finish(plan).bound["cost"] == pytest.approx(15, rel=1e-5)


def test_merge_never_above_the_cost_nor_below_the_own_bound():
    p = _two_jobs()
    plan = solve(p, solver="greedy")
    own = plan.replace(bound={"placed_value_by_priority": {"0": 2.0}, "cost": 20.0}, gap=1 / 3)
    assert merge_cost_bound(p, own, 10.0) == own  # weaker than the own bound
    higher = merge_cost_bound(p, own, 1e9)  # above the cost (can only come from tolerance)
    assert higher.bound["cost"] == pytest.approx(plan.metrics["cost"])
    assert higher.gap == pytest.approx(0)
    bare = merge_cost_bound(p, plan, 15.0)  # a plan without any bound
    assert bare.bound["placed_value_by_priority"] == trivial_tier_bounds(p) == {"0": 2.0}
    assert bare.gap == pytest.approx(0.5, rel=1e-5)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(SEEDS)
def test_solve_with_worker_never_contradicts_the_plan(seed):
    """solve() with the worker on: the plan validates, its cost bound is at
    most its cost, and, when its tiers are the optimum's (lexicographic
    mode), at most the brute-force optimum's cost."""
    p = tiny_problem(seed)
    plan = solve(p, params=SolveParams(time_limit=4.0, workers=1, bound_worker=True))
    if plan.bound and "cost" in plan.bound:
        assert plan.bound["cost"] <= plan.metrics["cost"] + 1e-9
    if p.objective.mode == "lexicographic" and plan.bound and "cost" in plan.bound:
        _, best = brute_force_best(p)
        m = compute_metrics(p, best.assignments)
        if m["placed_value_by_priority"] == plan.metrics["placed_value_by_priority"]:
            assert plan.bound["cost"] <= m["cost"] + 1e-6 * max(1.0, m["cost"])
    if plan.gaps is not None:
        assert plan.gap == max([*plan.gaps.get("placed_value_by_priority", {}).values(),
                                *[v for k, v in plan.gaps.items()
                                  if k != "placed_value_by_priority"]])


@settings(max_examples=6, deadline=None, derandomize=True)
@given(SEEDS)
def test_worker_with_stage_floors_on_random_problems(seed):
    """The worker fed the greedy plan's tiers as floors bounds the greedy
    plan's cost from below (it is a plan with those tier values)."""
    p = random_problem(seed, max_jobs=6, max_slots=6)
    if p.objective.mode != "lexicographic":
        return
    plan = solve(p, solver="greedy")
    floors = {int(t): v for t, v in plan.metrics["placed_value_by_priority"].items() if v > 0}
    w = _run(BoundWorker(p, Prepared(p), time.perf_counter() + 30, floors=floors))
    merged = w.finish(plan)
    assert w.error is None
    if merged.bound is not None:
        assert merged.bound["cost"] <= plan.metrics["cost"] + 1e-9
        assert merged.status == SolveStatus(plan.status)
