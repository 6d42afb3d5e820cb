"""Re-planning (PROBLEM.md, Re-planning): running and planned jobs, move cost,
``solve(previous=...)``, ``advance`` and ``diff``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

import strategies
from allocopt import Plan, Problem, ProblemError, solve, solvers, validate
from allocopt.cli import app
from allocopt.plan import Assignment, SolveStatus, Unplaced
from allocopt.replan import advance, diff, with_previous
from allocopt.validate import compute_metrics, is_valid

# Two regions, one node each ('c' cheap at 0.1/kWh, 'd' dear at 0.3/kWh), no
# idle draw; a 4-GPU job of 2 slots draws 4 kW: 8 kWh, 0.8 on c, 2.4 on d.
_BASE: dict[str, Any] = {
    "name": "replan",
    "horizon": {"slots": 4},
    "resources": ["gpu"],
    "regions": [{"id": "cheap", "price_per_kwh": 0.1}, {"id": "dear", "price_per_kwh": 0.3}],
    "nodes": [
        {"id": "c", "region": "cheap", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0}},
        {"id": "d", "region": "dear", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0}},
    ],
    "jobs": [{"id": "job", "demand": {"gpu": 4}, "duration": 2}],
}


def _data(**job: Any) -> dict[str, Any]:
    data = copy.deepcopy(_BASE)
    data["jobs"][0].update(job)
    return data


def _errors(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ProblemError) as e:
        Problem.from_dict(data)
    return e.value.errors


def _exact_and_all() -> list[str]:
    return [n for n, info in solvers().items() if info.available()]


# ---------------------------------------------------------------------------
# Bad state
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("running, part", [
    ({"since": 1, "nodes": ["d"]}, "job 'job': running.since must be <= 0"),
    ({"since": -2, "nodes": ["d"]}, "job 'job': running job has ended (running.since -2 + duration 2"),
    ({"since": -1, "nodes": ["x"]}, "job 'job': running.nodes names unknown node 'x'"),
    ({"since": -1, "nodes": ["c", "d"]}, "job 'job': running.nodes has 2 node(s), replicas is 1"),
    ({"since": -1, "nodes": ["d", "d"]}, "job 'job': running.nodes names node 'd' twice"),
])
def test_each_bad_running_state_is_named(running, part):
    """Each broken running state is bad input naming the job and the field."""
    errors = _errors(_data(running=running))
    assert any(part in e for e in errors), errors


def test_running_into_maintenance_is_bad_input():
    """A running job whose remaining slot [0, 1) meets node d's window [0, 2) is bad input."""
    data = _data(running={"since": -1, "nodes": ["d"]})
    data["nodes"][1]["unavailable"] = [[0, 2]]
    assert any("job 'job': running on node 'd', whose unavailable window [0, 2) overlaps"
               in e for e in _errors(data))


def test_maintenance_before_now_is_not_rechecked():
    """A window that ended before the remaining slots is fine: [0, 1) vs remaining [1, ...)
    cannot happen, so use a window after the job: [1, 3) vs remaining [0, 1)."""
    data = _data(running={"since": -1, "nodes": ["d"]})
    data["nodes"][1]["unavailable"] = [[1, 3]]
    Problem.from_dict(data)  # no error


def test_bad_states_are_reported_together():
    """Three broken jobs, plus running+planned on one: all four messages at once."""
    data = copy.deepcopy(_BASE)
    data["jobs"] = [
        {"id": "a", "demand": {"gpu": 4}, "duration": 2, "running": {"since": 2, "nodes": ["c"]}},
        {"id": "b", "demand": {"gpu": 4}, "duration": 2, "running": {"since": -1, "nodes": ["z"]}},
        {"id": "e", "demand": {"gpu": 4}, "duration": 2, "running": {"since": -1, "nodes": ["c"]},
         "planned": {"start": 0, "nodes": ["c"]}},
        {"id": "f", "demand": {"gpu": 4}, "duration": 1, "running": {"since": -1, "nodes": ["d"]}},
    ]
    errors = _errors(data)
    for part in ("job 'a': running.since", "job 'b': running.nodes names unknown node 'z'",
                 "job 'e': running and planned exclude each other", "job 'f': running job has ended"):
        assert any(part in e for e in errors), (part, errors)


