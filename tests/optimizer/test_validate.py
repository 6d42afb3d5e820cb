"""The independent validator: one bad plan per hard rule, hand-computed metrics."""

from __future__ import annotations

from typing import Any

import pytest

from allocopt import Assignment, Plan, Problem, SolveStatus, Unplaced
from allocopt.validate import RULES, Violation, compute_metrics, is_valid, validate

# Three regions: eu-us 20 ms, us-ap 100 ms (so eu-ap is 120 ms via us).
# Six one-hour slots. Nodes (GPU capacity, idle kW, kW per GPU):
#   e#0, e#1  eu, type gpu, 12 GPUs, idle 1.0, 0.5 kW/GPU, down in slot 5
#   u         us, type gpu,  8 GPUs, idle 0,   0.25 kW/GPU, 2 per slot when active
#   c         us, type cpu,  8 GPUs
#   p         ap, type gpu,  8 GPUs
_DATA: dict[str, Any] = {
    "name": "rules",
    "horizon": {"slots": 6},
    "resources": ["gpu"],
    "regions": [
        {"id": "eu", "pue": 1.5, "price_per_kwh": 0.1, "carbon_g_per_kwh": 200},
        {"id": "us", "price_per_kwh": [0.2] * 6, "carbon_g_per_kwh": 100},
        {"id": "ap"},
    ],
    "links": [{"a": "eu", "b": "us", "latency_ms": 20},
              {"a": "us", "b": "ap", "latency_ms": 100}],
    "nodes": [
        {"id": "e", "region": "eu", "type": "gpu", "count": 2, "capacity": {"gpu": 12},
         "idle_kw": 1.0, "kw_per_unit": {"gpu": 0.5}, "unavailable": [[5, 6]]},
        {"id": "u", "region": "us", "type": "gpu", "capacity": {"gpu": 8},
         "kw_per_unit": {"gpu": 0.25}, "cost_per_slot": 2.0},
        {"id": "c", "region": "us", "type": "cpu", "capacity": {"gpu": 8}},
        {"id": "p", "region": "ap", "type": "gpu", "capacity": {"gpu": 8}},
    ],
    "jobs": [
        {"id": "a", "demand": {"gpu": 4}, "duration": 2, "release": 1, "deadline": 5,
         "due": 2, "tardiness_penalty": 3, "priority": 1, "value": 2,
         "regions": ["eu", "us"], "node_types": ["gpu"]},
        {"id": "b", "demand": {"gpu": 4}, "duration": 1, "deadline": 5, "after": ["a"]},
        {"id": "r", "demand": {"gpu": 2}, "duration": 2, "replicas": 2, "min_regions": 2,
         "max_per_region": 1, "max_latency_ms": 50},
        {"id": "q", "demand": {"gpu": 8}, "duration": 1, "required": True, "priority": 2,
         "value": 5},
        {"id": "x", "demand": {"gpu": 8}, "duration": 1},
    ],
    "objective": {"carbon_price_per_kg": 0.5},
}

# The valid plan every bad plan below starts from.
_ASSIGNED = {
    "q": (0, ["e#0"]),       # slot 0, 8 of 12 GPUs
    "a": (1, ["e#0"]),       # slots 1-2, after its release 1, ends 3 <= deadline 5
    "b": (3, ["e#0"]),       # slot 3, after a ends at 3
    "r": (0, ["e#1", "u"]),  # slots 0-1, eu and us: two regions, 20 ms apart
}
_UNPLACED = {"x": "not worth its cost"}


@pytest.fixture(scope="module")
def problem() -> Problem:
    """Three regions, five nodes, five jobs touching every hard rule (see above)."""
    return Problem.from_dict(_DATA)


