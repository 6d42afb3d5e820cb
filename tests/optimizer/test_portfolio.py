"""The portfolio start and the greedy repair pass (optimizer/portfolio.py,
optimizer/repair.py)."""

from __future__ import annotations

import json
import time

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import random_problem

from allocopt import SolveParams, solve
from allocopt.greedy import run_greedy
from allocopt.plan import Plan
from allocopt.portfolio import FAST_MEMBERS, portfolio_start
from allocopt.prepared import Prepared
from allocopt.problem import Problem
from allocopt.repair import repair
from allocopt.validate import better, is_valid, validate


def _valid(p: Problem, plan: Plan) -> bool:
    return is_valid(plan, validate(p, plan))


@settings(max_examples=12, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_portfolio_plan_is_never_worse_than_any_member(seed):
    """On random problems the portfolio's plan is valid, names a member that
    ran, and no member that ran has a lexicographically better valid plan."""
    p = random_problem(seed, max_jobs=6)
    prep = Prepared(p)
    params = SolveParams(time_limit=1000.0)  # every member gets to run
    greedy = run_greedy(p, prep=prep)
    res = portfolio_start(p, prep, params, greedy, time.perf_counter() + 1000.0)
    assert _valid(p, res.plan.replace(status="infeasible")) or _valid(p, res.plan)
    ran = [name for name, _, key in res.runs]
    assert res.seeded_by.split("+")[0] in ran
    assert len(ran) >= 12  # greedy, its variants, the ten baselines, repair
    for name in ran:
        if name in ("greedy", "repair", "reinsert"):
            continue
        member = solve(p, solver=name) if name not in ("greedy-value", "greedy-early",
                                                       "greedy-early-value") else None
        if member is not None:
            assert not better(p, member.metrics, res.plan.metrics), name


@settings(max_examples=8, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_cpsat_and_greedy_record_the_seed_and_never_lose_to_a_baseline(seed):
    """``solve`` records ``seeded_by``; cpsat's plan is at least as good as
    every baseline's and greedy's, and the greedy planner's at least as good
    as carbon-agnostic's (a member of its fast portfolio)."""
    p = random_problem(seed, max_jobs=6)
    plan = solve(p, solver="cpsat", time_limit=20.0)
    fast = solve(p, solver="greedy")
    assert plan.seeded_by and fast.seeded_by
    assert fast.seeded_by.split("+")[0] in ("greedy", *FAST_MEMBERS)
    assert json.loads(json.dumps(plan.to_dict()))["seeded_by"] == plan.seeded_by
    assert Plan.from_dict(plan.to_dict()).seeded_by == plan.seeded_by
    for name in ("greedy", "carbon-agnostic", "first-fit", "edf", "random"):
        assert not better(p, solve(p, solver=name).metrics, plan.metrics), name
    assert not better(p, solve(p, solver="carbon-agnostic").metrics, fast.metrics)


def _blocking_problem() -> Problem:
    """One 8-GPU node, 4 slots, cheap first half. Same tier: 'a' (denser)
    goes first and takes the cheap slots 0-1; 'b' must start at 0
    (deadline 2) and finds no room. Moving 'a' to slots 2-3 fits both."""
    return Problem.from_dict({
        "horizon": {"slots": 4},
        "resources": ["gpu"],
        "regions": [{"id": "eu", "price_per_kwh": [0.1, 0.1, 0.3, 0.3]}],
        "nodes": [{"id": "n", "region": "eu", "capacity": {"gpu": 8},
                   "kw_per_unit": {"gpu": 1.0}}],
        "jobs": [
            {"id": "a", "demand": {"gpu": 8}, "duration": 2, "value": 10.0},
            {"id": "b", "demand": {"gpu": 8}, "duration": 2, "deadline": 2, "value": 1.0},
        ],
    })


def test_repair_moves_a_placed_job_to_insert_an_unplaced_one():
    p = _blocking_problem()
    greedy = run_greedy(p)
    assert [a.job for a in greedy.assignments] == ["a"]
    assert greedy.assignments[0].start == 0
    fixed = repair(p, greedy)
    assert _valid(p, fixed)
    starts = {a.job: a.start for a in fixed.assignments}
    assert starts == {"a": 2, "b": 0}
    assert better(p, fixed.metrics, greedy.metrics)


def test_repair_leaves_a_plan_alone_when_nothing_can_be_inserted():
    p = _blocking_problem()
    full = repair(p, run_greedy(p))
    assert repair(p, full) is full


def test_greedy_planner_uses_the_repaired_plan():
    """The fast path (solver="greedy") places both jobs of the blocking case."""
    p = _blocking_problem()
    plan = solve(p, solver="greedy")
    assert _valid(p, plan)
    assert plan.solver == "greedy"
    assert {a.job for a in plan.assignments} == {"a", "b"}