def test_running_jobs_overcommitting_a_node_is_bad_input():
    """Two running 6-GPU jobs on one 8-GPU node: 12 > 8 at slot 0."""
    data = copy.deepcopy(_BASE)
    data["jobs"] = [{"id": k, "demand": {"gpu": 6}, "duration": 2,
                     "running": {"since": -1, "nodes": ["c"]}} for k in ("a", "b")]
    assert any("node 'c': running jobs 'a', 'b' need gpu 12 > capacity 8 at slot 0" in e
               for e in _errors(data))


def test_unknown_running_fields_and_negative_planned_start_are_schema_errors():
    """Unknown keys inside running, and a planned start < 0, are rejected by the schema."""
    errors = _errors(_data(running={"since": -1, "nodes": ["d"], "sice": 0},
                           planned={"start": -1, "nodes": ["d"]}))
    assert any("job 'job'" in e and "sice" in e for e in errors), errors
    assert any("job 'job'" in e and "planned.start" in e for e in errors), errors


def test_planned_on_a_removed_node_is_not_an_error():
    """A planned placement naming a node that is gone cannot be kept: one forced move."""
    p = Problem.from_dict({**_data(planned={"start": 0, "nodes": ["gone"]}),
                           "objective": {"move_cost": 5.0}})
    plan = solve(p, solver="greedy")
    # the job moves to c (0.8) whatever: 1 move, cost 0.8 + 5
    assert plan.metrics["moves"] == 1
    assert plan.metrics["cost"] == pytest.approx(5.8)


# ---------------------------------------------------------------------------
# Validator and metrics
# ---------------------------------------------------------------------------


def _running_problem() -> Problem:
    """'job' runs on the dear node since slot -1 (one slot left: 4 kWh at 0.3 = 1.2);
    a second job 'new' can go anywhere."""
    data = _data(running={"since": -1, "nodes": ["d"]}, deadline=1)
    data["jobs"].append({"id": "new", "demand": {"gpu": 4}, "duration": 2})
    return Problem.from_dict(data)


def _plan(assignments: list[Assignment], unplaced: list[Unplaced] = ()) -> Plan:
    return Plan("replan", SolveStatus.FEASIBLE, "test", tuple(assignments), tuple(unplaced))


def test_running_job_metrics_count_slots_from_now():
    """Running 'job' in slot 0 only: 4 kWh on d (1.2); 'new' on c at 0: 8 kWh (0.8)."""
    p = _running_problem()
    plan = _plan([Assignment("job", -1, 1, ("d",)), Assignment("new", 0, 2, ("c",))])
    assert validate(p, plan) == []  # deadline 1 and release are not re-checked
    m = compute_metrics(p, plan.assignments)
    assert m["energy_kwh"] == pytest.approx(12.0)  # 4 + 8
    assert m["cost"] == pytest.approx(2.0)  # 1.2 + 0.8


@pytest.mark.parametrize("moved", [
    Assignment("job", 0, 2, ("d",)),  # later start
    Assignment("job", -1, 1, ("c",)),  # another node
])
def test_validator_rejects_a_moved_running_job(moved):
    """A running job at another start or node breaks the rules."""
    p = _running_problem()
    v = validate(p, _plan([moved], [Unplaced("new", "x")]))
    assert any("running job moved" in x.message for x in v)


