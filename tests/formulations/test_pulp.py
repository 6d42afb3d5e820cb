"""The MILP through PuLP (CBC, HiGHS): same optima as CP-SAT, LP bounds, export.

The cross-check runs the stage sequence of :mod:`allocopt.formulations.stages` on the
full model with each back-end and compares every stage's value. Both
back-ends solve the same integer-scaled model, so proven optima agree
exactly; costs are compared with a 1e-4 relative tolerance anyway (the
brief's scaling tolerance).
"""

from __future__ import annotations

import functools
import json
import random
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

# formulations (and so OR-Tools) before pulp: see formulations/backends/pulp.py.
from allocopt.formulations.backends import pulp as pulp_backend
from allocopt.formulations.backends.cpsat import CpSatBackend
from allocopt.formulations.backends.pulp import PulpBackend, PulpHighsBackend, status_of
from allocopt.formulations.export import export_model, stage_names
from allocopt.formulations.lp_bound import lp_bound_report, lp_bounds
from allocopt.formulations.scope import full_scope
from allocopt.formulations.solve_model import extract, hint_values, plan_arrays, to_plan
from allocopt.formulations.stages import Stage, build, make_stages, run_stages
from allocopt import Problem, SolveParams, SolveStatus, solve
from allocopt.greedy import run_greedy
from allocopt.prepared import Prepared
from allocopt.validate import is_valid, validate

import pulp  # noqa: E402, I001 - after OR-Tools, on purpose

#: Seconds per stage sequence; every case here proves in well under a second.
LIMIT = 20.0
#: Relative tolerance on costs (integer scaling of the cost stage).
COST_REL = 1e-4

BACKENDS: dict[str, tuple[type, Any]] = {
    "cpsat": (CpSatBackend, lambda: True),
    "pulp": (PulpBackend, pulp_backend.cbc_available),
    "pulp-highs": (PulpHighsBackend, pulp_backend.highs_available),
}


def random_problem(seed: int, mode: str | None = None) -> Problem:
    """A small random problem using every feature of PROBLEM.md: one to three
    linked regions (PUE, price series, carbon, some power caps and energy
    budgets), two to four node entries (types, counts, idle draw, node cost,
    maintenance), four to seven jobs (release, deadline, due with tardiness,
    tiers, required, replicas over regions with min_regions, max_per_region
    and max_latency_ms, allowed regions and types, predecessors, fixed
    power_kw) and either objective mode with or without a carbon price."""
    rng = random.Random(seed)
    H = rng.randint(5, 8)
    G = rng.randint(1, 3)
    regions = []
    for g in range(G):
        reg: dict[str, Any] = {
            "id": f"g{g}", "pue": round(rng.uniform(1.0, 1.5), 2),
            "price_per_kwh": [round(rng.uniform(0.05, 0.4), 3) for _ in range(H)],
            "carbon_g_per_kwh": round(rng.uniform(50, 500), 1)}
        if rng.random() < 0.4:
            reg["power_cap_kw"] = round(rng.uniform(6, 20), 1)
        if rng.random() < 0.3:
            reg["energy_budget_kwh"] = round(rng.uniform(40, 120), 1)
        regions.append(reg)
    links = [{"a": f"g{g}", "b": f"g{g + 1}", "latency_ms": rng.choice([10, 30, 80])}
             for g in range(G - 1)]
    nodes = []
    for k in range(rng.randint(2, 4)):
        node: dict[str, Any] = {
            "id": f"n{k}", "region": f"g{rng.randrange(G)}", "type": rng.choice(["a", "b"]),
            "capacity": {"gpu": rng.choice([4, 8]), "cpu": rng.choice([16.0, 32.0])},
            "count": rng.choice([1, 1, 2]), "idle_kw": round(rng.uniform(0, 1), 2),
            "kw_per_unit": {"gpu": round(rng.uniform(0.3, 1.0), 2), "cpu": 0.01},
            "cost_per_slot": rng.choice([0.0, 0.0, 0.05])}
        if rng.random() < 0.3:
            a = rng.randrange(H - 1)
            node["unavailable"] = [[a, a + rng.randint(1, 2)]]
        nodes.append(node)
    jobs = []
    for i in range(rng.randint(4, 7)):
        d = rng.randint(1, 3)
        job: dict[str, Any] = {
            "id": f"j{i}", "duration": d, "priority": rng.choice([0, 0, 1, 2]),
            "demand": {"gpu": rng.choice([1, 2, 4, 4, 8]), "cpu": rng.choice([2.0, 4.5, 8.0])},
            "value": rng.choice([1.0, 2.0, 2.5, 5.0])}
        if rng.random() < 0.3:
            job["release"] = rng.randint(0, H - d)
        if rng.random() < 0.3:
            job["deadline"] = rng.randint(job.get("release", 0) + d, H)
        if rng.random() < 0.3:
            job["due"] = rng.randint(d, H)
            job["tardiness_penalty"] = round(rng.uniform(0.1, 2.0), 2)
        if rng.random() < 0.1:
            job["required"] = True
        if rng.random() < 0.3:
            job["replicas"] = rng.randint(2, 3)
            if G > 1 and rng.random() < 0.5:
                job["min_regions"] = 2
            if rng.random() < 0.3:
                job["max_per_region"] = 1
            if G > 1 and rng.random() < 0.4:
                job["max_latency_ms"] = rng.choice([20.0, 50.0])
        if G > 1 and rng.random() < 0.2:
            job["regions"] = [f"g{g}" for g in range(G) if rng.random() < 0.7] or ["g0"]
        if rng.random() < 0.15:
            job["node_types"] = [rng.choice(["a", "b"])]
        if i > 0 and rng.random() < 0.25:
            job["after"] = [f"j{rng.randrange(i)}"]
        if rng.random() < 0.15:
            job["power_kw"] = round(rng.uniform(0.5, 4.0), 2)
        jobs.append(job)
    mode = mode or ("weighted" if rng.random() < 0.25 else "lexicographic")
    return Problem.from_dict({
        "name": f"random-{seed}", "horizon": {"slots": H, "slot_hours": rng.choice([1.0, 0.5])},
        "resources": ["gpu", "cpu"], "regions": regions, "links": links, "nodes": nodes,
        "jobs": jobs,
        "objective": {"mode": mode, "carbon_price_per_kg": rng.choice([0.0, 0.05])}})


