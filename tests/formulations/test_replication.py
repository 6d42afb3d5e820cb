"""Replication and eligibility (PROBLEM.md hard constraints 3 and 4)."""

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

from allocopt.formulations.replication import add_replication

# Regions a (0.2/kWh), b (0.3/kWh), c (0.1/kWh); a-b 10 ms, a-c 100 ms, so
# b-c is 110 ms through a. Two 4-GPU nodes in a, one in b, two in c; every
# replica of a 4-GPU job draws 4 kW, so 2 slots cost 8 kWh x the price.
REGIONS = [{"id": "a", "price_per_kwh": 0.2}, {"id": "b", "price_per_kwh": 0.3},
           {"id": "c", "price_per_kwh": 0.1}]
LINKS = [{"a": "a", "b": "b", "latency_ms": 10}, {"a": "a", "b": "c", "latency_ms": 100}]
NODES = [
    {"id": "na", "region": "a", "capacity": {"gpu": 4}, "count": 2, "kw_per_unit": {"gpu": 1.0}},
    {"id": "nb", "region": "b", "capacity": {"gpu": 4}, "kw_per_unit": {"gpu": 1.0}},
    {"id": "nc", "region": "c", "capacity": {"gpu": 4}, "count": 2, "kw_per_unit": {"gpu": 1.0}},
]


def _svc(**kw):
    return {"id": "svc", "demand": {"gpu": 4}, "duration": 2, "replicas": 2, **kw}


def _problem(jobs, slots=3):
    return problem(jobs, slots=slots, regions=REGIONS, links=LINKS, nodes=NODES)


@pytest.mark.parametrize(("rules", "nodes", "cost"), [
    # nothing asked: both replicas in the cheapest region c, 2 x 8 kWh x 0.1 = 1.6
    ({}, {"nc#0", "nc#1"}, 1.6),
    # two regions: c and the next cheapest a, 0.8 + 1.6 = 2.4
    ({"min_regions": 2}, {"na#0", "nc#0"}, 2.4),
    # at most one per region: the same as two regions
    ({"max_per_region": 1}, {"na#0", "nc#0"}, 2.4),
    # latency only binds between distinct regions: both in c again
    ({"max_latency_ms": 50}, {"nc#0", "nc#1"}, 1.6),
    # two regions within 50 ms: only a and b (10 ms), 1.6 + 2.4 = 4.0
    ({"min_regions": 2, "max_latency_ms": 50}, {"na#0", "nb"}, 4.0),
])
def test_replication_rules_choose_the_regions(solver, rules, nodes, cost):
    """Two replicas of a 4-GPU job; each rule moves them to the cheapest allowed
    regions (identical pool nodes are used in index order)."""
    plan = solve_exact(_problem([_svc(**rules)], slots=2), solver)
    assert str(plan.status) == "optimal"
    got = placed(plan)["svc"]
    assert set(got.nodes) == nodes
    assert got.start == 0  # a 2-slot job in a 2-slot horizon
    assert plan.metrics["energy_cost"] == pytest.approx(cost)


def test_max_per_region_spills_the_third_replica(solver):
    """Three replicas, at most two per region: two in c and one in a,
    2 x 0.8 + 1.6 = 3.2."""
    plan = solve_exact(_problem([_svc(replicas=3, max_per_region=2)]), solver)
    assert str(plan.status) == "optimal"
    assert set(placed(plan)["svc"].nodes) == {"nc#0", "nc#1", "na#0"}
    assert plan.metrics["energy_cost"] == pytest.approx(3.2)


def test_allowed_regions_and_node_types(solver):
    """Only region b, or only type 'h100' (the nodes of a), are allowed."""
    nodes = [dict(n, type="h100" if n["region"] == "a" else "a100") for n in NODES]
    p = problem([{"id": "in_b", "demand": {"gpu": 4}, "duration": 1, "regions": ["b"]},
                 {"id": "h100", "demand": {"gpu": 4}, "duration": 1, "node_types": ["h100"]}],
                slots=1, regions=REGIONS, links=LINKS, nodes=nodes)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    assert placed(plan)["in_b"].nodes == ("nb",)
    assert placed(plan)["h100"].nodes == ("na#0",)


