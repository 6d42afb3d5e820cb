"""The ``replan`` benchmark's scenarios (benchmarks/replan.py), on a stored small problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocopt.benchmarks.replan import SCENARIOS, URGENT_JOBS, run, scenario, variant
from allocopt import load_problem, solve
from allocopt.replan import advance

SMALL = Path(__file__).parents[2] / "data" / "bench" / "small" / "small-s0.json"


@pytest.fixture(scope="module")
def state():
    """small-s0, planned greedily and advanced by 2 slots."""
    p = load_problem(SMALL)
    plan = solve(p, solver="greedy")
    cur = advance(p, plan, 2)
    return cur, solve(cur, solver="greedy")


def test_scenarios_apply_their_event(state):
    """Each event changes what it says: a node down, ten urgent jobs, a shifted
    forecast, a smaller budget."""
    cur, held = state
    fails = scenario("node-fails", cur, held)
    assert any(n.unavailable == ((0, cur.H),) for n in fails.nodes)
    assert len(fails.node_names()) == len(cur.node_names())  # same names, one down
    urgent = scenario("urgent-burst", cur, held)
    top = max(j.priority for j in cur.jobs) + 1
    assert sum(j.priority == top for j in urgent.jobs) == URGENT_JOBS
    shifted = scenario("forecast-shift", cur, held)
    assert shifted.regions[0].price_per_kwh != cur.regions[0].price_per_kwh
    cut = scenario("budget-cut", cur, held)
    assert any(a.energy_budget_kwh is not None and (b.energy_budget_kwh is None
               or a.energy_budget_kwh < b.energy_budget_kwh)
               for a, b in zip(cut.regions, cur.regions))


def test_variants(state):
    """keep sets the move cost, free zeroes it, scratch drops the planned placements."""
    cur, _ = state
    assert variant(cur, "keep", 3.0).objective.move_cost == 3.0
    assert variant(cur, "free", 3.0).objective.move_cost == 0.0
    assert all(j.planned is None for j in variant(cur, "scratch", 3.0).jobs)


def test_run_rows_are_valid():
    """Every (scenario, variant) row of a greedy run is a valid plan; on a forecast
    shift every old placement is still valid, so the greedy planner keeps them all."""
    rows = run(SMALL, solver="greedy", time_limit=2, seed=0, workers=1, slots=2)
    assert len(rows) == len(SCENARIOS) * 3
    assert all(r["valid"] for r in rows)
    by = {(r["scenario"], r["variant"]): r for r in rows}
    assert by[("forecast-shift", "keep")]["moves"] == 0  # greedy keeps every valid placement