#: Seeds of the cross-check; together they use every feature (see
#: test_cases_cover_every_feature), both objective modes, and binding
#: capacity, power caps and energy budgets.
SEEDS = list(range(14))


def _skip_unavailable(name: str) -> type:
    cls, available = BACKENDS[name]
    if not available():
        pytest.skip(f"back-end {name!r} is not installed "
                    f"({'highspy' if name == 'pulp-highs' else 'a CBC binary'} missing)")
    return cls


@functools.cache
def _run(name: str, seed: int) -> tuple[list[Stage], Any]:
    """Every stage of the full model of ``random_problem(seed)`` on back-end
    ``name``, hinted with the greedy plan as ``plan_exact`` does; and the plan."""
    problem = random_problem(seed)
    prep = Prepared(problem)
    greedy = run_greedy(problem, prep=prep)
    start, nodes = plan_arrays(prep, greedy)
    scope = full_scope(prep)
    m = BACKENDS[name][0](seed=0, workers=1)
    x = build(m, scope)
    stages = make_stages(problem, scope, x)
    values = run_stages(m, stages, x, hint_values(scope, x, start, nodes),
                        SolveParams(), time.perf_counter() + LIMIT)
    start, nodes = extract(scope, x, values, start, nodes)
    plan = to_plan(problem, prep, start, nodes, name, "not placed")
    if any(j.required and j.id not in plan.placed_ids for j in problem.jobs):
        plan = plan.replace(status=SolveStatus.INFEASIBLE)  # as solve() reports it
    return stages, plan


def _proven(name: str, seed: int) -> tuple[list[Stage], Any]:
    stages, plan = _run(name, seed)
    open_ = [st.name for st in stages if st.status != "optimal"]
    if open_:
        pytest.skip(f"{name} did not prove stage(s) {open_} of seed {seed} within {LIMIT:g}s")
    return stages, plan


