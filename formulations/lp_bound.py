"""Bounds from the LP relaxation of the full model.

The full model (every family, the time-indexed capacity of the PuLP
back-end) is built once with every variable continuous in its bounds, and a
sequence of LPs is solved, one per objective stage, in the stage order of
:mod:`allocopt.formulations.stages` (``required``, the tiers from the highest, then
``cost``; or ``required`` then ``weighted``). Objectives use the real
coefficients (currency, job values), not the integer-scaled ones.

What the numbers mean
---------------------
Let ``V*`` be the lexicographically optimal stage values of the model (the
values every lexicographically optimal plan has), and ``L`` the values of a
reference plan (the plan being bounded, if one is given). Going down the
stages, a constraint set ``C`` is kept that every lexicographically optimal
plan satisfies:

* stage ``u``'s bound is ``UB_u = max { stage_u : LP relaxation, C }``.
  Since every lexicographically optimal plan lies in ``C``, ``UB_u >= V*_u``.
* while the reference plan is *proven* at every stage above ``u`` (its value
  there reached that stage's LP bound), it is feasible for the problem
  "maximise stage ``u`` with the stages above at ``V*``", so
  ``V*_u >= L_u``: ``stage_u >= L_u`` is added to ``C``. The reference is
  proven at ``u`` when ``L_u >= UB_u`` (within tolerance); from the first
  stage where it is not, nothing more is added (a better plan above may
  trade away value below, so ``L`` no longer bounds ``V*`` there).

So:

* ``placed_value_by_priority[t]`` is an upper bound on tier ``t``'s value in
  every lexicographically optimal plan. Without a reference plan it is the
  LP maximum of tier ``t`` alone (plus nothing): valid and looser.
* ``cost`` is a lower bound on the cost of every lexicographically optimal
  plan: ``min { cost : LP relaxation, C }``. When the reference plan is
  proven on every tier this is "LP min cost subject to every tier >= the
  plan's value"; otherwise fewer tiers are constrained and the bound is
  weaker, but still valid. (Constraining every tier to the plan's value
  would not be: the lexicographic optimum may have less in a lower tier.)
* weighted mode: ``objective`` is an upper bound on ``value - cost``.
* carbon mode: a ``carbon`` stage (min carbon kg) before ``cost``, with the
  same rules; ``carbon_kg`` is a lower bound on the carbon of every
  lexicographically optimal plan (time-indexed LP only; the area relaxation
  gives none).

Bounds are widened by a relative 1e-6 for LP tolerances, and are bounds on
the *model*, which rounds capacities and power caps conservatively (see
:mod:`allocopt.formulations.scaling`): a plan that only the exact rule accepts could
in principle exceed them, as for the solvers' own bounds.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocopt.plan import Plan
from allocopt.prepared import Prepared
from allocopt.problem import Problem

from .backends.pulp import PulpBackend, highs_available
from .energy import carbon_terms, cost_terms
from .priority import required_terms, tier_terms, value_terms
from .scope import Scope, full_scope
from .solve_pulp import pulp_size_estimate
from .stages import build
from .timing import tardiness_terms

log = logging.getLogger(__name__)

#: Relative widening of every LP value (LP solvers' optimality tolerance).
LP_TOL = 1e-6
#: Largest time-indexed LP built (estimated terms, :func:`pulp_size_estimate`);
#: PuLP holds about 1 KB per term, and the large benchmark's would be ~2e9
#: terms. Bigger problems get the coarse :func:`_area_model` instead.
LP_MAX_TERMS = 2_500_000


@dataclass
class StageBound:
    """One LP of the sequence."""

    name: str
    sense: str
    bound: float | None  # widened by LP_TOL; None if the LP did not solve
    reference: float | None  # the reference plan's value, if any
    proven: bool  # reference value reaches the bound (and all stages above)
    seconds: float


@dataclass
class LpBoundReport:
    """Every stage's LP bound and the resulting plan ``bound`` dict."""

    stages: list[StageBound] = field(default_factory=list)
    bound: dict[str, Any] = field(default_factory=dict)
    #: ``"time-indexed"`` (the full model relaxed) or ``"area"`` (too large
    #: for that: the coarse relaxation of :func:`_area_model`).
    relaxation: str = "time-indexed"


def _widen(v: float, up: bool) -> float:
    d = LP_TOL * max(1.0, abs(v))
    return v + d if up else v - d