@pytest.mark.parametrize(("rules", "reason"), [
    ({"min_regions": 2, "max_latency_ms": 5},
     "no set of eligible regions within max_latency_ms 5 holds 2 replicas over 2 region(s)"),
    ({"replicas": 3, "max_per_region": 1, "regions": ["a", "c"]},
     "max_per_region 1 over 2 eligible region(s) holds fewer than 3 replicas"),
    ({"replicas": 6}, "needs 6 replicas on distinct nodes, only 5 eligible node(s)"),
    ({"replicas": 2, "min_regions": 3, "regions": ["a", "b"]},
     "min_regions 3 > replicas 2: replicas cannot span that many regions"),
    ({"regions": ["z"]}, "no node in allowed regions ['z']"),
])
def test_required_job_that_replication_or_eligibility_rules_out(solver, rules, reason):
    """A required replicated job no plan can place: infeasible, the reason
    names the rule, and the other job still runs."""
    regions = [*REGIONS, {"id": "z"}]  # z has no node and no link
    p = problem([_svc(required=True, **rules),
                 {"id": "other", "demand": {"gpu": 4}, "duration": 1}],
                slots=3, regions=regions, links=LINKS, nodes=NODES)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "infeasible"
    assert set(placed(plan)) == {"other"}
    assert reasons(plan)["svc"] == reason


def test_unreachable_regions_are_infinitely_far_apart(solver):
    """Region d has a node but no link: a two-region job within 1000 ms may
    not use it, so it needs a and c (100 ms)."""
    regions = [*REGIONS, {"id": "d", "price_per_kwh": 0.0}]
    nodes = [*NODES, dict(NODES[1], id="nd", region="d")]
    p = problem([_svc(min_regions=2, max_latency_ms=1000, regions=["c", "d", "a"])],
                slots=3, regions=regions, links=LINKS, nodes=nodes)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    # d is free but unreachable; c + a = 0.8 + 1.6 = 2.4
    assert set(placed(plan)["svc"].nodes) == {"nc#0", "na#0"}
    assert plan.metrics["energy_cost"] == pytest.approx(2.4)


def test_replicas_blocked_by_a_placed_job(solver):
    """Two required services both need a and b within 50 ms, and b has one
    node for the whole horizon: the second is unplaced for replication."""
    p = _problem([_svc(id="first", required=True, priority=1, min_regions=2,
                       max_latency_ms=50),
                  _svc(id="second", required=True, min_regions=2, max_latency_ms=50)],
                 slots=2)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "infeasible"
    assert set(placed(plan)) == {"first"}
    assert set(placed(plan)["first"].nodes) == {"na#0", "nb"}
    assert "replication" in reasons(plan)["second"]


# -- the family on its own ----------------------------------------------------

@pytest.mark.parametrize(("rules", "bad", "good"), [
    ({"min_regions": 2}, ("na#0", "na#1"), ("na#0", "nc#0")),
    ({"max_per_region": 1}, ("nc#0", "nc#1"), ("nb", "nc#0")),
    ({"min_regions": 2, "max_latency_ms": 50}, ("na#0", "nc#0"), ("na#0", "nb")),
    ({"max_latency_ms": 50}, ("nb", "nc#0"), ("nc#0", "nc#1")),
    ({}, ("na#0",), ("na#0", "na#1")),  # one node for two replicas
])
def test_family_rejects_broken_replication(backend, rules, bad, good):
    """Each rule alone: a placement breaking it is infeasible, one keeping it is not."""
    p = _problem([_svc(**rules)])
    m, scope, x = family_model(p, [add_replication], backend)
    assert fixed_status(m, scope, x, assignment_plan(p, {"svc": (0, bad)})) == "infeasible"
    m, scope, x = family_model(p, [add_replication], backend)
    assert fixed_status(m, scope, x, assignment_plan(p, {"svc": (0, good)})) in FEASIBLE
