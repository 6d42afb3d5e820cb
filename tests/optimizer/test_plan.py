"""The plan value (PLAN.md): field names, round trips, malformed plan data."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from allocopt import Assignment, Plan, ProblemError, SolveStatus, Unplaced
from allocopt.greedy import run_greedy


def _plan() -> Plan:
    return Plan(
        problem="demo",
        status=SolveStatus.FEASIBLE,
        solver="cpsat",
        fallback="why not",
        assignments=(Assignment("a", 0, 2, ("n#0", "n#1")), Assignment("b", 2, 3, ("m",))),
        unplaced=(Unplaced("c", "no eligible node has gpu >= 16"),),
        metrics={"placed_value_by_priority": {"1": 2.0, "0": 1.0}, "cost": 1.25},
        bound={"cost": 1.0},
        gap=0.2,
        solve_seconds=1.5,
    )


def test_to_dict_has_plan_md_keys_in_order():
    """to_dict gives PLAN.md's keys, in its order, with plain JSON values."""
    data = _plan().to_dict()
    assert list(data) == ["problem", "status", "solver", "fallback", "assignments", "unplaced",
                          "metrics", "bound", "gap", "gaps", "solve_seconds", "seeded_by"]
    assert data["status"] == "feasible"
    assert data["assignments"][0] == {"job": "a", "start": 0, "end": 2, "nodes": ["n#0", "n#1"]}
    assert data["unplaced"] == [{"job": "c", "reason": "no eligible node has gpu >= 16"}]
    json.dumps(data, allow_nan=False)  # serialisable as strict JSON


def test_round_trip():
    """Plan -> to_dict -> JSON -> from_dict gives an equal plan."""
    plan = _plan()
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_round_trip_greedy_plan(one_node):
    """A real plan survives the round trip too (metrics included)."""
    plan = run_greedy(one_node)
    plan = plan.replace(solve_seconds=round(plan.solve_seconds, 3))  # to_dict rounds to ms
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


@pytest.mark.parametrize("status", list(SolveStatus))
def test_every_status_round_trips(status: SolveStatus):
    """Each PLAN.md status string is read back as the same SolveStatus."""
    plan = _plan().replace(status=status)
    assert Plan.from_dict(plan.to_dict()).status is status
    assert str(status) == status.value


def test_plan_is_frozen():
    """Assigning into a plan or its records raises; replace() makes a copy."""
    plan = _plan()
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.status = SolveStatus.OPTIMAL  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.assignments[0].start = 5  # type: ignore[misc]
    other = plan.replace(gap=None)
    assert other.gap is None and plan.gap == 0.2


def test_placed_ids_and_summary():
    """placed_ids lists placed jobs; summary() names status, solver and fallback."""
    plan = _plan()
    assert plan.placed_ids == {"a", "b"}
    text = plan.summary()
    assert "feasible" in text and "cpsat" in text and "why not" in text


MALFORMED = [
    # (case, data, substrings of one message)
    ("not an object", [], ["plan", "must be an object"]),
    ("bad status", {"status": "done"}, ["plan", "status 'done'"]),
    ("assignments not a list", {"assignments": {"a": 1}}, ["assignments", "valid list"]),
    ("assignment not an object", {"assignments": [3]}, ["assignments.0", "must be an object"]),
    ("fractional start", {"assignments": [{"job": "a", "start": 1.5, "nodes": ["n"]}]},
     ["assignments.0.start", "integer"]),
    ("nodes not a list", {"assignments": [{"job": "a", "start": 1, "nodes": "n"}]},
     ["assignments.0.nodes"]),
    ("missing job", {"assignments": [{"start": 1, "nodes": ["n"]}]},
     ["assignments.0.job", "required"]),
    ("numeric job id", {"unplaced": [{"job": 7, "reason": "x"}]}, ["unplaced.0.job", "string"]),
    ("NaN gap", {"gap": float("nan")}, ["gap", "finite"]),
    ("problem not a string", {"problem": 5}, ["problem", "string"]),
]


@pytest.mark.parametrize(("case", "data", "parts"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_plan_raises_problem_error(case: str, data: Any, parts: list[str]):
    """Malformed plan data raises ProblemError naming the entry and field."""
    with pytest.raises(ProblemError) as info:
        Plan.from_dict(data)
    errors = info.value.errors
    assert any(all(p in e for p in parts) for e in errors), errors
    assert all(e.startswith("plan") for e in errors)


def test_malformed_plan_reports_every_error():
    """Several problems in one plan are reported together."""
    data = {"status": "optimal",
            "assignments": [{"job": "a", "start": "0", "nodes": ["n"]},
                            {"job": "b", "start": 0, "nodes": [1]}],
            "unplaced": [{"reason": "x"}]}
    with pytest.raises(ProblemError) as info:
        Plan.from_dict(data)
    assert len(info.value.errors) == 3, info.value.errors