def lp_bound_report(problem: Problem, prep: Prepared | None = None, time_limit: float = 30.0,
                    *, plan: Plan | None = None, solver: str | None = None) -> LpBoundReport:
    """The LP bound of every stage (see the module docstring).

    Parameters
    ----------
    problem, prep
        The problem and its prepared data (built if ``None``).
    time_limit
        Seconds for all LPs together; a stage whose LP does not finish gets
        no bound, and stages below it lose the reference constraints.
    plan
        Reference plan (usually the one being bounded); ``None``: no
        reference constraints.
    solver
        ``"highs"`` or ``"cbc"`` (default: HiGHS if available, else CBC's LP).
    """
    t_end = time.perf_counter() + time_limit
    prep = prep or Prepared(problem)
    solver = solver or ("highs" if highs_available() else "cbc")
    scope = full_scope(prep)
    m = PulpBackend(solver_name=solver, relax=True)
    p = prep
    weighted = problem.objective.mode == "weighted"
    ref = plan.metrics if plan is not None else None
    report = LpBoundReport()
    carbons: list[tuple[Any, float]] | None = None  # carbon mode, time-indexed LP only
    size = pulp_size_estimate(scope)
    if size > LP_MAX_TERMS:
        log.info("LP bound: time-indexed LP of ~%d terms > %d: area relaxation", size,
                 LP_MAX_TERMS)
        report.relaxation = "area"
        req, tiers, costs, values = _area_model(m, scope)
    else:
        x = build(m, scope)
        req = required_terms(scope, x)
        tiers = {tier: tier_terms(scope, x, tier) for tier in p.tiers}
        costs = cost_terms(scope, x) + tardiness_terms(scope, x)
        values = value_terms(scope, x)
        if problem.objective.mode == "carbon":
            carbons = carbon_terms(scope, x)

    stages: list[tuple[str, str, list[tuple[Any, float]], float | None]] = []
    if req:
        stages.append(("required", "max", [(v, float(c)) for v, c in req],
                       float(ref["required_placed"]) if ref else None))
    if weighted:
        vals = values + [(v, -c) for v, c in costs]
        stages.append(("weighted", "max", vals,
                       ref["placed_value"] - ref["cost"] if ref else None))
    else:
        for tier in p.tiers:
            stages.append((f"tier {tier}", "max", tiers[tier],
                           float(ref["placed_value_by_priority"].get(str(tier), 0.0)) if ref else None))
        if carbons is not None:
            stages.append(("carbon", "min", carbons, ref["carbon_kg"] if ref else None))
        stages.append(("cost", "min", costs, ref["cost"] if ref else None))

    proven_above = ref is not None
    for name, sense, terms, L in stages:
        t0 = time.perf_counter()
        expr = m.wsum(terms)
        lp: float | None = 0.0
        if terms:
            lp = None
            if t_end - t0 > 0.05:
                (m.maximize if sense == "max" else m.minimize)(expr)
                if m.solve(t_end - t0) == "optimal":
                    lp = m.objective_value()
        ub = None if lp is None else _widen(lp, sense == "max")
        if ub is not None and sense == "min" and all(c >= 0 for _, c in terms):
            ub = max(ub, 0.0)  # a sum of non-negative costs
        proven = False
        if lp is not None and ub is not None and proven_above and L is not None:
            # Proven: the reference reaches the LP optimum (1e-9: rather
            # miss a proof than claim a wrong one).
            tol = 1e-9 * max(1.0, abs(lp))
            if sense == "max":
                proven = L >= lp - tol
                ub = max(ub, L)  # below a proven prefix, V* >= L
            else:
                proven = L <= lp + tol
                ub = min(ub, L)
        if proven_above and L is not None and sense == "max" and terms:
            m.add(expr >= _widen(L, False))
        if proven and sense == "min" and terms and name == "carbon":
            m.add(expr <= _widen(L, True))  # V*_carbon = L: the cost stage keeps it
        proven_above = proven_above and proven
        report.stages.append(StageBound(name, sense, ub, L, proven, time.perf_counter() - t0))

    out: dict[str, Any] = {}
    for st in report.stages:
        if st.bound is None:
            continue
        if st.name == "weighted":
            out["objective"] = st.bound
        elif st.name == "cost":
            out["cost"] = st.bound
        elif st.name == "carbon":
            out["carbon_kg"] = st.bound
        elif st.name.startswith("tier "):
            out.setdefault("placed_value_by_priority", {})[st.name[5:]] = st.bound
    report.bound = out
    log.info("LP bounds: %s", "; ".join(
        f"{s.name}: {s.bound} ({'proven' if s.proven else 'open'}, {s.seconds:.2f}s)"
        for s in report.stages))
    return report


