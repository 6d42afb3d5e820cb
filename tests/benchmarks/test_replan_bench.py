"""The ``replan`` benchmark's scenarios (benchmarks/replan.py), on a stored small problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocopt.benchmarks.replan import SCENARIOS, URGENT_JOBS, VARIANTS, run, scenario, variant
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
    stable = variant(cur, "stable", 3.0).objective
    assert (stable.move_cost, stable.stability_tier) == (3.0, max(j.priority for j in cur.jobs))
    assert variant(cur, "keep", 3.0).objective.stability_tier is None


def test_run_rows_are_valid():
    """Every (scenario, variant) row of a greedy run is a valid plan; on a forecast
    shift every old placement is still valid, so the greedy planner keeps them all."""
    rows = run(SMALL, solver="greedy", time_limit=2, seed=0, workers=1, slots=2)
    assert len(rows) == len(SCENARIOS) * len(VARIANTS)
    assert all(r["valid"] for r in rows)
    by = {(r["scenario"], r["variant"]): r for r in rows}
    assert by[("forecast-shift", "keep")]["moves"] == 0  # greedy keeps every valid placement


def test_built_suite_runs_in_bench_with_moves(tmp_path):
    """``--build`` writes one keep problem per scenario; ``allocopt bench`` on
    that folder records moves per row, and the report has a moves column:
    greedy keeps every placement on a forecast shift, a from-scratch baseline
    (first-fit) is judged by the same count."""
    from allocopt.benchmarks.replan import build_suite
    from allocopt.benchmarks.report import report
    from allocopt.benchmarks.run import read_rows, run_bench

    files = build_suite([SMALL], tmp_path / "replan", solver="greedy", time_limit=2, seed=0,
                        workers=1, slots=2, scenarios=("forecast-shift", "node-fails"),
                        variants=("keep",))
    assert [f.name for f in files] == ["small-s0-forecast-shift-keep.json",
                                       "small-s0-node-fails-keep.json"]
    p = load_problem(files[0])
    assert p.name == "small-s0-forecast-shift-keep" and p.objective.move_cost > 0
    planned = sum(j.planned is not None for j in p.jobs)
    assert planned > 0
    out = run_bench(str(tmp_path / "replan"), ["greedy", "first-fit"], time_limit=2,
                    out=tmp_path / "rows.jsonl", progress=False)
    rows = {(r["instance"], r["solver"]): r for r in read_rows(out)}
    kept = rows[("small-s0-forecast-shift-keep", "greedy")]
    assert kept["valid"] and kept["planned_jobs"] == planned and kept["moves"] == 0
    ff = rows[("small-s0-forecast-shift-keep", "first-fit")]
    ff_plan = solve(p, solver="first-fit")
    assert ff["moves"] == ff_plan.metrics["moves"]
    text = report([out], tmp_path / "report", plots=False)
    header = next(line for line in text.splitlines() if line.startswith("| solver"))
    assert "| moves |" in header and "*moves*" in text


def test_row_key_ranks_moves_below_the_stability_tier():
    """A row with ``stability_tier`` compares ``move_cost`` right below that
    tier, as ``allocopt.validate.lex_key`` does; without it, only in cost."""
    from allocopt.benchmarks.report import compare

    keep = {"placed_value_by_priority": {"1": 5.0, "0": 1.0}, "cost": 9.0, "move_cost": 0.0}
    move = {"placed_value_by_priority": {"1": 5.0, "0": 4.0}, "cost": 20.0, "move_cost": 8.0}
    assert compare(move, keep) == 1
    stable = [dict(r, stability_tier=1) for r in (keep, move)]
    assert compare(stable[0], stable[1]) == 1