def make_plan(
    problem: Problem,
    assigned: dict[str, tuple[int, list[str]]] | None = None,
    unplaced: dict[str, str] | None = None,
    *,
    status: SolveStatus = SolveStatus.FEASIBLE,
    ends: dict[str, int] | None = None,
    extra: list[Assignment] | None = None,
    extra_unplaced: list[Unplaced] | None = None,
) -> Plan:
    """A plan from {job: (start, nodes)} and {job: reason}; ``end`` is start + duration
    unless ``ends`` says otherwise."""
    assigned = _ASSIGNED if assigned is None else assigned
    unplaced = _UNPLACED if unplaced is None else unplaced
    dur = {j.id: j.duration for j in problem.jobs}
    ends = ends or {}
    assignments = [
        Assignment(jid, s, ends.get(jid, s + dur[jid]), tuple(nodes))
        for jid, (s, nodes) in assigned.items()
    ] + list(extra or [])
    out = [Unplaced(jid, reason) for jid, reason in unplaced.items()] + list(extra_unplaced or [])
    return Plan(problem=problem.name, status=status, solver="hand", assignments=tuple(assignments),
                unplaced=tuple(out))


def _with(**changes: tuple[int, list[str]]) -> dict[str, tuple[int, list[str]]]:
    return {**_ASSIGNED, **changes}


def _without(*jobs: str) -> dict[str, tuple[int, list[str]]]:
    return {k: v for k, v in _ASSIGNED.items() if k not in jobs}


