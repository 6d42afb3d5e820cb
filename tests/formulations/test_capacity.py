"""Capacity (PROBLEM.md hard constraint 5): per node, slot and resource."""

from __future__ import annotations

import pytest
from formulation_kit import (
    FEASIBLE,
    assignment_plan,
    family_model,
    fixed_status,
    placed,
    problem,
    reasons,
    solve_exact,
)

from allocopt.formulations.capacity import add_capacity

# One 8-GPU node, 1 kW per GPU; price 0.1/kWh in slots 0-1 and 0.2/kWh in 2-3.
NODE = [{"id": "n", "region": "eu", "capacity": {"gpu": 8, "cpu": 32},
         "kw_per_unit": {"gpu": 1.0}}]
CHEAP_FIRST = [{"id": "eu", "price_per_kwh": [0.1, 0.1, 0.2, 0.2]}]


def test_jobs_that_do_not_fit_together_run_one_after_the_other(solver):
    """6 + 7 GPUs > 8: the two jobs take turns, the larger in the cheap slots."""
    p = problem([{"id": "a", "demand": {"gpu": 6}, "duration": 2},
                 {"id": "b", "demand": {"gpu": 7}, "duration": 2}],
                regions=CHEAP_FIRST, nodes=NODE, resources=("gpu", "cpu"))
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    got = placed(plan)
    # b first: 7 kW x 2 h x 0.1 + 6 kW x 2 h x 0.2 = 1.4 + 2.4 = 3.8
    # (a first would cost 6*2*0.1 + 7*2*0.2 = 1.2 + 2.8 = 4.0)
    assert (got["b"].start, got["a"].start) == (0, 2)
    assert plan.metrics["energy_cost"] == pytest.approx(3.8)
    # 7 kW x 2 h + 6 kW x 2 h = 26 kWh
    assert plan.metrics["energy_kwh"] == pytest.approx(26.0)
    assert plan.metrics["cost"] == pytest.approx(3.8)


def test_every_resource_is_a_capacity(solver):
    """GPUs fit (2 + 2 <= 8) but CPUs do not (20 + 20 > 32): only the more
    valuable job runs in a two-slot horizon."""
    p = problem([{"id": "a", "demand": {"gpu": 2, "cpu": 20}, "duration": 2, "value": 1.0},
                 {"id": "b", "demand": {"gpu": 2, "cpu": 20}, "duration": 2, "value": 3.0}],
                slots=2, nodes=NODE, resources=("gpu", "cpu"))
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    assert set(placed(plan)) == {"b"}  # value 3 beats value 1; both cannot fit
    assert plan.metrics["placed_value_by_priority"] == {"0": 3.0}
    assert "capacity" in reasons(plan)["a"]


def test_identical_nodes_of_a_pool_run_jobs_side_by_side(solver):
    """A pool of two 8-GPU nodes runs two 8-GPU jobs at once in the cheap slots."""
    pool = [dict(NODE[0], count=2)]
    p = problem([{"id": "a", "demand": {"gpu": 8}, "duration": 2},
                 {"id": "b", "demand": {"gpu": 8}, "duration": 2}],
                regions=CHEAP_FIRST, nodes=pool, resources=("gpu", "cpu"))
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    got = placed(plan)
    assert got["a"].start == got["b"].start == 0  # slots 0-1 are the cheap ones
    assert {got["a"].nodes, got["b"].nodes} == {("n#0",), ("n#1",)}
    # 2 jobs x 8 kW x 2 h x 0.1 = 3.2
    assert plan.metrics["energy_cost"] == pytest.approx(3.2)


def test_required_job_without_room_makes_the_plan_infeasible(solver):
    """Two required 6-GPU jobs cannot share 8 GPUs in a two-slot horizon: the
    higher-tier one runs, the other is unplaced for capacity, and the 2-GPU
    optional job still runs next to the first."""
    p = problem([{"id": "r1", "demand": {"gpu": 6}, "duration": 2, "required": True,
                  "priority": 1},
                 {"id": "r2", "demand": {"gpu": 6}, "duration": 2, "required": True},
                 {"id": "small", "demand": {"gpu": 2}, "duration": 2}],
                slots=2, nodes=NODE, resources=("gpu", "cpu"))
    plan = solve_exact(p, solver)
    assert str(plan.status) == "infeasible"
    assert set(placed(plan)) == {"r1", "small"}  # 6 + 2 = 8 GPUs
    assert "capacity" in reasons(plan)["r2"]


def test_required_job_larger_than_every_node(solver):
    """A required 16-GPU job never fits an 8-GPU node: infeasible, the reason
    names the resource, and the job that fits is still planned."""
    p = problem([{"id": "huge", "demand": {"gpu": 16}, "duration": 1, "required": True},
                 {"id": "ok", "demand": {"gpu": 8}, "duration": 1}],
                nodes=NODE, resources=("gpu", "cpu"))
    plan = solve_exact(p, solver)
    assert str(plan.status) == "infeasible"
    assert set(placed(plan)) == {"ok"}
    assert reasons(plan)["huge"] == "no eligible node has gpu >= 16"


# -- the family on its own ----------------------------------------------------

def _two_jobs():
    return problem([{"id": "a", "demand": {"gpu": 6}, "duration": 2},
                    {"id": "b", "demand": {"gpu": 6}, "duration": 2}],
                   nodes=NODE, resources=("gpu", "cpu"))


def test_family_rejects_overlap_beyond_capacity(backend):
    """6 + 6 GPUs at slots 0-1 on one 8-GPU node breaks only capacity."""
    p = _two_jobs()
    m, scope, x = family_model(p, [add_capacity], backend)
    plan = assignment_plan(p, {"a": (0, ("n",)), "b": (0, ("n",))})
    assert fixed_status(m, scope, x, plan) == "infeasible"


def test_family_accepts_back_to_back_jobs(backend):
    """a in slots 0-1 and b in 2-3 never overlap: capacity holds."""
    p = _two_jobs()
    m, scope, x = family_model(p, [add_capacity], backend)
    plan = assignment_plan(p, {"a": (0, ("n",)), "b": (2, ("n",))})
    assert fixed_status(m, scope, x, plan) in FEASIBLE


def test_family_accepts_fractional_demands_filling_a_node_exactly(backend):
    """0.3 + 0.3 + 0.4 = 1.0 of a 1.0 resource at once: exactly full is allowed
    (demands are scaled to integers without rounding them past capacity)."""
    p = problem([{"id": f"j{k}", "demand": {"mem": q}, "duration": 1}
                 for k, q in enumerate([0.3, 0.3, 0.4])],
                nodes=[{"id": "n", "region": "eu", "capacity": {"mem": 1.0}}],
                resources=("mem",))
    m, scope, x = family_model(p, [add_capacity], backend)
    plan = assignment_plan(p, {f"j{k}": (0, ("n",)) for k in range(3)})
    assert fixed_status(m, scope, x, plan) in FEASIBLE
    # ... and 0.3 + 0.3 + 0.4 + 0.3 > 1.0 is not
    p4 = problem([{"id": f"j{k}", "demand": {"mem": q}, "duration": 1}
                  for k, q in enumerate([0.3, 0.3, 0.4, 0.3])],
                 nodes=[{"id": "n", "region": "eu", "capacity": {"mem": 1.0}}],
                 resources=("mem",))
    m, scope, x = family_model(p4, [add_capacity], backend)
    plan = assignment_plan(p4, {f"j{k}": (0, ("n",)) for k in range(4)})
    assert fixed_status(m, scope, x, plan) == "infeasible"
