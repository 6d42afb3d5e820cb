"""Shared helpers of the formulation tests: tiny problems, one-family models,
fixing a plan into a model, and a seeded random problem builder.

Not a test module (no ``test_`` prefix); the test modules of this folder
import it by name, ``tests/optimizer/test_solve.py`` loads it by path.
"""

from __future__ import annotations

import copy
import itertools
import os
import random
from collections.abc import Callable, Iterable
from typing import Any

from allocopt.formulations.backends.cpsat import CpSatBackend
from allocopt.formulations.scope import Scope, full_scope
from allocopt.formulations.solve_model import hint_values, plan_arrays
from allocopt.formulations.stages import build
from allocopt.formulations.variables import Variables, make_variables
from allocopt import Plan, Problem, SolveStatus, is_valid, solve, validate
from allocopt.plan import Assignment, Unplaced
from allocopt.prepared import Prepared
from allocopt.validate import compute_metrics, lex_key


def _backends() -> dict[str, type]:
    """Back-ends the family and optimum tests run on, by solver name.

    CP-SAT always; the MILP back-ends (``pulp``, ``pulp-highs``) when named in
    the environment variable ``ALLOCOPT_TEST_BACKENDS`` (comma-separated, like
    PyJobShop's ``--solvers``) and installed.
    """
    out: dict[str, type] = {"cpsat": CpSatBackend}
    wanted = {w.strip() for w in os.environ.get("ALLOCOPT_TEST_BACKENDS", "").split(",")}
    if wanted & {"pulp", "pulp-highs"}:
        from allocopt.formulations.backends import pulp as pulp_backend

        if "pulp" in wanted and pulp_backend.cbc_available():
            out["pulp"] = pulp_backend.PulpBackend
        if "pulp-highs" in wanted and pulp_backend.highs_available():
            out["pulp-highs"] = pulp_backend.PulpHighsBackend
    return out


#: Every back-end the families are written against, by solver name.
BACKENDS: dict[str, type] = _backends()

#: Seconds per exact solve of a hand-made instance (they prove in milliseconds).
TIME_LIMIT = 5.0


def problem(jobs: list[dict[str, Any]], *, slots: int = 4,
            regions: list[dict[str, Any]] | None = None,
            nodes: list[dict[str, Any]] | None = None,
            links: list[dict[str, Any]] | None = None,
            resources: tuple[str, ...] = ("gpu",), **top: Any) -> Problem:
    """A tiny problem: by default one free region 'eu' and one 8-GPU node 'n'
    drawing 1 kW per GPU and nothing idle."""
    data: dict[str, Any] = {
        "horizon": {"slots": slots},
        "resources": list(resources),
        "regions": copy.deepcopy(regions) if regions is not None else [{"id": "eu"}],
        "nodes": copy.deepcopy(nodes) if nodes is not None else [
            {"id": "n", "region": "eu", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0}}],
        "jobs": copy.deepcopy(jobs),
    }
    if links:
        data["links"] = copy.deepcopy(links)
    data.update(top)
    return Problem.from_dict(data)


def solve_exact(p: Problem, solver: str = "cpsat", **kw: Any) -> Plan:
    """``solve`` with deterministic settings; asserts the plan validates."""
    kw.setdefault("time_limit", TIME_LIMIT)
    plan = solve(p, solver=solver, seed=0, workers=1, **kw)
    assert_valid(p, plan)
    return plan


def assert_valid(p: Problem, plan: Plan) -> None:
    """The plan passes the validator and names every job exactly once with a reason."""
    violations = validate(p, plan)
    assert is_valid(plan, violations), violations
    ids = [a.job for a in plan.assignments] + [u.job for u in plan.unplaced]
    assert sorted(ids) == sorted(j.id for j in p.jobs)
    assert all(u.reason.strip() for u in plan.unplaced)


def placed(plan: Plan) -> dict[str, Assignment]:
    """Assignments by job id."""
    return {a.job: a for a in plan.assignments}


def reasons(plan: Plan) -> dict[str, str]:
    """Unplaced reasons by job id."""
    return {u.job: u.reason for u in plan.unplaced}


# --------------------------------------------------------------------------
# One family on its own, and fixing a plan into a model
# --------------------------------------------------------------------------

Family = Callable[[Any, Scope, Variables], None]


def family_model(p: Problem, families: Iterable[Family], backend: type = CpSatBackend
                 ) -> tuple[Any, Scope, Variables]:
    """Full-scope variables with only ``families`` added (no objective)."""
    prep = Prepared(p)
    scope = full_scope(prep)
    m = backend(seed=0, workers=1)
    x = make_variables(m, scope)
    for add in families:
        add(m, scope, x)
    return m, scope, x


def full_model(p: Problem, backend: type = CpSatBackend) -> tuple[Any, Scope, Variables]:
    """Full-scope model with every constraint family (as the solver builds it)."""
    prep = Prepared(p)
    scope = full_scope(prep)
    m = backend(seed=0, workers=1)
    return m, scope, build(m, scope)