def test_cases_cover_every_feature() -> None:
    """The cross-check's random problems use every feature of the format."""
    seen: set[str] = set()
    for seed in SEEDS:
        p = random_problem(seed)
        seen.add(p.objective.mode)
        for r in p.regions:
            seen |= {k for k in ("power_cap_kw", "energy_budget_kwh") if getattr(r, k) is not None}
        for n in p.nodes:
            seen |= {"unavailable"} if n.unavailable else set()
            seen |= {"count"} if n.count > 1 else set()
            seen |= {"cost_per_slot"} if n.cost_per_slot else set()
        for j in p.jobs:
            seen |= {"replicas"} if j.replicas > 1 else set()
            seen |= {"min_regions"} if j.min_regions > 1 else set()
            seen |= {k for k in ("max_per_region", "max_latency_ms", "regions", "node_types",
                                 "due", "power_kw") if getattr(j, k) is not None}
            seen |= {k for k in ("required", "after") if getattr(j, k)}
            seen |= {"priority"} if j.priority else set()
    want = {"lexicographic", "weighted", "power_cap_kw", "energy_budget_kwh", "unavailable",
            "count", "cost_per_slot", "replicas", "min_regions", "max_per_region",
            "max_latency_ms", "regions", "node_types", "due", "power_kw", "required",
            "after", "priority"}
    assert want <= seen, want - seen


def test_time_indexed_capacity_is_exercised() -> None:
    """Some cases have binding time-indexed capacity rows (z variables)."""
    with_z = 0
    for seed in SEEDS:
        m = PulpBackend()
        x = build(m, full_scope(Prepared(random_problem(seed))))
        with_z += bool(x.z)
    assert with_z >= len(SEEDS) // 3  # capacity binds in a good share of cases


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_backend_proves_and_agrees_with_cpsat(name: str, seed: int) -> None:
    """Each back-end proves every stage and reaches CP-SAT's value at every stage."""
    _skip_unavailable(name)
    stages, plan = _proven(name, seed)
    ref, _ = _proven("cpsat", seed)
    problem = random_problem(seed)
    assert is_valid(plan, validate(problem, plan))
    assert [s.name for s in stages] == [s.name for s in ref]
    for got, want in zip(stages, ref):
        if got.name == "cost" or got.name == "weighted":
            assert got.value == pytest.approx(want.value, rel=COST_REL, abs=1e-9), got.name
        else:  # required count and tier values: exact
            assert got.value == want.value, got.name


@pytest.mark.parametrize("seed", SEEDS[:6])
def test_greedy_hint_is_feasible_in_the_pulp_model(seed: int) -> None:
    """Fixing the greedy plan (with the z values the hint rule derives) into
    the PuLP model leaves it feasible: the time-indexed rows accept valid plans."""
    problem = random_problem(seed)
    prep = Prepared(problem)
    greedy = run_greedy(problem, prep=prep)
    start, nodes = plan_arrays(prep, greedy)
    scope = full_scope(prep)
    m = PulpBackend()
    x = build(m, scope)
    m.hint(hint_values(scope, x, start, nodes))
    hint = m._hint  # noqa: SLF001 - the completed hint is the point
    assert all(v in hint for zj in x.z.values() for v in zj.values())
    for v, val in hint.items():
        m.add(v == val)
    m.maximize(m.total(x.placed.values()))
    assert m.solve(LIMIT) == "optimal"
    assert m.objective_value() == greedy.metrics["placed_jobs"]


@pytest.mark.parametrize("name", ["pulp", "pulp-highs"])
def test_solve_returns_valid_plans(name: str) -> None:
    """``solve(solver=...)`` runs the full model through PuLP and validates."""
    _skip_unavailable(name)
    for seed in (2, 5, 7):
        problem = random_problem(seed)
        plan = solve(problem, solver=name, time_limit=LIMIT)
        assert plan.solver == name and plan.fallback is None
        assert is_valid(plan, validate(problem, plan))
        assert plan.gap == 0.0  # proven: these are tiny


def test_neighbourhood_search_runs_on_pulp() -> None:
    """With ``max_model_terms`` too small for the full model, PuLP models of
    neighbourhoods improve the greedy plan, and the plan validates."""
    problem = random_problem(16)
    params = SolveParams(time_limit=2.0, max_model_terms=0)
    plan = solve(problem, solver="pulp", params=params)
    assert is_valid(plan, validate(problem, plan))
    assert plan.solver in ("pulp", "greedy")


# ---------------------------------------------------------------------------
# The back-end on its own
# ---------------------------------------------------------------------------

