"""``allocopt.solve``: fallbacks, validation gate, reproducibility and the
explanation of unplaced jobs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

import allocopt.formulations.solve_model as solve_model
from allocopt import Plan, Problem, SolveParams, SolverError, SolveStatus, solve
from allocopt.plan import Assignment
from allocopt.solve import SolverInfo, register_solver
from allocopt.validate import better, is_valid, validate


def _load_kit() -> Any:
    """The formulation tests' helpers (random problems), loaded by path."""
    if "formulation_kit" in sys.modules:
        return sys.modules["formulation_kit"]
    path = Path(__file__).resolve().parents[1] / "formulations" / "formulation_kit.py"
    spec = importlib.util.spec_from_file_location("formulation_kit", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["formulation_kit"] = mod
    spec.loader.exec_module(mod)
    return mod


kit = _load_kit()
# ``allocopt.solve`` the attribute is the function; the module is needed here.
solve_module = importlib.import_module("allocopt.solve")

# One region, one 8-GPU node at 1 kW per GPU, price 0.1/kWh in slots 0-1 and
# 0.2/kWh in 2-3; a 6-GPU and a 7-GPU job cannot run side by side.
TWO_JOBS = {
    "name": "two_jobs",
    "horizon": {"slots": 4},
    "resources": ["gpu"],
    "regions": [{"id": "eu", "price_per_kwh": [0.1, 0.1, 0.2, 0.2]}],
    "nodes": [{"id": "n", "region": "eu", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0}}],
    "jobs": [{"id": "a", "demand": {"gpu": 6}, "duration": 2},
             {"id": "b", "demand": {"gpu": 7}, "duration": 2}],
}


@pytest.fixture
def two_jobs() -> Problem:
    """Two jobs that must take turns on one node; the optimum costs 3.8 and
    greedy's plan 4.0 (it runs the smaller job in the cheap slots)."""
    return Problem.from_dict(TWO_JOBS)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A private copy of the solver registry: fake solvers vanish after the test."""
    solve_module.solvers()  # load the plugins into the real registry first
    monkeypatch.setattr(solve_module, "_SOLVERS", dict(solve_module._SOLVERS))


def _fake(name: str, fn: Any, kind: str = "exact", available: Any = lambda: True) -> None:
    register_solver(SolverInfo(name, f"test double {name}", fn, kind, available))


def _assert_valid(problem: Problem, plan: Plan) -> None:
    violations = validate(problem, plan)
    assert is_valid(plan, violations), violations


# -- the default path -------------------------------------------------------------

def test_cpsat_finds_the_optimum(two_jobs):
    """b (7 kW) in the cheap slots, a after: 7 x 2 x 0.1 + 6 x 2 x 0.2 = 3.8."""
    plan = solve(two_jobs, solver="cpsat", time_limit=5, seed=0, workers=1)
    _assert_valid(two_jobs, plan)
    assert (plan.solver, str(plan.status), plan.fallback) == ("cpsat", "optimal", None)
    assert plan.metrics["cost"] == pytest.approx(3.8)
    assert plan.gap == 0.0
    assert plan.solve_seconds > 0


def test_greedy_is_a_solver_too(two_jobs):
    """``solver="greedy"``: the greedy plan, a in the cheap slots, cost 4.0."""
    plan = solve(two_jobs, solver="greedy")
    _assert_valid(two_jobs, plan)
    assert plan.solver == "greedy"
    assert plan.metrics["cost"] == pytest.approx(4.0)  # 6 x 2 x 0.1 + 7 x 2 x 0.2


def test_unknown_solver_is_an_error(two_jobs):
    """A name that is not registered raises SolverError listing the known ones."""
    with pytest.raises(SolverError, match=r"unknown solver 'nope'.*cpsat.*greedy"):
        solve(two_jobs, solver="nope")


@pytest.mark.parametrize("limit", [0.001, 0.05])
def test_tiny_time_limit_still_returns_a_valid_plan(limit):
    """With almost no time the model may not run at all; the plan is still
    valid and never worse than the greedy one."""
    p = kit.random_problem(7, max_jobs=8)
    greedy = solve(p, solver="greedy")
    plan = solve(p, solver="cpsat", time_limit=limit, seed=0, workers=1)
    _assert_valid(p, plan)
    assert not better(p, greedy.metrics, plan.metrics)


# -- fallbacks ----------------------------------------------------------------------

def test_backend_exception_falls_back_to_greedy(two_jobs, monkeypatch):
    """plan_exact raising: the greedy plan, with the error in ``fallback``."""
    def boom(*args: Any, **kwargs: Any) -> Plan:
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(solve_model, "plan_exact", boom)
    plan = solve(two_jobs, solver="cpsat", time_limit=5)
    _assert_valid(two_jobs, plan)
    assert plan.solver == "greedy"
    assert plan.fallback == "cpsat failed: RuntimeError: solver exploded"
    # The portfolio start: never worse than the greedy plan (cost 4.0).
    assert plan.metrics["cost"] <= 4.0 + 1e-9 and plan.seeded_by


def test_registered_solver_that_raises_falls_back_to_greedy(two_jobs, registry):
    """A registered back-end whose function raises degrades the same way."""
    def raises(problem, prep, params, greedy, deadline):
        raise ValueError("bad model")

    _fake("raises", raises)
    plan = solve(two_jobs, solver="raises")
    _assert_valid(two_jobs, plan)
    assert plan.solver == "greedy"
    assert plan.fallback == "raises failed: ValueError: bad model"


def test_invalid_backend_plan_is_rejected(two_jobs, registry):
    """A back-end returning both jobs at slot 0 on one node (13 GPUs of 8):
    the validator rejects it and the greedy plan is returned instead."""
    def overbook(problem, prep, params, greedy, deadline):
        return Plan(problem=problem.name, status=SolveStatus.OPTIMAL, solver="overbook",
                    assignments=(Assignment("a", 0, 2, ("n",)), Assignment("b", 0, 2, ("n",))),
                    unplaced=())

    _fake("overbook", overbook)
    plan = solve(two_jobs, solver="overbook")
    _assert_valid(two_jobs, plan)
    assert plan.solver == "greedy"
    assert "validator rejects" in plan.fallback
    assert "[capacity]" in plan.fallback
    assert plan.metrics["cost"] <= 4.0 + 1e-9  # never worse than the greedy plan


def test_metrics_of_a_backend_are_recomputed(two_jobs, registry):
    """A back-end's own metrics are never trusted: solve() recomputes them."""
    def liar(problem, prep, params, greedy, deadline):
        return Plan(problem=problem.name, status=SolveStatus.FEASIBLE, solver="liar",
                    assignments=(Assignment("b", 0, 2, ("n",)), Assignment("a", 2, 4, ("n",))),
                    unplaced=(), metrics={"cost": -100.0})

    _fake("liar", liar)
    plan = solve(two_jobs, solver="liar")
    assert plan.solver == "liar"
    assert plan.metrics["cost"] == pytest.approx(3.8)  # 1.4 + 2.4, not -100