def assignment_plan(p: Problem, assignments: dict[str, tuple[int, tuple[str, ...]]]) -> Plan:
    """A plan from ``{job: (start, nodes)}`` alone: other jobs are in neither
    list (enough to fix into a model; :func:`brute_force_best` adds them)."""
    dur = {j.id: j.duration for j in p.jobs}
    return Plan(
        problem=p.name, status=SolveStatus.FEASIBLE, solver="hand",
        assignments=tuple(Assignment(j, s, s + dur[j], tuple(ns))
                          for j, (s, ns) in assignments.items()),
        unplaced=tuple(),
    )


def fix_plan(m: Any, scope: Scope, x: Variables, plan: Plan) -> dict[Any, int]:
    """Hint ``plan`` and add ``var == value`` for every model variable.

    Asserts that every placed job of the plan is representable (its start and
    nodes are in the model's domains), so the check cannot pass by silently
    dropping a job.
    """
    prep = scope.prep
    start, nodes = plan_arrays(prep, plan)
    values = hint_values(scope, x, start, nodes)
    for a in plan.assignments:
        j = prep.job_index[a.job]
        assert j in x.placed, f"job {a.job!r} is not in the model's scope"
        assert values[x.placed[j]] == 1, (
            f"job {a.job!r} at {a.start} on {a.nodes} is outside the model's domains")
    m.hint(values)
    for v, val in values.items():
        m.add(v == int(val))
    return values


def fixed_status(m: Any, scope: Scope, x: Variables, plan: Plan, time_limit: float = 5.0) -> str:
    """Status of the model with ``plan`` fixed into it: 'optimal' (feasible) or 'infeasible'."""
    fix_plan(m, scope, x, plan)
    return m.solve(time_limit)


FEASIBLE = ("optimal", "feasible")


# --------------------------------------------------------------------------
# Random problems covering every feature
# --------------------------------------------------------------------------

def _r1(rng: random.Random, lo: float, hi: float) -> float:
    """A number with one decimal: powers and energies stay whole watts."""
    return round(rng.uniform(lo, hi), 1)


def random_problem_data(seed: int, *, max_jobs: int = 8, max_slots: int = 8,
                        max_entries: int = 4, max_count: int = 4,
                        max_replicas: int = 3) -> dict[str, Any]:
    """A small random problem using every feature of PROBLEM.md.

    Several regions (some linked, maybe not all), pools with ``count > 1``,
    node types, maintenance, scalar or per-slot power caps, energy budgets,
    price and carbon curves, a carbon price, PUE, idle draw, node cost,
    required jobs, precedence, replicas with min_regions / max_per_region /
    max_latency_ms, due dates with tardiness, allowed regions and types,
    ``power_kw`` overrides, and both objective modes.

    Numbers have one decimal (kW, kWh, caps) and PUE/slot hours are chosen so
    that exact energies are whole watt-hours: the model's integer rounding
    then matches the validator's tolerance exactly.
    """
    rng = random.Random(seed)
    H = rng.randint(min(3, max_slots), max_slots)
    sh = rng.choice([1.0, 1.0, 0.5])
    resources = ["gpu", "cpu"]

    def curve(lo: float, hi: float, digits: int) -> Any:
        if rng.random() < 0.5:
            return round(rng.uniform(lo, hi), digits)
        return [round(rng.uniform(lo, hi), digits) for _ in range(H)]

    G = rng.randint(1, 3)
    regions = []
    for g in range(G):
        reg: dict[str, Any] = {"id": f"r{g}", "pue": rng.choice([1.0, 1.1, 1.2, 1.5])}
        if rng.random() < 0.8:
            reg["price_per_kwh"] = curve(0.0, 0.3, 2)
        if rng.random() < 0.6:
            reg["carbon_g_per_kwh"] = curve(0, 500, 0)
        if rng.random() < 0.35:
            reg["power_cap_kw"] = curve(4.0, 30.0, 1) if rng.random() < 0.7 else [
                _r1(rng, 0, 30) for _ in range(H)]
        if rng.random() < 0.3:
            reg["energy_budget_kwh"] = _r1(rng, 10, 150)
        regions.append(reg)
    links = []
    for g in range(1, G):
        if rng.random() < 0.85:
            links.append({"a": f"r{rng.randrange(g)}", "b": f"r{g}",
                          "latency_ms": float(rng.choice([5, 20, 40, 80, 150]))})
    nodes = []
    for k in range(rng.randint(2, max_entries)):
        node: dict[str, Any] = {
            "id": f"n{k}", "region": f"r{rng.randrange(G)}",
            "type": rng.choice(["a100", "h100"]),
            "capacity": {"gpu": rng.choice([4, 8, 8]), "cpu": rng.choice([16, 32, 64])},
            "count": rng.choice([c for c in (1, 1, 2, 3, 4) if c <= max_count]),
            "kw_per_unit": {"gpu": _r1(rng, 0.2, 1.0), "cpu": rng.choice([0.0, 0.1])},
        }
        if rng.random() < 0.5:
            node["idle_kw"] = _r1(rng, 0.1, 2.0)
        if rng.random() < 0.3:
            node["cost_per_slot"] = round(rng.uniform(0.0, 0.5), 2)
        if rng.random() < 0.3:
            a = rng.randrange(H)
            node["unavailable"] = [[a, rng.randint(a + 1, H)]]
        nodes.append(node)
    jobs: list[dict[str, Any]] = []
    for i in range(rng.randint(2, max_jobs)):
        d = rng.randint(1, min(3, H))
        job: dict[str, Any] = {
            "id": f"j{i}",
            "demand": {"gpu": rng.choice([1, 2, 2, 4, 8]), "cpu": rng.choice([0, 4, 16])},
            "duration": d,
            "priority": rng.choice([0, 0, 1, 2]),
            "value": rng.choice([0.0, 1.0, 2.5, 5.0, 10.0]),
        }
        if rng.random() < 0.3:
            job["release"] = rng.randint(0, H - d)
        if rng.random() < 0.3:
            job["deadline"] = rng.randint(job.get("release", 0) + d, H)
        if rng.random() < 0.3:
            job["due"] = rng.randint(0, H)
            job["tardiness_penalty"] = rng.choice([0.1, 0.5, 2.0])
        if rng.random() < 0.2:
            job["required"] = True
        R = rng.choice([r for r in (1, 1, 1, 2, 3) if r <= max_replicas])
        if R > 1:
            job["replicas"] = R
            if rng.random() < 0.5:
                job["min_regions"] = rng.randint(1, min(R, G))
            if rng.random() < 0.4:
                job["max_per_region"] = rng.randint(1, R)
            if rng.random() < 0.4:
                job["max_latency_ms"] = float(rng.choice([0, 10, 50, 100, 300]))
        if rng.random() < 0.2:
            job["regions"] = rng.sample([r["id"] for r in regions], rng.randint(1, G))
        if rng.random() < 0.2:
            job["node_types"] = [rng.choice(["a100", "h100"])]
        if i and rng.random() < 0.3:
            job["after"] = sorted({f"j{rng.randrange(i)}" for _ in range(rng.randint(1, 2))})
        if rng.random() < 0.15:
            job["power_kw"] = _r1(rng, 0.0, 6.0)
        jobs.append(job)
    objective: dict[str, Any] = {"mode": rng.choice(["lexicographic", "weighted"])}
    if rng.random() < 0.4:
        objective["carbon_price_per_kg"] = rng.choice([0.05, 0.1, 0.5])
    return {
        "name": f"random-{seed}",
        "horizon": {"slots": H, "slot_hours": sh},
        "resources": resources,
        "regions": regions,
        "links": links,
        "nodes": nodes,
        "jobs": jobs,
        "objective": objective,
    }