def _rules(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


def _only(violations: list[Violation], rule: str, *parts: str) -> None:
    """Assert that ``rule`` is the only rule broken and a message has all ``parts``."""
    assert rule in RULES
    assert _rules(violations) == {rule}, [str(v) for v in violations]
    assert any(all(p in v.message for p in parts) for v in violations), [
        str(v) for v in violations]


def test_base_plan_is_valid(problem: Problem):
    """The starting plan breaks no rule."""
    plan = make_plan(problem)
    assert validate(problem, plan) == []
    assert is_valid(plan, [])


# ---------------------------------------------------------------------------
# One bad plan per rule
# ---------------------------------------------------------------------------


def test_accounting_missing_job(problem: Problem):
    """A job in neither assignments nor unplaced."""
    _only(validate(problem, make_plan(problem, unplaced={})), "accounting", "'x'", "0 times")


def test_accounting_duplicate_job(problem: Problem):
    """A placed job listed again as unplaced."""
    plan = make_plan(problem, extra_unplaced=[Unplaced("b", "dup")])
    _only(validate(problem, plan), "accounting", "'b'", "2 times")


def test_accounting_unknown_job(problem: Problem):
    """A plan that names a job the problem lacks."""
    plan = make_plan(problem, extra_unplaced=[Unplaced("ghost", "not mine")])
    _only(validate(problem, plan), "accounting", "unknown job 'ghost'")


def test_accounting_empty_reason(problem: Problem):
    """An unplaced job must say why."""
    plan = make_plan(problem, unplaced={"x": "  "})
    _only(validate(problem, plan), "accounting", "'x'", "without a reason")


def test_time_start_before_release(problem: Problem):
    """'a' starts at 0, before its release 1 (e#0 still holds q 8 + a 4 = 12)."""
    plan = make_plan(problem, _with(a=(0, ["e#0"])))
    _only(validate(problem, plan), "time", "'a'", "start 0 < release 1")


def test_time_end_after_deadline(problem: Problem):
    """'b' runs in slot 5 on u and ends at 6 > its deadline 5."""
    plan = make_plan(problem, _with(b=(5, ["u"])))
    _only(validate(problem, plan), "time", "'b'", "end 6 > deadline 5")


def test_time_wrong_end(problem: Problem):
    """An assignment whose end is not start + duration."""
    plan = make_plan(problem, ends={"a": 4})
    _only(validate(problem, plan), "time", "'a'", "end 4 != start 1 + duration 2")


def test_time_maintenance_overlap(problem: Problem):
    """'q' in slot 5 on e#1, which is unavailable in [5, 6)."""
    plan = make_plan(problem, _with(q=(5, ["e#1"])))
    _only(validate(problem, plan), "time", "'q'", "'e#1'", "unavailable window [5, 6)")


def test_precedence_starts_too_early(problem: Problem):
    """'b' starts at 2 while its predecessor 'a' runs until 3 (e#0: 4 + 4 <= 12 GPUs)."""
    plan = make_plan(problem, _with(b=(2, ["e#0"])))
    _only(validate(problem, plan), "precedence", "'b'", "before predecessor 'a' ends at 3")


def test_precedence_predecessor_unplaced(problem: Problem):
    """'b' is placed although its predecessor 'a' is not."""
    plan = make_plan(problem, _without("a"), {"x": "no", "a": "not chosen"})
    _only(validate(problem, plan), "precedence", "'b'", "predecessor 'a' is not placed")


def test_eligibility_region(problem: Problem):
    """'a' (regions eu, us) on p in ap."""
    plan = make_plan(problem, _with(a=(1, ["p"])))
    _only(validate(problem, plan), "eligibility", "'a'", "region 'ap'")


def test_eligibility_type(problem: Problem):
    """'a' (node_types gpu) on c of type cpu."""
    plan = make_plan(problem, _with(a=(1, ["c"])))
    _only(validate(problem, plan), "eligibility", "'a'", "type 'cpu'")


def test_eligibility_unknown_node(problem: Problem):
    """A replica on a node the problem lacks ('e' has only copies #0 and #1)."""
    plan = make_plan(problem, _with(a=(1, ["e#7"])))
    _only(validate(problem, plan), "eligibility", "'a'", "unknown node 'e#7'")


def test_replication_shared_node(problem: Problem):
    """Both replicas of 'r' on e#1 (which also leaves r in one region)."""
    plan = make_plan(problem, _with(r=(0, ["e#1", "e#1"])))
    _only(validate(problem, plan), "replication", "'r'", "share a node")


def test_replication_wrong_replica_count(problem: Problem):
    """Three nodes for a job of two replicas."""
    plan = make_plan(problem, _with(r=(0, ["e#1", "u", "c"])))
    _only(validate(problem, plan), "replication", "'r'", "3 nodes for 2 replicas")


def test_replication_min_regions(problem: Problem):
    """'r' needs two regions; c and u are both in us."""
    plan = make_plan(problem, _with(r=(0, ["c", "u"])))
    _only(validate(problem, plan), "replication", "'r'", "1 region(s) < min_regions 2")


def test_replication_max_per_region(problem: Problem):
    """Three replicas of 'r', two of them in eu, where max_per_region is 1."""
    three = problem.replace(jobs=[
        j.model_copy(update={"replicas": 3}) if j.id == "r" else j for j in problem.jobs])
    plan = make_plan(three, _with(r=(0, ["e#0", "e#1", "u"])))
    _only(validate(three, plan), "replication", "'r'", "2 replicas in region 'eu'",
          "max_per_region 1")


def test_replication_max_latency(problem: Problem):
    """'r' on eu and ap, 120 ms apart (eu-us-ap) > max_latency_ms 50."""
    plan = make_plan(problem, _with(r=(0, ["e#1", "p"])))
    _only(validate(problem, plan), "replication", "'r'", "latency", "120 ms > max_latency_ms 50")


def test_capacity(problem: Problem):
    """'x' (8 GPUs) on e#0 in slot 0 next to 'q' (8 GPUs): 16 > 12."""
    plan = make_plan(problem, _with(x=(0, ["e#0"])), {})
    _only(validate(problem, plan), "capacity", "'e#0'", "slot 0", "demand 16 > capacity 12")


def test_required(problem: Problem):
    """Required 'q' unplaced in a plan that claims to be feasible."""
    plan = make_plan(problem, _without("q"), {**_UNPLACED, "q": "left out"})
    violations = validate(problem, plan)
    _only(violations, "required", "required job 'q'")
    assert not is_valid(plan, violations)


def test_energy_power_cap(problem: Problem):
    """eu draws 1.5 * (4 + 1 + 2 idle) = 10.5 kW in slot 0, over a 10 kW cap."""
    capped = problem.replace(regions=[
        g.model_copy(update={"power_cap_kw": 10.0}) if g.id == "eu" else g
        for g in problem.regions])
    _only(validate(capped, make_plan(capped)), "energy", "region 'eu' slot 0",
          "power 10.500 kW > power_cap_kw 10")


def test_energy_budget(problem: Problem):
    """eu uses 36 kWh (see test_metrics_by_hand), over a 35 kWh budget."""
    tight = problem.replace(regions=[
        g.model_copy(update={"energy_budget_kwh": 35.0}) if g.id == "eu" else g
        for g in problem.regions])
    _only(validate(tight, make_plan(tight)), "energy", "region 'eu'",
          "energy 36.000 kWh > energy_budget_kwh 35")


def test_metrics_stated_wrongly(problem: Problem):
    plan = make_plan(problem)
    metrics = compute_metrics(problem, plan.assignments)
    _only(validate(problem, plan.replace(metrics={**metrics, "cost": 0})), "metrics",
          "metrics.cost: the plan states 0")


def test_status_infeasible_on_a_complete_plan(problem: Problem):
    plan = make_plan(problem, status=SolveStatus.INFEASIBLE)
    _only(validate(problem, plan), "status", "every required job is placed")


def test_bound_negative_gap(problem: Problem):
    _only(validate(problem, make_plan(problem).replace(gap=-5.0)), "bound", "gap must be")


def test_every_rule_is_tested():
    """Each rule of RULES has a test above (keeps this file in step with the validator)."""
    names = " ".join(n for n in globals() if n.startswith("test_"))
    assert all(f"test_{rule}" in names for rule in RULES)


# ---------------------------------------------------------------------------
# is_valid semantics
# ---------------------------------------------------------------------------


def test_infeasible_plan_may_leave_required_jobs_out(problem: Problem):
    """An 'infeasible' plan whose only violations are unplaced required jobs is valid."""
    plan = make_plan(problem, _without("q"), {**_UNPLACED, "q": "no room"},
                     status=SolveStatus.INFEASIBLE)
    violations = validate(problem, plan)
    assert _rules(violations) == {"required"}  # still reported ...
    assert is_valid(plan, violations)  # ... but allowed, as the status says


def test_infeasible_plan_breaking_another_rule_is_invalid(problem: Problem):
    """'infeasible' excuses unplaced required jobs only, not e.g. capacity."""
    plan = make_plan(problem, _without("q") | {"x": (0, ["e#0"]), "b": (1, ["e#0"])},
                     {"q": "no room"}, status=SolveStatus.INFEASIBLE)
    violations = validate(problem, plan)
    assert "precedence" in _rules(violations)
    assert not is_valid(plan, violations)


@pytest.mark.parametrize("status", [SolveStatus.FEASIBLE, SolveStatus.OPTIMAL,
                                    SolveStatus.UNKNOWN])
def test_other_statuses_need_required_jobs(problem: Problem, status: SolveStatus):
    """Only the 'infeasible' status excuses an unplaced required job."""
    plan = make_plan(problem, _without("q"), {**_UNPLACED, "q": "no room"}, status=status)
    assert not is_valid(plan, validate(problem, plan))


# ---------------------------------------------------------------------------
# Metrics, computed by hand
# ---------------------------------------------------------------------------


def test_metrics_by_hand(problem: Problem):
    """Energy, cost, carbon (PUE, idle draw of active nodes), tardiness, node cost."""
    m = compute_metrics(problem, make_plan(problem).assignments)
    # Dynamic kW: q on e#0 8*0.5 = 4 (slot 0); a on e#0 4*0.5 = 2 (slots 1-2);
    # b on e#0 2 (slot 3); r on e#1 2*0.5 = 1 and on u 2*0.25 = 0.5 (slots 0-1).
    # Active: e#0, e#1 (idle 1 kW each, in every slot) and u (idle 0).
    # eu facility kW = 1.5 * (dynamic + 2 idle):
    #   slot 0: 1.5*(4+1+2) = 10.5, slot 1: 1.5*(2+1+2) = 7.5, slots 2-3: 1.5*(2+2) = 6,
    #   slots 4-5: 1.5*2 = 3   -> 10.5 + 7.5 + 6 + 6 + 3 + 3 = 36 kWh
    # us: 0.5 kW in slots 0-1 (pue 1) -> 1 kWh; ap: nothing.
    assert m["energy_kwh_by_region"] == pytest.approx({"eu": 36.0, "us": 1.0, "ap": 0.0})
    assert m["energy_kwh"] == pytest.approx(37.0)
    # 36 kWh * 0.1 + 1 kWh * 0.2
    assert m["energy_cost"] == pytest.approx(3.8)
    # (36 * 200 + 1 * 100) g / 1000
    assert m["carbon_kg"] == pytest.approx(7.3)
    # 7.3 kg * 0.5 per kg
    assert m["carbon_cost"] == pytest.approx(3.65)
    # a ends at 3, due 2: 1 slot late * penalty 3
    assert m["tardiness"] == pytest.approx(3.0)
    # u is active: 2 per slot * 6 slots (e and its idle draw cost nothing per slot)
    assert m["node_cost"] == pytest.approx(12.0)
    # 3.8 + 3.65 + 3 + 12
    assert m["cost"] == pytest.approx(22.45)
    # q (tier 2, value 5), a (tier 1, value 2), b and r (tier 0, value 1 each); x unplaced
    assert m["placed_value_by_priority"] == {"2": 5.0, "1": 2.0, "0": 2.0}
    assert list(m["placed_value_by_priority"]) == ["2", "1", "0"]  # highest tier first
    assert (m["placed_jobs"], m["unplaced_jobs"], m["active_nodes"]) == (4, 1, 3)
    assert (m["required_placed"], m["required_jobs"]) == (1, 1)
    assert m["objective"] == {"placed_value_by_priority": m["placed_value_by_priority"],
                              "cost": m["cost"]}


def test_metrics_power_kw_slot_hours_weighted():
    """power_kw overrides kw_per_unit; slot_hours scales energy; weighted objective."""
    p = Problem.from_dict({
        "horizon": {"slots": 4, "slot_hours": 0.5},
        "resources": ["gpu"],
        "regions": [{"id": "g", "pue": 1.2, "price_per_kwh": [0.1, 0.2, 0.3, 0.4],
                     "carbon_g_per_kwh": [100, 100, 0, 0]}],
        "nodes": [{"id": "n", "region": "g", "count": 3, "capacity": {"gpu": 8},
                   "idle_kw": 2.0, "kw_per_unit": {"gpu": 9.0}, "cost_per_slot": 0.5}],
        "jobs": [{"id": "j", "demand": {"gpu": 1}, "duration": 2, "power_kw": 3.0,
                  "value": 10}],
        "objective": {"mode": "weighted", "carbon_price_per_kg": 1.0},
    })
    m = compute_metrics(p, [Assignment("j", 1, 3, ("n#2",))])
    # Only n#2 is active: idle 2 kW in all 4 slots; j adds 3 kW (not 1 GPU * 9) in slots 1-2.
    # Facility kW = 1.2 * (2, 5, 5, 2) = (2.4, 6, 6, 2.4); half-hour slots:
    # energy (1.2, 3, 3, 1.2) -> 8.4 kWh
    assert m["energy_kwh"] == pytest.approx(8.4)
    # 1.2*0.1 + 3*0.2 + 3*0.3 + 1.2*0.4 = 0.12 + 0.6 + 0.9 + 0.48 = 2.1
    assert m["energy_cost"] == pytest.approx(2.1)
    # (1.2 + 3) kWh * 100 g / 1000 = 0.42 kg, at 1 per kg
    assert m["carbon_kg"] == pytest.approx(0.42)
    assert m["carbon_cost"] == pytest.approx(0.42)
    # one active node * 0.5 per slot * 4 slots
    assert m["node_cost"] == pytest.approx(2.0)
    # 2.1 + 0.42 + 0 + 2
    assert m["cost"] == pytest.approx(4.52)
    # weighted: placed value 10 - cost 4.52
    assert m["objective"] == pytest.approx(5.48)


def test_metrics_of_empty_plan_are_zero(problem: Problem):
    """No active node: nothing is drawn, nothing costs."""
    m = compute_metrics(problem, [])
    assert m["energy_kwh"] == 0 and m["cost"] == 0 and m["active_nodes"] == 0
    assert m["placed_value_by_priority"] == {"2": 0.0, "1": 0.0, "0": 0.0}
    assert m["unplaced_jobs"] == len(problem.jobs)
