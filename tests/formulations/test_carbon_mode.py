"""``objective.mode: "carbon"`` (docs/PROBLEM.md extension): after the tiers,
minimise carbon (kg), then cost. Hand-checked optima on tiny problems, on
every exact back-end, the greedy planner and the LP bound."""

from __future__ import annotations

import pytest
from formulation_kit import placed, problem, solve_exact

from allocopt import solve
from allocopt.errors import ProblemError
from allocopt.problem import Problem
from allocopt.validate import better, lex_key

# 'dirty' is cheap (0.05-0.06 /kWh) at 800 g/kWh; 'clean' is dear at 50 g/kWh
# in slots 0-1 (0.30 then 0.20 /kWh) and 400 g/kWh in slots 2-3.
REGIONS = [
    {"id": "dirty", "price_per_kwh": [0.05, 0.06, 0.06, 0.06], "carbon_g_per_kwh": 800},
    {"id": "clean", "price_per_kwh": [0.30, 0.20, 0.20, 0.20],
     "carbon_g_per_kwh": [50, 50, 400, 400]},
]
NODES = [
    {"id": "nd", "region": "dirty", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0}},
    {"id": "nc", "region": "clean", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0}},
]
# 2 kW for one slot: 2 kWh.
JOB = {"id": "a", "demand": {"gpu": 2}, "duration": 1}


def two_regions(mode: str, carbon_price: float = 0.0) -> Problem:
    return problem([JOB], regions=REGIONS, nodes=NODES,
                   objective={"mode": mode, "carbon_price_per_kg": carbon_price})


def test_lexicographic_picks_cheap_dirty(solver):
    """Cost mode: dirty at slot 0, 2 kWh x 0.05 = 0.10, carbon 2 x 0.8 = 1.6 kg."""
    plan = solve_exact(two_regions("lexicographic"), solver)
    assert str(plan.status) == "optimal"
    a = placed(plan)["a"]
    assert (a.nodes, a.start) == (("nd",), 0)
    assert plan.metrics["cost"] == pytest.approx(0.10)
    assert plan.metrics["carbon_kg"] == pytest.approx(1.6)


def test_carbon_mode_picks_clean_then_cheapest_clean_slot(solver):
    """Carbon mode: clean slots 0 and 1 both emit 2 x 0.05 = 0.1 kg; the
    cost stage then takes slot 1 (0.20 /kWh: cost 0.40, not 0.60)."""
    p = two_regions("carbon")
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    a = placed(plan)["a"]
    assert (a.nodes, a.start) == (("nc",), 1)
    assert plan.metrics["carbon_kg"] == pytest.approx(0.1)
    assert plan.metrics["cost"] == pytest.approx(0.40)
    assert plan.metrics["objective"] == {"placed_value_by_priority": {"0": 1.0},
                                         "carbon_kg": pytest.approx(0.1),
                                         "cost": pytest.approx(0.40)}
    assert plan.bound["carbon_kg"] == pytest.approx(0.1, abs=1e-6)
    assert plan.gap == pytest.approx(0.0, abs=1e-6)


def test_carbon_mode_keeps_tiers_first():
    """Every job adds carbon, yet carbon mode places all three (tiers come
    first). Each 2-GPU node runs one job at a time."""
    nodes = [dict(NODES[0], capacity={"gpu": 2}), dict(NODES[1], capacity={"gpu": 2})]
    jobs = [dict(JOB, id="hi", priority=1), dict(JOB, id="lo", priority=0),
            dict(JOB, id="lo2", priority=0)]
    p = problem(jobs, regions=REGIONS, nodes=nodes, objective={"mode": "carbon"})
    plan = solve_exact(p)
    assert plan.metrics["placed_jobs"] == 3
    # Two jobs in clean slots 0 and 1 (0.1 kg each), the third in clean
    # slot 2-3 (0.8 kg) rather than dirty (1.6 kg): 1.0 kg.
    assert plan.metrics["carbon_kg"] == pytest.approx(1.0)
    assert all(a.nodes == ("nc",) for a in plan.assignments)


def test_greedy_follows_carbon_mode():
    """The greedy planner prices carbon first in carbon mode: the clean node."""
    lex = solve(two_regions("lexicographic"), solver="greedy")
    carb = solve(two_regions("carbon"), solver="greedy")
    assert placed(lex)["a"].nodes == ("nd",)
    a = placed(carb)["a"]
    assert (a.nodes, a.start) == (("nc",), 1)


def test_lex_key_and_better_in_carbon_mode():
    p = two_regions("carbon")
    tiers = {"0": 1.0}
    clean = {"required_placed": 0, "placed_value_by_priority": tiers, "carbon_kg": 0.1,
             "cost": 0.6}
    cheap = {"required_placed": 0, "placed_value_by_priority": tiers, "carbon_kg": 1.6,
             "cost": 0.1}
    assert lex_key(p, clean) == (0.0, 1.0, -0.1, -0.6)
    assert better(p, clean, cheap) and not better(p, cheap, clean)
    # Equal carbon: cost decides.
    assert better(p, dict(clean, cost=0.4), clean)
    # More placed value beats any carbon.
    more = dict(cheap, placed_value_by_priority={"0": 2.0}, carbon_kg=9.0)
    assert better(p, more, clean)
    # Lexicographic mode ignores carbon beyond cost.
    lex = two_regions("lexicographic")
    assert better(lex, cheap, clean) and lex_key(lex, cheap) == (0.0, 1.0, -0.1)


def test_schema_accepts_carbon_mode_and_rejects_unknown():
    assert two_regions("carbon").objective.mode == "carbon"
    schema = Problem.model_json_schema()
    mode = schema["$defs"]["Objective"]["properties"]["mode"]
    assert set(mode["enum"]) == {"lexicographic", "weighted", "carbon"}
    with pytest.raises(ProblemError) as e:
        two_regions("greenest")
    assert "objective" in str(e.value) and "mode" in str(e.value)


def test_lp_bound_carbon_stage():
    """The LP relaxation's carbon bound with every tier at the reference's
    value is the clean slots' 0.1 kg (the job cannot be split cleaner)."""
    from allocopt.formulations.backends.pulp import cbc_available, highs_available
    from allocopt.formulations.lp_bound import lp_bounds

    if not (highs_available() or cbc_available()):
        pytest.skip("no LP solver")
    p = two_regions("carbon")
    plan = solve_exact(p)
    b = lp_bounds(p, plan=plan, time_limit=20)
    # Bounds are widened by 1e-6 (LP tolerance).
    assert b["carbon_kg"] == pytest.approx(0.1, abs=2e-6)
    assert b["carbon_kg"] <= 0.1
    assert b["cost"] <= 0.40 + 1e-9  # a valid (here loose) cost bound