def _area_model(m: PulpBackend, scope: Scope) -> tuple[list, dict[int, list], list, list]:
    """A coarse relaxation for problems whose time-indexed LP is too large.

    Variables: ``x[j]`` in [0, 1] (placed) and ``w[j,c]`` >= 0 (replicas of
    ``j`` on node class ``c``, for the classes where some start of ``j``
    misses maintenance). Rows, each implied by the rules:

        sum_c w[j,c] = replicas_j * x[j];   w[j,c] <= min(replicas_j, count_c) * x[j]
        per class c, resource r:  sum_j demand[j,r] * d_j * w[j,c]
                                      <= capacity[c,r] * count_c * (slots without maintenance)
        per region g:  sum pue_g * P[j,c] * d_j * w[j,c] <= sum_t power_cap[g,t]   (finite caps)
                       slot_hours * (the same)               <= energy_budget[g]

    (time and node packing become areas; idle power is left out). Cost terms
    are lower bounds: each replica at its cheapest allowed start, the job's
    least tardiness, no node cost. Returns (required, tiers, cost, value)
    terms in the stage order of :func:`lp_bound_report`.
    """
    p = scope.prep
    x: dict[int, Any] = {}
    area: dict[tuple[int, int], list] = {}
    power: dict[int, list] = {}
    costs: list[tuple[Any, float]] = []
    for j in scope.jobs:
        st, d, R = scope.starts[j], int(p.duration[j]), int(p.replicas[j])
        classes = p.eligible_classes(j)
        ok = p.window_free(classes, d, st) if len(classes) else np.zeros((0, len(st)), bool)
        usable = [(int(c), st[row]) for c, row in zip(classes, ok, strict=True) if row.any()]
        if not usable:
            continue
        x[j] = m.bool_var(f"x[{p.job_ids[j]}]")
        P = p.class_power(j)
        ws = []
        for c, starts in usable:
            most = min(R, int(p.class_count[c]))
            w = m.int_var(0, most, f"w[{p.job_ids[j]},{p.class_ids[c]}]")
            ws.append(w)
            m.add(w <= most * x[j])
            for r in np.flatnonzero(p.demand[j] > 0):
                area.setdefault((c, int(r)), []).append((w, float(p.demand[j, r]) * d))
            g = int(p.class_region[c])
            if P[c] > 0:
                power.setdefault(g, []).append((w, float(p.pue[g] * P[c] * d)))
                run = p.cum_cost[g, starts + d] - p.cum_cost[g, starts]
                costs.append((w, float(P[c] * run.min())))
        m.add(m.total(ws) == R * x[j])
        tardy = float(p.tardiness(j, st).min()) if len(st) else 0.0
        if tardy > 0:
            costs.append((x[j], tardy))
    for (c, r), terms in area.items():
        slots = int(p.class_avail[c].sum())
        m.add(m.wsum(terms) <= float(p.class_cap[c, r]) * int(p.class_count[c]) * slots)
    for g, terms in power.items():
        if np.isfinite(p.power_cap[g]).all():
            m.add(m.wsum(terms) <= float(p.power_cap[g].sum()))
        if np.isfinite(p.energy_budget[g]):
            m.add(m.wsum([(v, c * p.slot_hours) for v, c in terms]) <= float(p.energy_budget[g]))
    req = [(v, 1) for j, v in x.items() if p.required[j]]
    tiers = {t: [(v, float(p.value[j])) for j, v in x.items() if p.priority[j] == t and p.value[j]]
             for t in p.tiers}
    values = [(v, float(p.value[j])) for j, v in x.items() if p.value[j]]
    return req, tiers, [t for t in costs if t[1]], values


def lp_bounds(problem: Problem, prep: Prepared | None = None, time_limit: float = 30.0,
              *, plan: Plan | None = None, solver: str | None = None) -> dict[str, Any]:
    """A plan ``bound`` dict from the LP relaxation (module docstring).

    Lexicographic mode: ``{"placed_value_by_priority": {tier: upper bound},
    "cost": lower bound}``; weighted mode: ``{"objective": upper bound}``.
    A stage whose LP did not finish within ``time_limit`` is left out.
    """
    return lp_bound_report(problem, prep, time_limit, plan=plan, solver=solver).bound