def test_status_mapping() -> None:
    """One function maps PuLP's pair; an incumbent without proof is 'feasible'."""
    assert status_of(pulp.LpStatusOptimal, pulp.LpSolutionOptimal) == "optimal"
    assert status_of(pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible) == "feasible"
    assert status_of(pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible) == "infeasible"
    assert status_of(pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound) == "unknown"
    assert status_of(pulp.LpStatusUndefined, pulp.LpSolutionNoSolutionFound) == "unknown"


@pytest.mark.parametrize("name", ["pulp", "pulp-highs"])
def test_big_m_rule_binds_only_when_the_literal_is_one(name: str) -> None:
    """``add_ge_if``: x >= 3 if b, else free; max(2b - x) over x in 0..5 is 0
    (b = 1 forces x = 3: 2 - 3 = -1; b = 0 with x = 0 gives 0)."""
    cls = _skip_unavailable(name)
    m = cls()
    x, b = m.int_var(0, 5, "x"), m.bool_var("b")
    m.add_ge_if(m.wsum([(x, 1)]), 3, b, 3)
    m.maximize(m.wsum([(b, 2), (x, -1)]))
    assert m.solve(5) == "optimal"
    assert (m.value(b), m.value(x), m.objective_value()) == (0, 0, 0)
    m.add(b == 1)
    assert m.solve(5) == "optimal"
    assert (m.value(x), m.objective_value()) == (3, -1)  # 2*1 - 3


@pytest.mark.parametrize("name", ["pulp", "pulp-highs"])
def test_relaxation_is_continuous(name: str) -> None:
    """``relax=True``: two items of weight 2 in a knapsack of 3 give 1.5 items."""
    cls = _skip_unavailable(name)
    m = cls(relax=True)
    a, b = m.bool_var("a"), m.bool_var("b")
    m.add(m.wsum([(a, 2), (b, 2)]) <= 3)
    m.maximize(m.total([a, b]))
    assert m.solve(5) == "optimal"
    assert m.objective_value() == pytest.approx(1.5)


@pytest.mark.parametrize("name", ["pulp", "pulp-highs"])
def test_infeasible_model(name: str) -> None:
    """Contradicting rows give 'infeasible'."""
    cls = _skip_unavailable(name)
    m = cls()
    a = m.bool_var("a")
    m.add(m.total([a]) >= 1)
    m.add(m.total([a]) <= 0)
    m.maximize(m.total([a]))
    assert m.solve(5) == "infeasible"


# ---------------------------------------------------------------------------
# LP bounds
# ---------------------------------------------------------------------------

def _check_bound(bound: dict[str, Any], metrics: dict[str, Any], tol: float = 1e-6) -> None:
    if "objective" in bound:
        assert bound["objective"] >= metrics["placed_value"] - metrics["cost"] - tol
    for tier, ub in bound.get("placed_value_by_priority", {}).items():
        assert ub >= metrics["placed_value_by_priority"][tier] - tol, tier
    if "cost" in bound:
        assert bound["cost"] <= metrics["cost"] + tol * max(1.0, metrics["cost"])


@pytest.mark.parametrize("seed", SEEDS)
def test_lp_bound_never_below_a_proven_optimum(seed: int) -> None:
    """Tier bounds >= the proven tier values, cost bound <= the proven cost,
    with the optimal plan as reference and without a reference."""
    _, plan = _proven("cpsat", seed)
    problem = random_problem(seed)
    metrics = plan.metrics
    with_ref = lp_bound_report(problem, time_limit=LIMIT, plan=plan)
    _check_bound(with_ref.bound, metrics)
    _check_bound(lp_bounds(problem, time_limit=LIMIT), metrics)
    assert with_ref.bound  # every LP of these tiny models solves
    if problem.objective.mode == "lexicographic":
        assert "cost" in with_ref.bound
        assert set(with_ref.bound["placed_value_by_priority"]) == {str(t) for t in problem.tiers}


@pytest.mark.parametrize("seed", SEEDS)
def test_area_relaxation_never_below_a_proven_optimum(seed: int, monkeypatch) -> None:
    """The coarse relaxation for problems too large for the time-indexed LP
    is still a bound (forced here on the small random problems)."""
    from allocopt.formulations import lp_bound

    monkeypatch.setattr(lp_bound, "LP_MAX_TERMS", -1)
    _, plan = _proven("cpsat", seed)
    problem = random_problem(seed)
    rep = lp_bound_report(problem, time_limit=LIMIT, plan=plan)
    assert rep.relaxation == "area" and rep.bound
    _check_bound(rep.bound, plan.metrics)
    _check_bound(lp_bounds(problem, time_limit=LIMIT), plan.metrics)