def test_exact_backend_worse_than_greedy_returns_greedy(two_jobs, registry):
    """An exact back-end placing nothing loses to greedy's two jobs: greedy is
    returned and ``fallback`` says why; a baseline's plan is returned as is."""
    def lazy(problem, prep, params, greedy, deadline):
        return greedy.replace(solver="lazy", assignments=(), unplaced=tuple(
            kit.Unplaced(j.id, "not tried") for j in problem.jobs))

    _fake("lazy", lazy)
    plan = solve(two_jobs, solver="lazy")
    _assert_valid(two_jobs, plan)
    assert plan.solver == "greedy"
    assert plan.fallback == "lazy found nothing better than the greedy plan within the limits"
    _fake("lazy-baseline", lazy, kind="baseline")
    plan = solve(two_jobs, solver="lazy-baseline")
    _assert_valid(two_jobs, plan)
    assert plan.solver == "lazy"
    assert plan.metrics["placed_jobs"] == 0


def test_unavailable_backend_falls_back_to_greedy(two_jobs, registry):
    """A back-end whose library is missing: greedy, and ``fallback`` says so."""
    _fake("missing", lambda *a: pytest.fail("must not run"), available=lambda: False)
    plan = solve(two_jobs, solver="missing")
    assert plan.solver == "greedy"
    assert plan.fallback == "solver 'missing' is not installed"


# -- reproducibility ----------------------------------------------------------------

def _fingerprint(plan: Plan) -> dict[str, Any]:
    d = plan.to_dict()
    d.pop("solve_seconds")
    return d


@pytest.mark.parametrize("seed", [3, 11, 2024])
def test_same_seed_and_one_worker_give_the_same_plan(seed):
    """Two runs with seed 0 and one worker return identical plans."""
    p = kit.random_problem(seed)
    first = solve(p, solver="cpsat", time_limit=5, seed=0, workers=1)
    second = solve(p, solver="cpsat", time_limit=5, seed=0, workers=1)
    assert _fingerprint(first) == _fingerprint(second)