def random_problem(seed: int, **kw: Any) -> Problem:
    """:func:`random_problem_data` parsed."""
    return Problem.from_dict(random_problem_data(seed, **kw))


def tiny_problem(seed: int) -> Problem:
    """A random problem small enough to enumerate every plan of."""
    return random_problem(seed, max_jobs=3, max_slots=3, max_entries=2, max_count=2,
                          max_replicas=2)


def brute_force_best(p: Problem) -> tuple[tuple[float, ...], Plan]:
    """The best valid plan by enumeration: (objective key, plan).

    Every job is unplaced or placed at one start on one set of distinct
    nodes; plans are checked best key first, so only a few are validated.
    """
    names = p.node_names()
    H = p.horizon.slots
    options: list[list[tuple[int, tuple[str, ...]] | None]] = []
    for job in p.jobs:
        opts: list[tuple[int, tuple[str, ...]] | None] = [None]
        for s in range(H - job.duration + 1):
            for ns in itertools.combinations(names, job.replicas):
                # Every rule but required / precedence only gets harder as
                # jobs are added: drop options that break one on their own.
                alone = assignment_plan(p, {job.id: (s, ns)})
                if not any(v.rule not in ("required", "precedence", "accounting")
                           for v in validate(p, alone)):
                    opts.append((s, ns))
        options.append(opts)
    scored = []
    for combo in itertools.product(*options):
        chosen = {job.id: o for job, o in zip(p.jobs, combo) if o is not None}
        plan = assignment_plan(p, chosen)
        scored.append((lex_key(p, compute_metrics(p, plan.assignments)), len(scored), plan))
    scored.sort(key=lambda t: (tuple(-v for v in t[0]), t[1]))
    for key, _, plan in scored:
        out = [j for j in p.jobs if j.id not in plan.placed_ids]
        full = plan.replace(unplaced=tuple(Unplaced(j.id, "out") for j in out),
                            status=SolveStatus.INFEASIBLE if any(j.required for j in out)
                            else SolveStatus.FEASIBLE)
        if is_valid(full, validate(p, full)):
            return key, full
    raise AssertionError("the empty plan is always valid")