def test_area_relaxation_hand_checked(monkeypatch) -> None:
    """One 8-GPU node over 4 slots (32 GPU-slots of area); in one tier a job of
    8 GPUs x 3 slots (value 6) and one of 4 GPUs x 2 slots (value 1).
    Area: 24 + 8 = 32 fits, so the area relaxation bounds the tier by 6 + 1 = 7.
    In time they do not fit (the big job leaves one free slot, the small one
    needs two): the optimum is 6, and the bound is valid but loose."""
    from allocopt.formulations import lp_bound

    monkeypatch.setattr(lp_bound, "LP_MAX_TERMS", -1)
    problem = Problem.from_dict({
        "horizon": {"slots": 4}, "resources": ["gpu"], "regions": [{"id": "eu"}],
        "nodes": [{"id": "n", "region": "eu", "capacity": {"gpu": 8}}],
        "jobs": [{"id": "big", "demand": {"gpu": 8}, "duration": 3, "value": 6.0},
                 {"id": "small", "demand": {"gpu": 4}, "duration": 2, "value": 1.0}]})
    rep = lp_bound_report(problem, time_limit=LIMIT)
    assert rep.relaxation == "area"
    assert rep.bound["placed_value_by_priority"]["0"] == pytest.approx(7.0, rel=1e-5)
    assert solve(problem, solver="cpsat", time_limit=LIMIT).metrics["placed_value"] == 6.0


def test_lp_bound_proves_an_obviously_optimal_plan() -> None:
    """Two jobs that both fit: the LP bound equals the plan's tier value and
    the reference is proven on it (placing everything is optimal)."""
    problem = Problem.from_dict({
        "horizon": {"slots": 4}, "resources": ["gpu"], "regions": [{"id": "eu"}],
        "nodes": [{"id": "n", "region": "eu", "capacity": {"gpu": 8}}],
        "jobs": [{"id": "a", "demand": {"gpu": 4}, "duration": 2, "value": 2.0},
                 {"id": "b", "demand": {"gpu": 4}, "duration": 2, "value": 3.0}]})
    plan = solve(problem, solver="greedy")
    rep = lp_bound_report(problem, time_limit=LIMIT, plan=plan)
    assert rep.bound["placed_value_by_priority"]["0"] == pytest.approx(5.0)  # 2 + 3
    assert rep.stages[0].proven
    assert rep.bound["cost"] == pytest.approx(0.0, abs=1e-6)  # no prices: cost 0


def test_solve_attaches_the_lp_bound_without_a_proof() -> None:
    """``solve(bound="lp")`` gives the greedy plan (no proof) a bound and a gap;
    a proven plan keeps its own."""
    problem = random_problem(16)
    plan = solve(problem, solver="greedy", bound="lp", time_limit=LIMIT)
    assert plan.bound is not None and plan.gap is not None and plan.gap >= 0.0
    _check_bound(plan.bound, plan.metrics)
    proven = solve(random_problem(2), solver="cpsat", bound="lp", time_limit=LIMIT)
    assert proven.gap == 0.0
    with pytest.raises(Exception, match="unknown bound"):
        solve(problem, solver="greedy", bound="nope")


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------

def _cbc_objective(path: Path, maximize: bool) -> float:
    """Solve a model file with the CBC binary; the optimal objective."""
    sol = path.with_suffix(".sol")
    args = [pulp_backend._cbc_path(), str(path)] + (["-max"] if maximize else [])  # noqa: SLF001
    subprocess.run([*args, "-solve", "-solu", str(sol)], capture_output=True, check=True,
                   timeout=60)
    head = sol.read_text().splitlines()[0]
    assert head.startswith("Optimal"), head
    return float(re.search(r"objective value\s+(\S+)", head).group(1))