def test_validator_rejects_an_unplaced_running_job_even_when_infeasible():
    """A running job cannot stop: an unplaced one is never accepted."""
    p = _running_problem()
    plan = _plan([], [Unplaced("job", "x"), Unplaced("new", "x")]).replace(
        status=SolveStatus.INFEASIBLE)
    v = validate(p, plan)
    assert any("running job 'job' is unplaced" in x.message for x in v)
    assert not is_valid(plan, v)


def test_moves_and_move_cost_metrics():
    """Planned on d at 0: kept -> 0 moves; on c -> 1 move costing the job's own 7.5."""
    p = Problem.from_dict({**_data(planned={"start": 0, "nodes": ["d"]}, move_cost=7.5),
                           "objective": {"move_cost": 1.0}})
    kept = compute_metrics(p, [Assignment("job", 0, 2, ("d",))])
    assert (kept["moves"], kept["move_cost"], kept["cost"]) == (0, 0.0, pytest.approx(2.4))
    moved = compute_metrics(p, [Assignment("job", 0, 2, ("c",))])
    assert (moved["moves"], moved["move_cost"]) == (1, 7.5)
    assert moved["cost"] == pytest.approx(0.8 + 7.5)
    assert compute_metrics(p, [])["moves"] == 1  # unplaced counts as moved


def test_plan_reads_back_a_negative_start():
    """A plan file with a running job's negative start round-trips."""
    plan = _plan([Assignment("job", -1, 1, ("d",))])
    back = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert back.assignments[0].start == -1


# ---------------------------------------------------------------------------
# Every planner keeps running jobs fixed
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", _exact_and_all())
def test_running_job_never_moves(name):
    """Running on the dear node d, the job would be cheaper on c; every planner
    keeps it at -1 on d and places 'new' around it."""
    p = _running_problem()
    plan = solve(p, solver=name, time_limit=5, seed=0, workers=1)
    assert plan.fallback is None, plan.fallback
    assert is_valid(plan, validate(p, plan))
    got = {a.job: a for a in plan.assignments}
    assert (got["job"].start, got["job"].nodes) == (-1, ("d",))


@pytest.mark.parametrize("name", _exact_and_all())
def test_running_job_uses_capacity(name):
    """A running 6-GPU job on c until slot 2 leaves no room on c for a 4-GPU job
    there before slot 2; with d down, 'new' must start at 2 on c."""
    data = copy.deepcopy(_BASE)
    data["horizon"]["slots"] = 4
    data["nodes"][1]["unavailable"] = [[0, 4]]
    data["jobs"] = [
        {"id": "run", "demand": {"gpu": 6}, "duration": 3, "running": {"since": -1, "nodes": ["c"]}},
        {"id": "new", "demand": {"gpu": 4}, "duration": 2},
    ]
    p = Problem.from_dict(data)
    plan = solve(p, solver=name, time_limit=5, seed=0, workers=1)
    got = {a.job: a for a in plan.assignments}
    assert plan.fallback is None, plan.fallback
    assert (got["run"].start, got["new"].start, got["new"].nodes) == (-1, 2, ("c",))


# ---------------------------------------------------------------------------
# Move cost: hand-checked optima
# ---------------------------------------------------------------------------


def _move_problem(move_cost: float) -> Problem:
    """'job' was planned on d at 0 (2.4); on c it costs 0.8, so moving saves 1.6.
    A second job 'new' (no planned placement) goes to c at 0.8 either way, which
    keeps the fast path (everything placeable already kept) out of the test."""
    data = _data(planned={"start": 0, "nodes": ["d"]})
    data["jobs"].append({"id": "new", "demand": {"gpu": 4}, "duration": 2})
    data["objective"] = {"move_cost": move_cost}
    return Problem.from_dict(data)