def test_same_seed_gives_the_same_lns_plan(two_jobs):
    """The neighbourhood search runs the same way twice (its optimum, 3.8, is
    unique here: how many rounds fit a wall-clock limit is not reproducible,
    so neither is an LNS plan with ties or a search cut short)."""
    params = SolveParams(time_limit=1.5, seed=5, workers=1, max_model_terms=1)
    first, second = (solve(two_jobs, solver="cpsat", params=params) for _ in range(2))
    assert [a.to_dict() for a in first.assignments] == [a.to_dict() for a in second.assignments]
    assert first.metrics["cost"] == pytest.approx(3.8)


# -- why a required job is out ---------------------------------------------------------

NODE = {"id": "n", "region": "eu", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0}}


def _blocked(job: dict[str, Any], *, regions: list[dict[str, Any]] | None = None,
             nodes: list[dict[str, Any]] | None = None, links: list[dict[str, Any]] | None = None,
             others: list[dict[str, Any]] | None = None) -> Problem:
    return Problem.from_dict({
        "horizon": {"slots": 4}, "resources": ["gpu"],
        "regions": regions or [{"id": "eu"}], "links": links or [],
        "nodes": nodes or [NODE],
        "jobs": [{"id": "req", "duration": 2, "required": True, **job},
                 *(others or []), {"id": "fits", "demand": {"gpu": 1}, "duration": 1,
                                   "power_kw": 0.0}],
    })


BLOCKED = {
    # 16 GPUs on an 8-GPU node
    "capacity": (_blocked({"demand": {"gpu": 16}}), "gpu >= 16"),
    # a higher-ranked required job holds 7 of 8 GPUs for the whole horizon
    "capacity (dynamic)": (_blocked({"demand": {"gpu": 4}}, others=[
        {"id": "hog", "demand": {"gpu": 7}, "duration": 4, "required": True, "priority": 1}]),
        "no capacity"),
    # release 3 + duration 2 > 4 slots
    "window": (_blocked({"demand": {"gpu": 1}, "release": 3}), "window too short"),
    # maintenance over slots 1-2 leaves no 3-slot window in 4 slots
    "maintenance": (_blocked({"demand": {"gpu": 1}, "duration": 3},
                             nodes=[dict(NODE, unavailable=[[1, 3]])]), "maintenance"),
    "eligibility (region)": (_blocked({"demand": {"gpu": 1}, "regions": ["us"]},
                                      regions=[{"id": "eu"}, {"id": "us"}]),
                             "no node in allowed regions ['us']"),
    "eligibility (type)": (_blocked({"demand": {"gpu": 1}, "node_types": ["h100"]}),
                           "node_types ['h100']"),
    # 4 kW with PUE 1.5 = 6 kW > cap 5
    "power cap": (_blocked({"demand": {"gpu": 4}},
                           regions=[{"id": "eu", "pue": 1.5, "power_cap_kw": 5.0}]),
                  "power cap"),
    # 4 kW x 2 h = 8 kWh > budget 7
    "energy budget": (_blocked({"demand": {"gpu": 4}},
                               regions=[{"id": "eu", "energy_budget_kwh": 7.0}]),
                      "energy budget"),
    # two regions 80 ms apart, both needed, at most 50 ms allowed
    "replication latency": (_blocked(
        {"demand": {"gpu": 1}, "replicas": 2, "min_regions": 2, "max_latency_ms": 50},
        regions=[{"id": "eu"}, {"id": "us"}], nodes=[NODE, dict(NODE, id="m", region="us")],
        links=[{"a": "eu", "b": "us", "latency_ms": 80}]), "max_latency_ms 50"),
}


@pytest.mark.parametrize("case", sorted(BLOCKED))
def test_blocked_required_job_is_explained(case):
    """A required job that cannot be placed makes the plan infeasible; the
    other job is still planned, and the reason names the constraint."""
    p, expected = BLOCKED[case]
    plan = solve(p, solver="cpsat", time_limit=5, seed=0, workers=1)
    _assert_valid(p, plan)
    assert str(plan.status) == "infeasible"
    assert "fits" in plan.placed_ids
    reason = {u.job: u.reason for u in plan.unplaced}["req"]
    assert expected in reason
