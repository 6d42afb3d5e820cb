"""The cost (PROBLEM.md, Energy, carbon and cost): PUE, idle draw, node cost,
carbon price, negative prices, and the cost terms of the model."""

from __future__ import annotations

import pytest
from formulation_kit import full_model, placed, problem, solve_exact

from allocopt.formulations.energy import cost_terms

NODE = {"id": "n", "region": "eu", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0}}
JOB4 = {"id": "a", "demand": {"gpu": 4}, "duration": 2}  # 4 kW for 2 slots = 8 kWh of IT energy


def test_pue_decides_between_regions(solver):
    """A 4 kW, 2-slot job: 'plain' (PUE 1.0, 0.1/kWh) costs 8 kWh x 0.1 = 0.8,
    'lossy' (PUE 1.5, 0.06/kWh) costs 12 kWh x 0.06 = 0.72: lossy wins."""
    regions = [{"id": "plain", "price_per_kwh": 0.1},
               {"id": "lossy", "pue": 1.5, "price_per_kwh": 0.06}]
    nodes = [dict(NODE, id="np", region="plain"), dict(NODE, id="nl", region="lossy")]
    plan = solve_exact(problem([JOB4], regions=regions, nodes=nodes), solver)
    assert str(plan.status) == "optimal"
    assert placed(plan)["a"].nodes == ("nl",)
    assert plan.metrics["energy_kwh"] == pytest.approx(12.0)  # 1.5 x 8 kWh
    assert plan.metrics["energy_cost"] == pytest.approx(0.72)


@pytest.mark.parametrize(("node_cost", "node", "energy_kwh", "energy_cost", "cost"), [
    # n2 costs 0.05 x 4 slots = 0.2 < n1's idle 1 kW x 4 h x 0.1 = 0.4:
    # n2, energy 2 kW x 2 h = 4 kWh (0.4), node cost 0.2, total 0.6
    (0.05, "n2", 4.0, 0.4, 0.6),
    # n2 costs 0.15 x 4 = 0.6 > 0.4: n1, energy 4 + 4 idle = 8 kWh, cost 0.8
    (0.15, "n1", 8.0, 0.8, 0.8),
])
def test_idle_draw_against_node_cost(solver, node_cost, node, energy_kwh, energy_cost, cost):
    """n1 idles at 1 kW, n2 idles at nothing but costs per slot; a 2 kW job
    runs 2 of 4 slots at 0.1/kWh on either."""
    nodes = [dict(NODE, id="n1", idle_kw=1.0), dict(NODE, id="n2", cost_per_slot=node_cost)]
    p = problem([{"id": "a", "demand": {"gpu": 2}, "duration": 2}],
                regions=[{"id": "eu", "price_per_kwh": 0.1}], nodes=nodes)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    assert placed(plan)["a"].nodes == (node,)
    assert plan.metrics["energy_kwh"] == pytest.approx(energy_kwh)
    assert plan.metrics["energy_cost"] == pytest.approx(energy_cost)
    assert plan.metrics["cost"] == pytest.approx(cost)


def test_jobs_share_an_active_node_to_pay_idle_once(solver):
    """Two 4-GPU jobs fit one 8-GPU node together; each node idles at 1 kW
    over the 4-slot horizon once active: both go on one node."""
    nodes = [dict(NODE, id="n", idle_kw=1.0, count=2)]
    p = problem([JOB4, dict(JOB4, id="b")],
                regions=[{"id": "eu", "price_per_kwh": 0.1}], nodes=nodes)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    assert plan.metrics["active_nodes"] == 1
    # dynamic 2 x 4 kW x 2 h = 16 kWh + idle 1 kW x 4 h = 4 kWh -> 20 kWh, 2.0
    assert plan.metrics["energy_kwh"] == pytest.approx(20.0)
    assert plan.metrics["cost"] == pytest.approx(2.0)