@pytest.mark.parametrize("name", [n for n in ("cpsat", "pulp") if n in _exact_and_all()])
@pytest.mark.parametrize("move_cost, moves, cost", [
    (2.0, 0, 2.4 + 0.8),        # keep: 3.2 < moving 0.8 + 0.8 + 2.0 = 3.6
    (1.0, 1, 0.8 + 0.8 + 1.0),  # move: 2.6 < keeping 3.2
])
def test_move_cost_optimum(name, move_cost, moves, cost):
    """Keeping beats a slightly cheaper move when the move costs more than it saves."""
    p = _move_problem(move_cost)
    plan = solve(p, solver=name, time_limit=10, workers=1)
    assert plan.status == SolveStatus.OPTIMAL
    assert plan.metrics["moves"] == moves
    assert plan.metrics["cost"] == pytest.approx(cost)


@pytest.mark.parametrize("move_cost, status, moves, cost", [
    (2.0, SolveStatus.OPTIMAL, 0, 2.4),  # fast path: 2.4 <= lower bound 0.8 + move 2.0
    (1.0, SolveStatus.OPTIMAL, 1, 1.8),  # no proof for keeping: the solver moves it (0.8 + 1)
])
def test_fast_path_only_when_keeping_is_proven(move_cost, status, moves, cost):
    """With every job kept, the plan returns at once only if no move can pay off."""
    p = Problem.from_dict({**_data(planned={"start": 0, "nodes": ["d"]}),
                           "objective": {"move_cost": move_cost}})
    plan = solve(p, time_limit=10, workers=1)
    assert (plan.status, plan.metrics["moves"]) == (status, moves)
    assert plan.metrics["cost"] == pytest.approx(cost)


def test_greedy_keeps_valid_planned_placements():
    """The greedy planner keeps 'job' on the dear node d (planned there) before
    anything else, although c is cheaper. (The ``greedy`` solver runs a small
    portfolio on top of this pass and may move it: with move cost 0 a cheaper
    plan is better.)"""
    from allocopt.greedy import run_greedy

    p = _move_problem(0.0)
    plan = run_greedy(p)
    got = {a.job: a for a in plan.assignments}
    assert (got["job"].start, got["job"].nodes) == (0, ("d",))
    assert plan.metrics["moves"] == 0


# ---------------------------------------------------------------------------
# previous, advance, diff
# ---------------------------------------------------------------------------


def test_with_previous_fills_planned(one_node):
    """Jobs placed by the previous plan get it as planned; unknown jobs are ignored."""
    prev = _plan([Assignment("a", 0, 2, ("n1",)), Assignment("gone", 0, 1, ("n1",))],
                 [Unplaced("b", "x")])
    p = with_previous(one_node, prev)
    planned = {j.id: j.planned for j in p.jobs}
    assert planned["a"].start == 0 and planned["a"].nodes == ("n1",)
    assert planned["b"] is None


def test_with_previous_rejects_another_horizon(one_node):
    """A previous plan that ends after the horizon is for another problem."""
    with pytest.raises(ProblemError, match="ends at 9, after the horizon of 6 slots"):
        with_previous(one_node, _plan([Assignment("a", 7, 9, ("n1",))]))


def test_solve_with_previous_unchanged_returns_it(one_node):
    """Nothing changed: the previous plan comes back with 0 moves."""
    first = solve(one_node, time_limit=5, workers=1)
    again = solve(one_node, previous=first, time_limit=5, workers=1)
    assert again.metrics["moves"] == 0
    assert {(a.job, a.start, a.nodes) for a in again.assignments} == {
        (a.job, a.start, a.nodes) for a in first.assignments}


def _chain() -> Problem:
    """One 8-GPU node, 6 slots: 'a' then 'b' after it, each 2 slots of 6 GPUs;
    prices rise 0.1 per slot."""
    return Problem.from_dict({
        "name": "chain", "horizon": {"slots": 6}, "resources": ["gpu"],
        "regions": [{"id": "eu", "price_per_kwh": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}],
        "nodes": [{"id": "n", "region": "eu", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0},
                   "unavailable": [[5, 6]]}],
        "jobs": [{"id": "a", "demand": {"gpu": 6}, "duration": 2},
                 {"id": "b", "demand": {"gpu": 6}, "duration": 2, "after": ["a"], "due": 4,
                  "tardiness_penalty": 1.0},
                 {"id": "c", "demand": {"gpu": 2}, "duration": 1, "release": 3, "deadline": 5}],
    })