@pytest.mark.skipif(not pulp_backend.cbc_available(), reason="no CBC binary to read the files")
@pytest.mark.parametrize("seed", [2, 7])
def test_export_writes_readable_mps_and_lp(seed: int, tmp_path: Path) -> None:
    """The MPS file reads back through PuLP with the same size, and both files
    solve (CBC) to the first stage's proven optimum."""
    problem = random_problem(seed)
    stages, _ = _proven("cpsat", seed)
    first = stages[0]
    info = export_model(problem, tmp_path / "m.mps")
    export_model(problem, tmp_path / "m.lp")
    assert info["stage"] == first.name == stage_names(problem)[0]
    text = (tmp_path / "m.mps").read_text()
    assert "\nOBJSENSE\n    MAX" in text and "ROWS" in text
    _, back = pulp.LpProblem.fromMPS(str(tmp_path / "m.mps"), sense=pulp.LpMaximize)
    assert len(back.variables()) <= info["variables"]  # unused variables are not written
    rows = back.constraints() if callable(back.constraints) else back.constraints
    assert len(rows) == info["constraints"]
    lp_text = (tmp_path / "m.lp").read_text()
    assert lp_text.splitlines()[1] == "Maximize" and "Subject To" in lp_text
    for path in (tmp_path / "m.mps", tmp_path / "m.lp"):
        # Real units in the files: stage values are scaled, so compare reals.
        assert _cbc_objective(path, maximize=True) == pytest.approx(first.value, rel=1e-6)


def test_export_other_stages_and_errors(tmp_path: Path) -> None:
    """A chosen stage is written with its sense; bad formats and stages raise."""
    problem = random_problem(2)
    info = export_model(problem, tmp_path / "c.lp", stage="cost")
    assert info["sense"] == "min"
    assert (tmp_path / "c.lp").read_text().splitlines()[1] == "Minimize"
    weighted = random_problem(2, mode="weighted")
    assert export_model(weighted, tmp_path / "w.mps")["stage"] in ("required", "weighted")
    with pytest.raises(ValueError, match="format"):
        export_model(problem, tmp_path / "m.txt")
    with pytest.raises(ValueError, match="stage"):
        export_model(problem, tmp_path / "m.mps", stage="tier 99")


def test_lp_bound_is_merged_with_the_solvers_own() -> None:
    """The tighter bound wins per entry: lowest tier upper bound, highest cost
    lower bound (an LP bound never loosens what the solver proved)."""
    from allocopt.solve import _tighter  # noqa: PLC2701

    own = {"placed_value_by_priority": {"1": 10.0, "0": 7.0}, "cost": 3.0}
    lp = {"placed_value_by_priority": {"1": 12.0, "0": 6.5}, "cost": 4.0}
    assert _tighter(lp, own) == {"placed_value_by_priority": {"1": 10.0, "0": 6.5}, "cost": 4.0}
    assert _tighter(lp, None) == lp
    assert _tighter({"objective": 5.0}, {"objective": 4.0}) == {"objective": 4.0}


def test_cli_bound_lp(tmp_path: Path) -> None:
    """``allocopt solve --bound lp`` writes the bound; a bad value exits 2."""
    from typer.testing import CliRunner

    from allocopt.cli import app
    from allocopt.formats import save_problem

    path = tmp_path / "p.json"
    save_problem(random_problem(16), path)
    out = tmp_path / "plan.json"
    runner = CliRunner()
    res = runner.invoke(app, ["solve", str(path), "--solver", "greedy", "--bound", "lp",
                              "--time-limit", str(LIMIT), "--out", str(out), "-q"])
    assert res.exit_code in (0, 3), res.output
    plan = json.loads(out.read_text())
    assert plan["bound"] is not None and plan["gap"] is not None
    _check_bound(plan["bound"], plan["metrics"])
    bad = runner.invoke(app, ["solve", str(path), "--bound", "simplex", "--out", str(out)])
    assert bad.exit_code == 2 and "--bound" in bad.output


def test_cli_export_stage(tmp_path: Path) -> None:
    """``allocopt export --stage cost`` writes that stage; an unknown stage exits 2."""
    from typer.testing import CliRunner

    from allocopt.cli import app
    from allocopt.formats import save_problem

    path = tmp_path / "p.json"
    save_problem(random_problem(7), path)
    out = tmp_path / "m.lp"
    runner = CliRunner()
    res = runner.invoke(app, ["export", str(path), "--format", "lp", "--stage", "cost",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "stage cost" in res.output and out.read_text().lstrip().startswith("\\*")
    assert "MINIMIZE" in out.read_text().upper()
    bad = runner.invoke(app, ["export", str(path), "--stage", "tier 99", "--out", str(out)])
    assert bad.exit_code == 2 and "unknown stage" in bad.output
