"""Time (PROBLEM.md hard constraints 1 and 2) and tardiness (the cost)."""

from __future__ import annotations

import pytest
from formulation_kit import (
    FEASIBLE,
    assignment_plan,
    family_model,
    fixed_status,
    full_model,
    placed,
    problem,
    reasons,
    solve_exact,
)

from allocopt.formulations.timing import add_timing, tardiness_terms

# One 8-GPU node drawing 1 kW per GPU; a 4-GPU job draws 4 kW.
NODE = [{"id": "n", "region": "eu", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0}}]


def test_release_and_deadline_bound_the_start(solver):
    """The cheapest window overall (slots 4-5) ends after the deadline and the
    next cheapest (0-1) starts before the release: slot 3 is the best allowed."""
    prices = [0.01, 0.3, 0.3, 0.3, 0.05, 0.05]
    p = problem([{"id": "a", "demand": {"gpu": 4}, "duration": 2, "release": 1,
                  "deadline": 5}],
                slots=6, regions=[{"id": "eu", "price_per_kwh": prices}], nodes=NODE)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    # starts 1, 2, 3 cost 4 kW x (0.6, 0.6, 0.35): start 3, cost 4 x 0.35 = 1.4
    assert placed(plan)["a"].start == 3
    assert placed(plan)["a"].end == 5
    assert plan.metrics["energy_cost"] == pytest.approx(1.4)


def test_maintenance_window_is_avoided(solver):
    """The node is down in slots 1-2, where power is cheapest: the job takes
    the cheapest window clear of them."""
    prices = [0.3, 0.1, 0.1, 0.3, 0.2, 0.15]
    nodes = [dict(NODE[0], unavailable=[[1, 3]])]
    p = problem([{"id": "a", "demand": {"gpu": 4}, "duration": 2}],
                slots=6, regions=[{"id": "eu", "price_per_kwh": prices}], nodes=nodes)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    # starts 0-2 touch slots 1-2; start 3 costs 4 x 0.5 = 2.0, start 4 costs 4 x 0.35 = 1.4
    assert placed(plan)["a"].start == 4
    assert plan.metrics["energy_cost"] == pytest.approx(1.4)
    assert plan.metrics["energy_kwh"] == pytest.approx(8.0)  # 4 kW x 2 h


def test_required_job_blocked_by_maintenance(solver):
    """A 3-slot job on a node down in slots 1-2 of a 4-slot horizon never fits:
    infeasible, and the reason names maintenance."""
    nodes = [dict(NODE[0], unavailable=[[1, 3]])]
    p = problem([{"id": "a", "demand": {"gpu": 4}, "duration": 3, "required": True},
                 {"id": "b", "demand": {"gpu": 4}, "duration": 1}],
                nodes=nodes)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "infeasible"
    assert set(placed(plan)) == {"b"}
    assert "maintenance" in reasons(plan)["a"]


def test_required_job_with_too_short_window(solver):
    """Release 3 + duration 2 > 4 slots: infeasible, the reason names the window."""
    p = problem([{"id": "a", "demand": {"gpu": 4}, "duration": 2, "release": 3,
                  "required": True},
                 {"id": "b", "demand": {"gpu": 4}, "duration": 1}], nodes=NODE)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "infeasible"
    assert set(placed(plan)) == {"b"}
    assert reasons(plan)["a"] == "window too short: release 3 + duration 2 > deadline 4"


def test_successor_starts_after_its_predecessor_ends(solver):
    """a (2 kW) and b (6 kW) would share the node in the cheap slots, but b
    runs after a: a takes the dear slots 0-1 and b the cheap slots 2-3."""
    prices = [0.3, 0.3, 0.1, 0.1]
    p = problem([{"id": "a", "demand": {"gpu": 2}, "duration": 2},
                 {"id": "b", "demand": {"gpu": 6}, "duration": 2, "after": ["a"]}],
                regions=[{"id": "eu", "price_per_kwh": prices}], nodes=NODE)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    got = placed(plan)
    assert (got["a"].start, got["b"].start) == (0, 2)
    # 2 kW x 2 h x 0.3 + 6 kW x 2 h x 0.1 = 1.2 + 1.2 = 2.4
    assert plan.metrics["energy_cost"] == pytest.approx(2.4)


def test_successor_of_an_unplaceable_job_is_unplaced(solver):
    """b needs a, which needs 16 GPUs of 8: both unplaced, b because of a;
    b is required so the plan is infeasible; c still runs."""
    p = problem([{"id": "a", "demand": {"gpu": 16}, "duration": 1},
                 {"id": "b", "demand": {"gpu": 1}, "duration": 1, "after": ["a"],
                  "required": True},
                 {"id": "c", "demand": {"gpu": 1}, "duration": 1}], nodes=NODE)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "infeasible"
    assert set(placed(plan)) == {"c"}
    assert reasons(plan)["b"] == "predecessor 'a' can never be placed"