@pytest.mark.parametrize(("carbon_price", "node", "energy_cost", "carbon_kg", "cost"), [
    # no carbon price: brown at 8 kWh x 0.1 = 0.8, 8 kWh x 500 g = 4 kg
    (0.0, "nb", 0.8, 4.0, 0.8),
    # 0.5/kg: brown 0.8 + 4 kg x 0.5 = 2.8; green 1.6 + 0.8 kg x 0.5 = 2.0
    (0.5, "ng", 1.6, 0.8, 2.0),
])
def test_carbon_price_moves_a_job_to_the_green_region(solver, carbon_price, node,
                                                      energy_cost, carbon_kg, cost):
    """'green' costs 0.2/kWh at 100 g/kWh, 'brown' 0.1/kWh at 500 g/kWh."""
    regions = [{"id": "green", "price_per_kwh": 0.2, "carbon_g_per_kwh": 100},
               {"id": "brown", "price_per_kwh": 0.1, "carbon_g_per_kwh": 500}]
    nodes = [dict(NODE, id="ng", region="green"), dict(NODE, id="nb", region="brown")]
    p = problem([JOB4], regions=regions, nodes=nodes,
                objective={"carbon_price_per_kg": carbon_price})
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    assert placed(plan)["a"].nodes == (node,)
    assert plan.metrics["energy_cost"] == pytest.approx(energy_cost)
    assert plan.metrics["carbon_kg"] == pytest.approx(carbon_kg)
    assert plan.metrics["carbon_cost"] == pytest.approx(carbon_kg * carbon_price)
    assert plan.metrics["cost"] == pytest.approx(cost)


def test_negative_price_makes_running_worthwhile(solver):
    """At -0.1/kWh in slots 2-3 a worthless job lowers the cost: it runs there
    (cost 4 kW x 2 h x -0.1 = -0.8), not in the positive slots 0-1."""
    p = problem([dict(JOB4, value=0.0)],
                regions=[{"id": "eu", "price_per_kwh": [0.1, 0.1, -0.1, -0.1]}],
                nodes=[NODE])
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    assert placed(plan)["a"].start == 2
    assert plan.metrics["cost"] == pytest.approx(-0.8)


def test_cost_terms_match_the_reported_cost(solver):
    """PUE 1.5, half-hour slots, price [0.1, 0.2, 0.3], 100 g/kWh at 1.0/kg,
    idle 2 kW and 0.1 per slot: the model's cost terms are the metric's cost.

    cost rate per kW = 1.5 x 0.5 x (price + 0.1) = (0.15, 0.225, 0.3);
    start 0: 4 kW x (0.15 + 0.225) = 1.5, start 1: 4 x (0.225 + 0.3) = 2.1;
    activation: 2 kW x (0.15 + 0.225 + 0.3) + 0.1 x 3 slots = 1.35 + 0.3 = 1.65.
    """
    p = problem([JOB4], slots=3,
                regions=[{"id": "eu", "pue": 1.5, "price_per_kwh": [0.1, 0.2, 0.3],
                          "carbon_g_per_kwh": 100}],
                nodes=[dict(NODE, idle_kw=2.0, cost_per_slot=0.1)],
                horizon={"slots": 3, "slot_hours": 0.5},
                objective={"carbon_price_per_kg": 1.0})
    _, scope, x = full_model(p)
    terms = {id(v): c for v, c in cost_terms(scope, x)}
    assert terms[id(x.y[0][0])] == pytest.approx(1.5)
    assert terms[id(x.y[0][1])] == pytest.approx(2.1)
    assert terms[id(x.active[0])] == pytest.approx(1.65)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    assert placed(plan)["a"].start == 0
    # energy: 1.5 x 0.5 x (4 kW x 2 slots + 2 kW idle x 3 slots) = 10.5 kWh
    assert plan.metrics["energy_kwh"] == pytest.approx(10.5)
    # energy cost 0.75 x (4 x 0.3 + 2 x 0.6) = 1.8; carbon 10.5 x 0.1 kg = 1.05;
    # node cost 0.3: total 3.15 = 1.5 + 1.65
    assert plan.metrics["energy_cost"] == pytest.approx(1.8)
    assert plan.metrics["carbon_cost"] == pytest.approx(1.05)
    assert plan.metrics["node_cost"] == pytest.approx(0.3)
    assert plan.metrics["cost"] == pytest.approx(3.15)
