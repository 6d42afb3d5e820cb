"""Re-planning tie-break in the tier stages (``stages.tiebroken``): among plans
of equal tier value the tier stages prefer the fewest moves, and they reach
exactly the tier values (and bounds) they reach without it."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
from formulation_kit import full_model, problem, random_problem_data
from hypothesis import given, settings
from hypothesis import strategies as st

from allocopt import Problem, SolveParams, solve
from allocopt.formulations.solve_model import hint_values
from allocopt.formulations.stages import make_stages, run_stages, tiebroken

_NODES = [{"id": f"n{i}", "region": "eu", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0}}
          for i in (1, 2)]


def _three_planned() -> Problem:
    """Three 4-GPU jobs of 2 slots on two 8-GPU nodes (room for 8 such):
    every placement of all three has the same tier value, and only one keeps
    all three previous placements."""
    jobs = [
        {"id": "a", "demand": {"gpu": 4}, "duration": 2, "priority": 1, "value": 5,
         "planned": {"start": 2, "nodes": ["n2"]}},
        {"id": "b", "demand": {"gpu": 4}, "duration": 2, "priority": 1, "value": 5,
         "planned": {"start": 0, "nodes": ["n2"]}},
        {"id": "c", "demand": {"gpu": 4}, "duration": 2, "priority": 1, "value": 5,
         "planned": {"start": 2, "nodes": ["n1"]}},
    ]
    return problem(jobs, nodes=_NODES, objective={"move_cost": 1.0})


def test_tier_stage_keeps_previous_placements_among_equal_values():
    """Hinted with a, b placed elsewhere and c unplaced, the tier stage alone
    (no cost stage) places all three where they were planned."""
    p = _three_planned()
    m, scope, x = full_model(p)
    prep = scope.prep
    stages = [s for s in make_stages(p, scope, x) if s.tier is not None]
    assert stages and all(s.tiebreak for s in stages)
    start = np.array([0, 2, -1])  # a at 0 on n1, b at 2 on n1: both moved
    nodes = {0: (prep.node_index["n1"],), 1: (prep.node_index["n1"],)}
    values = run_stages(m, stages, x, hint_values(scope, x, start, nodes),
                        SolveParams(time_limit=10, workers=1), time.perf_counter() + 10, scope)
    assert stages[0].status == "optimal"
    assert stages[0].value == pytest.approx(15.0) and stages[0].bound == pytest.approx(15.0)
    assert [values[v] for v in x.moved.values()] == [0, 0, 0]


def test_tiebroken_weights_never_outweigh_one_unit():
    """The multiplier exceeds the total tie-break weight, so one unit of the
    tier's value is worth more than every move together."""
    p = _three_planned()
    _, scope, x = full_model(p)
    st_ = next(s for s in make_stages(p, scope, x) if s.tier is not None)
    terms, mult, total = tiebroken(st_)
    assert total == sum(w for _, w in st_.tiebreak) and mult == total + 1
    assert len(terms) == len(st_.terms) + len(st_.tiebreak)
    plain = dataclasses.replace(st_, tiebreak=[])
    assert tiebroken(plain) == (plain.terms, 1, 0)


def _with_previous(seed: int) -> Problem:
    """A random problem whose jobs are all planned where the carbon-agnostic
    plan puts them, with a move cost, and one more job of the top tier."""
    data = random_problem_data(seed)
    p = Problem.from_dict(data)
    base = solve(p, solver="carbon-agnostic")
    where = {a.job: a for a in base.assignments}
    for j in data["jobs"]:
        a = where.get(j["id"])
        if a is not None:
            j["planned"] = {"start": a.start, "nodes": list(a.nodes)}
    data.setdefault("objective", {})["move_cost"] = 1.0
    return Problem.from_dict(data)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_tiebreak_changes_no_tier_value(seed):
    """Solved to optimality with and without the tie-break, every tier stage
    reaches the same value, and a proven stage's bound equals its value."""
    p = _with_previous(seed)
    got = []
    for tie in (True, False):
        m, scope, x = full_model(p)
        stages = [s for s in make_stages(p, scope, x) if s.tier is not None]
        if not tie:
            stages = [dataclasses.replace(s, tiebreak=[]) for s in stages]
        empty = np.full(scope.prep.J, -1, dtype=int)
        run_stages(m, stages, x, hint_values(scope, x, empty, {}),
                   SolveParams(time_limit=20, workers=1), time.perf_counter() + 20, scope)
        if not all(s.status == "optimal" for s in stages):
            return  # a proof did not finish: nothing to compare
        assert all(s.bound == pytest.approx(s.value) for s in stages)
        got.append([s.value for s in stages])
    assert got[0] == pytest.approx(got[1])