def test_required_successor_without_time_after_its_predecessor(solver):
    """Two 2-slot jobs in sequence need 4 slots, the horizon has 3: the required
    successor is unplaced and the reason names the window after predecessors."""
    p = problem([{"id": "a", "demand": {"gpu": 1}, "duration": 2},
                 {"id": "b", "demand": {"gpu": 1}, "duration": 2, "after": ["a"],
                  "required": True}], slots=3, nodes=NODE)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "infeasible"
    assert set(placed(plan)) == {"a"}
    assert reasons(plan)["b"].startswith("window too short after predecessors")


@pytest.mark.parametrize(("penalty", "start", "tardiness", "cost"), [
    # penalty 1.0: start 0 costs 4 x 0.2 = 0.8 on time; start 1 costs 0.6 + 1 late
    # slot = 1.6; start 2 costs 0.4 + 2 = 2.4 -> start 0, cost 0.8
    (1.0, 0, 0.0, 0.8),
    # penalty 0.1: start 0 = 0.8; start 1 = 0.6 + 0.1 = 0.7; start 2 = 0.4 + 0.2 = 0.6
    (0.1, 2, 0.2, 0.6),
])
def test_tardiness_trades_off_against_energy_cost(solver, penalty, start, tardiness, cost):
    """Due at slot 2, power cheaper later (0.1 then 0.05/kWh): the penalty
    decides whether the 4 kW job runs on time or late in the cheap slots."""
    prices = [0.1, 0.1, 0.05, 0.05]
    p = problem([{"id": "a", "demand": {"gpu": 4}, "duration": 2, "due": 2,
                  "tardiness_penalty": penalty}],
                regions=[{"id": "eu", "price_per_kwh": prices}], nodes=NODE)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    assert placed(plan)["a"].start == start
    assert plan.metrics["tardiness"] == pytest.approx(tardiness)
    assert plan.metrics["cost"] == pytest.approx(cost)


# -- the family on its own ----------------------------------------------------

def test_family_rejects_a_replica_during_maintenance(backend):
    """Node n1 is down in slots 0-1: the job may run there from slot 2 or on
    n2 at any time, never on n1 at slot 0."""
    nodes = [dict(NODE[0], id="n1", unavailable=[[0, 2]]), dict(NODE[0], id="n2")]
    p = problem([{"id": "a", "demand": {"gpu": 4}, "duration": 2}], nodes=nodes)
    for assignment, expected in [
        ({"a": (0, ("n1",))}, {"infeasible"}),  # runs through n1's maintenance
        ({"a": (0, ("n2",))}, set(FEASIBLE)),
        ({"a": (2, ("n1",))}, set(FEASIBLE)),  # after the window
    ]:
        m, scope, x = family_model(p, [add_timing], backend)
        assert fixed_status(m, scope, x, assignment_plan(p, assignment)) in expected, assignment


def test_family_rejects_broken_precedence(backend):
    """b after a (2 slots, horizon 5): with a at slot 1, b may start at 3, not
    at 2; and b never runs without a."""
    p = problem([{"id": "a", "demand": {"gpu": 1}, "duration": 2},
                 {"id": "b", "demand": {"gpu": 1}, "duration": 2, "after": ["a"]}],
                slots=5, nodes=NODE)
    for assignment, expected in [
        # b's domain starts at 2 (a's earliest end); a at 1 ends at 3 > 2
        ({"a": (1, ("n",)), "b": (2, ("n",))}, {"infeasible"}),
        ({"a": (1, ("n",)), "b": (3, ("n",))}, set(FEASIBLE)),
        ({"b": (2, ("n",))}, {"infeasible"}),  # a unplaced
        ({"a": (0, ("n",)), "b": (2, ("n",))}, set(FEASIBLE)),
        ({"a": (0, ("n",))}, set(FEASIBLE)),  # a alone is fine
    ]:
        m, scope, x = family_model(p, [add_timing], backend)
        assert fixed_status(m, scope, x, assignment_plan(p, assignment)) in expected, assignment


def test_tardiness_terms_charge_each_late_start():
    """Due 2, penalty 0.5, duration 2, starts 0-2: start 1 is 1 slot late
    (0.5), start 2 is 2 slots late (1.0), start 0 costs nothing."""
    p = problem([{"id": "a", "demand": {"gpu": 1}, "duration": 2, "due": 2,
                  "tardiness_penalty": 0.5}], nodes=NODE)
    _, scope, x = full_model(p)
    terms = {id(v): c for v, c in tardiness_terms(scope, x)}
    ys = x.y[0]
    assert id(ys[0]) not in terms
    assert terms[id(ys[1])] == pytest.approx(0.5)
    assert terms[id(ys[2])] == pytest.approx(1.0)