def test_advance_shifts_the_state():
    """a at 0-2, b at 2-4, c at 3-4; after 3 slots a ended, b runs (since -1), c planned at 0."""
    p = _chain()
    plan = _plan([Assignment("a", 0, 2, ("n",)), Assignment("b", 2, 4, ("n",)),
                  Assignment("c", 3, 4, ("n",))])
    assert validate(p, plan) == []
    q = advance(p, plan, 3)
    jobs = {j.id: j for j in q.jobs}
    assert set(jobs) == {"b", "c"}  # a ended
    assert jobs["b"].after == () and jobs["b"].running.since == -1
    assert jobs["b"].due == 1  # 4 - 3
    assert (jobs["c"].planned.start, jobs["c"].release, jobs["c"].deadline) == (0, 0, 2)
    assert q.regions[0].price_per_kwh == pytest.approx((0.4, 0.5, 0.6, 0.6, 0.6, 0.6))
    assert q.nodes[0].unavailable == ((2, 3),)


def test_advance_rejects_an_invalid_plan_and_bad_slots():
    """advance needs a valid plan and 1 <= slots <= H."""
    p = _chain()
    with pytest.raises(ProblemError, match="slots must be an integer in 1 .. 6"):
        advance(p, _plan([], [Unplaced(j.id, "x") for j in p.jobs]), 0)
    with pytest.raises(ProblemError, match="not valid"):
        advance(p, _plan([Assignment("a", 0, 2, ("n",))]), 1)


@pytest.mark.parametrize("name", ["greedy", "cpsat"])
def test_advance_then_solve_moves_nothing(name):
    """Advance a plan by one slot and re-plan with nothing changed: 0 moves, and
    the running job stays."""
    p = _chain()
    first = solve(p, time_limit=5, workers=1)
    q = advance(p, first, 1)
    second = solve(q, solver=name, time_limit=5, workers=1)
    assert is_valid(second, validate(q, second))
    assert second.metrics["moves"] == 0
    d = diff(first, second, shift=1)
    assert d["moved"] == [] and d["added"] == [] and d["dropped"] == []


