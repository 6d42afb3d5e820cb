"""Packing-aware rows and the packing relaxation never cut off a valid plan.

* dual-feasible functions: ``sum x <= 1`` implies ``sum f(x) <= 1``;
* the CP-SAT packing rows (:mod:`allocopt.formulations.packing`) accept every valid
  plan (greedy and the brute-force optimum fixed into the model), and the
  model with them has the same optimum as without;
* the relaxation of :mod:`allocopt.formulations.packing_bound` with tier floors at a
  valid plan's values gives a cost bound <= that plan's cost (the
  brute-force optimum and the greedy plan), integer or relaxed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from formulation_kit import (
    FEASIBLE,
    brute_force_best,
    fixed_status,
    full_model,
    random_problem,
    solve_exact,
    tiny_problem,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

import allocopt.formulations.packing as packing
from allocopt.formulations.packing_bound import build_relaxation, dff, solve_bound
from allocopt import solve
from allocopt.prepared import Prepared
from allocopt.validate import compute_metrics, lex_key

pytest.importorskip("highspy")

SEEDS = st.integers(min_value=0, max_value=2**31 - 1)
FUNCS = ("half", "thirds", "eps:0.25", "eps:0.5")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=8),
       st.sampled_from(FUNCS))
def test_dual_feasible_functions(xs, name):
    """Items that fit one node (sum <= 1) fit in f units too; f(1) = 1, f(0) = 0."""
    xs = np.array(xs)
    if xs.sum() > 1:
        xs = xs / xs.sum()
    assert float(dff(name, xs).sum()) <= 1 + 1e-9
    assert float(dff(name, np.array([1.0]))[0]) == 1.0
    assert float(dff(name, np.array([0.0]))[0]) == 0.0


def test_dff_values_by_hand():
    x = np.array([0.2, 0.34, 0.5, 0.6, 2 / 3, 0.7, 1.0])
    assert dff("half", x).tolist() == [0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 1.0]
    assert dff("thirds", x).tolist() == pytest.approx([0.0, 0.5, 0.5, 0.5, 2 / 3, 1.0, 1.0])


def _plans(p):
    best_key, best = brute_force_best(p)
    return [best.replace(metrics=compute_metrics(p, best.assignments)), solve(p, solver="greedy")]


@settings(max_examples=15, deadline=None, derandomize=True)
@given(SEEDS)
@example(0)
def test_packing_rows_accept_every_valid_plan(seed):
    """The brute-force optimum and the greedy plan, fixed into the model with
    every packing row, stay feasible."""
    p = tiny_problem(seed)
    for plan in _plans(p):
        m, scope, x = full_model(p)
        packing.add_packing_rows(m, scope, x, ("half", "thirds"))
        assert fixed_status(m, scope, x, plan) in FEASIBLE


@settings(max_examples=10, deadline=None, derandomize=True)
@given(SEEDS)
def test_packing_rows_keep_the_optimum(seed):
    """Same lexicographic optimum (tiers, then cost) with and without the rows."""
    p = random_problem(seed, max_jobs=5, max_slots=6)
    keys = []
    for dffs in ((), ("half", "thirds")):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(packing, "MODEL_DFFS", dffs)
            plan = solve_exact(p, time_limit=4.0)
        if str(plan.status) != "optimal":
            return  # no proof within the limit: nothing to compare
        keys.append(lex_key(p, plan.metrics))
    assert keys[0] == pytest.approx(keys[1], rel=1e-6, abs=1e-6)


def _floors(plan):
    return {int(t): v for t, v in plan.metrics["placed_value_by_priority"].items() if v > 0}


@settings(max_examples=15, deadline=None, derandomize=True)
@given(SEEDS)
@example(0)
def test_relaxation_bound_is_below_every_valid_plan(seed):
    """Floors at a valid plan's tier values: the bound is <= that plan's cost
    (integer node counts and placements, and the pure LP)."""
    p = tiny_problem(seed)
    prep = Prepared(p)
    for plan in _plans(p):
        cost = compute_metrics(p, plan.assignments)["cost"]
        for relax in (False, True):
            b = solve_bound(prep, _floors(plan), 10.0, relax_integer=relax)
            assert b is not None and b <= cost + 1e-6 * max(1.0, cost), (relax, b, cost)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(SEEDS)
def test_relaxation_bound_in_bucket_and_area_modes(seed):
    """Wider buckets and the area mode are relaxations too."""
    p = random_problem(seed, max_jobs=5, max_slots=6)
    prep = Prepared(p)
    plan = solve(p, solver="greedy")
    cost = plan.metrics["cost"]
    for kw in ({"bucket": 2}, {"bucket": 3}, {"mode": "area"}):
        b = solve_bound(prep, _floors(plan), 10.0, **kw)
        assert b is not None and b <= cost + 1e-6 * max(1.0, cost), (kw, b, cost)


def test_packing_rows_count_the_nodes_a_packing_needs():
    """Hand-checked: two jobs of 5 of 8 GPUs must both run in the only slot,
    on a pool of two nodes costing 10 each (energy: 10 kWh at 1/kWh). The LP
    with capacity rows alone needs 10/8 nodes (cost 10 + 12.5); "half" (5/8
    > 1/2: no two share a node) needs 2 (cost 30), as does the integer count."""
    from formulation_kit import problem

    p = problem([{"id": "a", "demand": {"gpu": 5}, "duration": 1, "value": 1},
                 {"id": "b", "demand": {"gpu": 5}, "duration": 1, "value": 1}],
                slots=1, regions=[{"id": "eu", "price_per_kwh": 1.0}],
                nodes=[{"id": "n", "region": "eu", "capacity": {"gpu": 8}, "count": 2,
                        "kw_per_unit": {"gpu": 1.0}, "cost_per_slot": 10.0}])
    prep = Prepared(p)
    assert solve_bound(prep, {0: 2.0}, 10.0, dffs=(), relax_integer=True) == pytest.approx(22.5)
    assert solve_bound(prep, {0: 2.0}, 10.0, dffs=("half",), relax_integer=True) == \
        pytest.approx(30)
    assert solve_bound(prep, {0: 2.0}, 10.0, dffs=()) == pytest.approx(30)
    # One job placed is enough for a floor of 1: one node.
    assert solve_bound(prep, {0: 1.0}, 10.0) == pytest.approx(15)
    rel = build_relaxation(prep)
    assert rel.mode == "time-indexed" and rel.bucket == 1
    assert math.isfinite(float(rel.col_cost.sum()))
    # The plan's own cost is at least the bound (and here equal to it).
    plan = solve_exact(p)
    assert plan.metrics["cost"] == pytest.approx(30)