def test_diff_lists_moved_added_dropped():
    """a kept, b moved 2 -> 3, c added, d dropped; cost change recomputed."""
    a = _plan([Assignment("a", 0, 2, ("n",)), Assignment("b", 2, 4, ("n",)),
               Assignment("d", 0, 1, ("m",))]).replace(metrics={"cost": 3.0, "moves": 0})
    b = _plan([Assignment("a", 0, 2, ("n",)), Assignment("b", 3, 5, ("n",)),
               Assignment("c", 0, 1, ("m",))]).replace(metrics={"cost": 2.5, "moves": 1})
    d = diff(a, b)
    assert d["kept"] == ["a"] and d["added"] == ["c"] and d["dropped"] == ["d"]
    assert [m["job"] for m in d["moved"]] == ["b"]
    assert d["moved"][0]["from"]["start"] == 2 and d["moved"][0]["to"]["start"] == 3
    assert d["metrics"]["cost"]["change"] == pytest.approx(-0.5)


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def test_cli_previous_advance_diff(tmp_path: Path):
    """solve, advance, solve again, solve --previous, diff (table and --json)."""
    runner = CliRunner()
    prob = tmp_path / "p.json"
    prob.write_text(json.dumps(_chain().to_dict()))
    p0, nxt, p1, p2 = (tmp_path / n for n in ("p0.json", "next.json", "p1.json", "p2.json"))
    r = runner.invoke(app, ["solve", str(prob), "-o", str(p0), "-q", "--time-limit", "5"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["advance", str(prob), str(p0), "--slots", "1", "--out", str(nxt)])
    assert r.exit_code == 0, r.output
    assert "running" in json.dumps(json.loads(nxt.read_text()))
    r = runner.invoke(app, ["solve", str(nxt), "-o", str(p1), "-q", "--time-limit", "5"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["solve", str(prob), "--previous", str(p0), "-o", str(p2), "-q"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["diff", str(p0), str(p2)])
    assert r.exit_code == 0 and "moved 0" in r.output and "cost" in r.output, r.output
    r = runner.invoke(app, ["diff", str(p0), str(p1), "--shift", "1", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["moved"] == []


def test_cli_bad_previous_exits_2(tmp_path: Path):
    """A --previous file that is not a plan is bad input (exit 2), named."""
    runner = CliRunner()
    prob = tmp_path / "p.json"
    prob.write_text(json.dumps(_chain().to_dict()))
    bad = tmp_path / "bad.json"
    bad.write_text("[1]")
    r = runner.invoke(app, ["solve", str(prob), "--previous", str(bad)])
    assert r.exit_code == 2
    assert "--previous" in r.output


# ---------------------------------------------------------------------------
# Property: plans with running jobs validate
# ---------------------------------------------------------------------------


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=strategies.problems(), k=strategies.st.integers(1, 3))
def test_plans_with_running_jobs_validate(problem, k):
    """Advance a greedy plan by k slots; greedy and cpsat plans of the result
    validate, keep every running job in place and count moves consistently."""
    first = solve(problem, solver="greedy")
    if k > problem.H:
        return
    q = advance(problem, first, k)
    for name in ("greedy", "cpsat"):
        plan = solve(q, solver=name, time_limit=1, workers=1)
        assert plan.fallback is None or "nothing better" in plan.fallback, plan.fallback
        assert is_valid(plan, validate(q, plan))
        got = {a.job: a for a in plan.assignments}
        for j in q.jobs:
            if j.running is not None:
                assert (got[j.id].start, sorted(got[j.id].nodes)) == (
                    j.running.since, sorted(j.running.nodes))
        assert plan.metrics["moves"] <= sum(j.planned is not None for j in q.jobs)


@pytest.mark.parametrize("name", [n for n in ("cpsat", "pulp") if n in _exact_and_all()])
def test_bound_counts_the_running_jobs(name):
    """The running job's value (1) and cost (slot 0 on d: 4 kWh at 0.3 = 1.2) are
    constants outside the model; the bound includes them, so the proven plan
    (new on c: 0.8, total 2.0) has gap 0 against it."""
    p = _running_problem()
    plan = solve(p, solver=name, time_limit=10, workers=1, bound="lp")
    assert plan.status == SolveStatus.OPTIMAL
    assert plan.metrics["cost"] == pytest.approx(2.0)
    assert plan.bound["cost"] == pytest.approx(2.0)
    assert plan.bound["placed_value_by_priority"]["0"] == pytest.approx(2.0)
    assert plan.gap == 0.0


def test_lp_bound_with_running_jobs_bounds_the_optimum():
    """The LP bound plus the running part is a valid bound on the optimum of
    test_bound_counts_the_running_jobs: tier value 2 at most, cost 2.0 at least
    ... and no more than the optimum's cost."""
    pytest.importorskip("pulp")
    from allocopt.formulations.lp_bound import lp_bounds
    from allocopt.prepared import Prepared
    from allocopt.replan import with_fixed_part

    p = _running_problem()
    prep = Prepared(p)
    lp = with_fixed_part(p, prep, lp_bounds(p, prep, 10), range(prep.J))
    assert lp["placed_value_by_priority"]["0"] == pytest.approx(2.0)  # both jobs
    assert lp["cost"] <= 2.0 + 1e-6
    assert lp["cost"] >= 1.2 - 1e-6  # at least the running job's own cost
