"""Building the model and solving the lexicographic objective stage by stage.

Stages (PROBLEM.md, Objective):

1. ``required``: maximise the number of required jobs placed (all of them
   unless the problem is infeasible);
2. one stage per priority tier, from the highest: maximise the tier's placed
   value, then fix it (``>=`` the value reached) for the later stages;
3. ``cost``: minimise energy + carbon + tardiness + node cost.

``carbon`` mode (docs/PROBLEM.md, an extension) adds a ``carbon`` stage
between the tiers and ``cost``: minimise carbon (kg, scaled to integers like
costs), then fix it (``<=`` the value reached) for the cost stage.

``weighted`` mode has one stage after ``required``: maximise value - cost.

Each stage is hinted with the previous stage's solution (the greedy plan for
the first), so every stage starts from a complete feasible assignment. Each
stage gets ``tier_share`` of the time left (the last gets all of it); time
a stage does not use flows to the next.

Lower tiers are left out of a tier's stage: removing a job never breaks a
rule (it only frees capacity, power and budget), so the best value of tier k
is reached with the jobs of tiers below k unplaced -- except required jobs and
predecessors of the jobs that stay. Those jobs' ``placed`` variables are fixed
to 0 for the stage (:attr:`Stage.drop`), which lets presolve delete most of
the model for the upper tiers; the stage's solution is then refilled with
lower-tier jobs (greedily, by the caller's ``refill``) to hint the next stage.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocopt import progress
from allocopt.params import SolveParams
from allocopt.problem import Problem

from .capacity import add_capacity
from .energy import add_energy, carbon_terms, cost_terms
from .moves import add_moves, move_terms
from .packing import add_packing_rows
from .priority import required_terms, tier_terms, value_terms
from .replication import add_replication
from .claims import rounding_error
from .scaling import cost_scale, exact_scale, to_int, value_scale
from .scope import Scope
from .timing import add_timing, tardiness_terms
from .variables import Variables, make_variables


@dataclass
class Stage:
    name: str
    sense: str  # "max" or "min"
    terms: list[tuple[Any, int]]
    scale: float
    tier: int | None = None
    status: str = "not run"
    value: float | None = None  # in real units
    bound: float | None = None  # in real units
    seconds: float = 0.0
    #: Jobs left out of this stage (their ``placed`` fixed to 0).
    drop: list[int] = field(default_factory=list)
    #: Largest real-unit error of the rounded objective (claims.rounding_error):
    #: 0 when it scaled exactly; otherwise the stage proves nothing in real
    #: units and its bound is widened by it.
    err: float = 0.0
    #: Re-planning tie-break (tier stages only): ``(moved[j], w)`` terms
    #: subtracted from the stage's objective with weights that can never
    #: outweigh one unit of the tier's value (:func:`run_stages`), so among
    #: plans of equal tier value the solver prefers the fewest moves.
    tiebreak: list[tuple[Any, int]] = field(default_factory=list)


def build(backend: Any, scope: Scope) -> Variables:
    """Create the variables and add every constraint family, in this order.

    Timing first (it creates the start links the capacity intervals use);
    replication before energy (energy reads the power groups).
    """
    prog = progress.current()
    if prog is not None and not prog.prefix:
        prog.emit("model", "start")
    x = make_variables(backend, scope)
    add_timing(backend, scope, x)
    add_replication(backend, scope, x)
    add_capacity(backend, scope, x)
    add_packing_rows(backend, scope, x)
    add_energy(backend, scope, x)
    add_moves(backend, scope, x)
    if prog is not None and not prog.prefix:
        prog.emit("model", "end")
    return x


def make_stages(problem: Problem, scope: Scope, x: Variables) -> list[Stage]:
    """The objective stages of ``problem`` over ``scope`` (integer terms)."""
    p = scope.prep
    stages: list[Stage] = []
    req = required_terms(scope, x)
    if req and not all(j in scope.must_place for j in scope.jobs if p.required[j]):
        stages.append(Stage("required", "max", req, 1.0,
                            drop=droppable(scope, lambda j: bool(p.required[j]))))
    costs = cost_terms(scope, x) + tardiness_terms(scope, x)
    max_cost = _cost_upper_bound(scope, x, costs)
    moves = move_terms(scope, x)  # re-planning: after the bound, which does not see them
    costs += moves
    max_cost += sum(c for _, c in moves)
    if problem.objective.mode == "weighted":
        vals = value_terms(scope, x)
        real = vals + [(v, -c) for v, c in costs]
        peak = max_cost + sum(v for _, v in vals)
        coefs = np.array([c for _, c in real])
        scale = exact_scale(coefs, peak, _span(scope, coefs)) or cost_scale(peak)
        terms = [(v, to_int(c, scale)) for v, c in vals] + [(v, -to_int(c, scale)) for v, c in costs]
        stages.append(Stage("weighted", "max", [t for t in terms if t[1]], scale,
                            err=rounding_error(scope, x, real, scale)))
        return stages
    tiebreak = move_tiebreak(scope, x)
    stab = problem.objective.stability_tier
    moves_ranked = stab is None or not moves  # True once the moves stage is in
    for tier in p.tiers:
        vals = tier_terms(scope, x, tier)
        if not vals:
            continue
        if not moves_ranked and tier < stab:
            stages.append(moves_stage(scope, x, moves))
            moves_ranked = True
        vs = value_scale(np.array([c for _, c in vals]))
        # Planned jobs stay in a stage (free to stay or go) once moves are
        # fixed (leaving one out would move it) or, with KEEP_LOWER_PLANNED,
        # so that the tie-break also counts the jobs a tier pushes aside.
        stay = set(x.moved) if (stab is not None and moves_ranked and moves) or (
            tiebreak and KEEP_LOWER_PLANNED) else set()
        drop = droppable(scope, lambda j, t=tier: bool(p.priority[j] >= t or p.required[j]
                                                       or j in stay))
        stages.append(Stage(f"tier {tier}", "max", [(v, to_int(c, vs)) for v, c in vals], vs, tier,
                            drop=drop, err=rounding_error(scope, x, vals, vs),
                            tiebreak=tiebreak))
    if not moves_ranked:  # every tier is at or above the stability tier
        stages.append(moves_stage(scope, x, moves))
    if problem.objective.mode == "carbon":
        carbons = carbon_terms(scope, x)
        act = {n: float(p.idle_kw[n]) * float(p.cum_carbon[p.node_region[n], p.H])
               for n in x.active}
        cs = cost_scale(_cost_upper_bound(scope, x, carbons, act))
        stages.append(Stage("carbon", "min",
                            [(v, to_int(c, cs)) for v, c in carbons if to_int(c, cs)], cs,
                            err=rounding_error(scope, x, carbons, cs)))
    coefs = np.array([c for _, c in costs])
    scale = exact_scale(coefs, max_cost, _span(scope, coefs)) or cost_scale(max_cost)
    stages.append(Stage("cost", "min", [(v, to_int(c, scale)) for v, c in costs if to_int(c, scale)],
                        scale, err=rounding_error(scope, x, costs, scale)))
    return stages


def moves_stage(scope: Scope, x: Variables, moves: list[tuple[Any, float]]) -> Stage:
    """The ``moves`` stage of ``objective.stability_tier`` (an extension,
    docs/PROBLEM.md): minimise the move cost, then fix it (``<=``) for the
    lower tiers and the cost. Every job stays in it (none dropped)."""
    coefs = np.array([c for _, c in moves])
    peak = float(coefs.sum())
    scale = exact_scale(coefs, peak, _span(scope, coefs)) or cost_scale(peak)
    return Stage("moves", "min", [(v, to_int(c, scale)) for v, c in moves if to_int(c, scale)],
                 scale, err=rounding_error(scope, x, moves, scale))


#: Largest tie-break weight of one move (a move's weight is its move cost
#: relative to the dearest move, rounded to 1..TIEBREAK_STEPS).
TIEBREAK_STEPS = 8

#: Whether tier stages break ties towards the previous placements
#: (measured on and off in benchmarks/README.md, "Re-planning").
MOVE_TIEBREAK = True

#: Whether a tier stage keeps lower-tier planned jobs in its model (not
#: dropped, :attr:`Stage.drop`) when it breaks ties towards the previous
#: placements, so that pushing one of them aside counts as a move.
KEEP_LOWER_PLANNED = False


def move_tiebreak(scope: Scope, x: Variables) -> list[tuple[Any, int]]:
    """Small integer weights of the ``moved`` booleans for the tier stages'
    tie-break (re-planning): proportional to each job's move cost, 1 to
    :data:`TIEBREAK_STEPS`. Empty when nothing is priced (no ``moved``)."""
    p = scope.prep
    if not x.moved or not MOVE_TIEBREAK:
        return []
    top = max(float(p.move_cost[j]) for j in x.moved) or 1.0
    return [(v, max(1, min(TIEBREAK_STEPS, round(TIEBREAK_STEPS * float(p.move_cost[j]) / top))))
            for j, v in x.moved.items()]


def tiebroken(st: Stage) -> tuple[list[tuple[Any, int]], int, int]:
    """The objective terms a tier stage is solved with, the multiplier ``M``
    of its own terms and the total tie-break weight ``W`` (``W < M``).

    The solver maximises ``M * value - moves`` with ``moves`` in
    ``[0, W]``: one more unit of the tier's (integer) value is worth more
    than every move together, so an optimum of it is an optimum of the
    tier's value (lexicographic order kept), and the tier's bound is
    ``floor((bound + W) / M)``.
    """
    if not st.tiebreak or st.sense != "max":
        return st.terms, 1, 0
    w = sum(c for _, c in st.tiebreak)
    mult = w + 1
    return [(v, mult * c) for v, c in st.terms] + [(v, -c) for v, c in st.tiebreak], mult, w


def _span(scope: Scope, coefs: np.ndarray) -> float:
    """Sum of |coefficient| x largest variable value (replica counts reach
    the most replicas of any job), for :func:`exact_scale`."""
    most = int(scope.prep.replicas.max()) if scope.prep.J else 1
    return float(np.abs(coefs).sum()) * max(1, most)


def droppable(scope: Scope, keep: Callable[[int], bool]) -> list[int]:
    """Free jobs a stage can leave out: not kept, and no kept job (nor a job
    placed in the background) depends on them through precedence."""
    p = scope.prep
    needed: set[int] = set()
    stack = [j for j in scope.jobs if keep(j)] + list(scope.fixed_nodes)
    while stack:
        j = stack.pop()
        if j in needed:
            continue
        needed.add(j)
        stack.extend(p.preds[j])
    return [j for j in scope.jobs if j not in needed]


def _without(values: dict[Any, int], scope: Scope, x: Variables, drop: list[int]) -> dict[Any, int]:
    """``values`` with the ``drop`` jobs unplaced (a hint for a stage that
    leaves them out); ``active`` follows the remaining placements."""
    out = dict(values)
    for j in drop:
        out[x.placed[j]] = 0
        out[x.start[j]] = int(scope.starts[j][0])
        for d in (x.y[j], x.a[j], x.q.get(j, {}), x.r.get(j, {}), x.z.get(j, {})):
            for v in d.values():
                out[v] = 0
    used = {n for j, av in x.a.items() for n, v in av.items() if out.get(v, 0)}
    for n, v in x.active.items():
        out[v] = int(n in used)
    return out


def _cost_upper_bound(scope: Scope, x: Variables, costs: list[tuple[Any, float]],
                      activation: dict[int, float] | None = None) -> float:
    # Each job starts once: at most R replicas at its dearest option, plus
    # every activation cost (``activation``: per node, default the cost).
    p = scope.prep
    per_var = {id(v): abs(c) for v, c in costs}
    act = activation if activation is not None else {n: float(p.activation_cost[n])
                                                     for n in x.active}
    total = sum(abs(act[n]) for n in x.active)
    for j in scope.jobs:
        opts = [per_var.get(id(v), 0.0) for v in x.y[j].values()]
        if j in x.q:
            opts += [per_var.get(id(v), 0.0) for v in x.q[j].values()]
        total += int(p.replicas[j]) * max(opts, default=0.0) + max(
            [per_var.get(id(v), 0.0) for v in x.y[j].values()], default=0.0)
    return total


def run_stages(m: Any, stages: list[Stage], x: Variables, hint: dict[Any, int],
               params: SolveParams, deadline: float, scope: Scope | None = None,
               refill: Callable[[dict[Any, int]], dict[Any, int]] | None = None,
               known: list[dict[Any, int]] | None = None) -> dict[Any, int]:
    """Solve ``stages`` in order; returns the final values of every variable.

    The returned values are the best solution found; when a stage finds
    nothing (time out), the previous solution stands and the stage's
    objective is fixed at that solution's value. With ``scope``, a stage's
    ``drop`` jobs are left out of it (module docstring) and ``refill`` (if
    given) completes its solution before it hints the next stage.

    ``known``: complete assignments of other valid plans (the portfolio
    start). Each stage starts from the best of the current solution and
    the known plans that meet every earlier stage's fixed value, and keeps
    that start if the stage's own solution is worse on its objective (so a
    stage that times out never hands an expensive or emptier plan on).
    """
    current = dict(hint)
    all_vars = x.all_vars()
    prog = progress.current()
    fixed: list[tuple[list[tuple[Any, int]], str, int]] = []  # earlier stages' rows

    def val(h: dict[Any, int], terms: list[tuple[Any, int]]) -> int:
        return sum(c * h.get(v, 0) for v, c in terms)

    def meets(h: dict[Any, int]) -> bool:
        return all(val(h, t) >= a if s == "max" else val(h, t) <= a for t, s, a in fixed)

    def best_start(st: Stage, cur: dict[Any, int]) -> dict[Any, int]:
        sign = 1 if st.sense == "max" else -1
        for h in known or ():
            if sign * val(h, st.terms) > sign * val(cur, st.terms) and meets(h):
                cur = h
        return cur

    for i, st in enumerate(stages):
        left = deadline - time.perf_counter()
        if left <= 0.02 or (prog is not None and prog.stopped):
            break
        obj_terms, mult, slack = tiebroken(st)
        if prog is not None:
            prog.begin_stage(prog.prefix + st.name, st.sense, st.scale * mult)
        limit = left if i == len(stages) - 1 else left * params.tier_share
        expr = m.wsum(st.terms)
        current = best_start(st, current)
        hinted = sum(c * current.get(v, 0) for v, c in st.terms)
        if st.sense == "max" and hinted >= sum(c for _, c in st.terms if c > 0):
            # The hint already places every job that counts here: optimal
            # without a solve (saves a presolve of the whole model).
            st.status, st.value, st.bound = "optimal", hinted / st.scale, hinted / st.scale
            if prog is not None:
                prog.end_stage(prog.prefix + st.name, st.status, st.value, st.bound)
            if i < len(stages) - 1:
                m.add(expr >= hinted)
            continue
        (m.maximize if st.sense == "max" else m.minimize)(m.wsum(obj_terms) if mult > 1 else expr)
        drop = st.drop if scope is not None else []
        m.hint(_without(current, scope, x, drop) if drop else current)
        undo = m.fix_to_zero([x.placed[j] for j in drop]) if drop else None
        t0 = time.perf_counter()
        try:
            status = m.solve(limit)
        finally:
            if undo is not None:
                undo()
        st.seconds = time.perf_counter() - t0
        st.status = status
        if status in ("optimal", "feasible"):
            solved = {v: m.value(v) for v in all_vars}
            achieved = int(round(m.objective_value()))
            st.bound = float(m.best_bound()) / st.scale
            if mult > 1:  # tie-broken (tiebroken): the tier's own value and bound
                achieved = val(solved, st.terms)
                st.bound = math.floor((float(m.best_bound()) + slack) / mult + 1e-9) / st.scale
            if drop and refill is not None and i < len(stages) - 1:
                solved = refill(solved)
            sign = 1 if st.sense == "max" else -1
            if sign * val(solved, st.terms) >= sign * hinted:
                current = solved
            else:  # worse than its start (e.g. stopped early): keep the start
                achieved = hinted
        else:
            achieved = sum(c * current.get(v, 0) for v, c in st.terms)
            st.bound = None
        st.value = achieved / st.scale
        if prog is not None:
            prog.end_stage(prog.prefix + st.name, st.status, st.value, st.bound)
        if i < len(stages) - 1 and st.terms:
            fixed.append((st.terms, st.sense, achieved))
            if st.sense == "max":
                m.add(expr >= achieved)
            else:
                m.add(expr <= achieved)
    return current


def bound_of(problem: Problem, stages: list[Stage]) -> dict[str, Any] | None:
    """The plan's ``bound`` from the stages' proven bounds (real units).

    Lexicographic: ``{"placed_value_by_priority": {tier: upper bound},
    "cost": lower bound}``; carbon mode adds ``"carbon_kg": lower bound``.
    A stage that did not report a bound counts with its trivial bound.
    Weighted: ``{"objective": upper bound}``.
    """
    if problem.objective.mode == "weighted":
        st = next((s for s in stages if s.name == "weighted"), None)
        return None if st is None else {"objective": _bound_or_trivial(st)}
    tiers = {str(s.tier): _bound_or_trivial(s) for s in stages if s.tier is not None}
    out: dict[str, Any] = {"placed_value_by_priority": tiers}
    moves = next((s for s in stages if s.name == "moves"), None)
    if moves is not None:
        out["move_cost"] = float(max(0.0, _bound_or_trivial(moves)))  # move costs are >= 0
    carbon = next((s for s in stages if s.name == "carbon"), None)
    if carbon is not None:
        b = _bound_or_trivial(carbon)
        out["carbon_kg"] = float(max(0.0, b))  # carbon intensities are >= 0
    cost = next((s for s in stages if s.name == "cost"), None)
    if cost is not None:
        b = _bound_or_trivial(cost)
        out["cost"] = float(max(0.0, b) if b > -1e-9 else b)
    return out


def _bound_or_trivial(st: Stage) -> float:
    """The stage's proven bound, or, for a stage that timed out or never ran,
    the bound implied by its terms alone (every positive term at 1 for a
    maximisation, every negative one for a minimisation), so that a plan's
    gap never hides a stage without a proof."""
    # Widened by the rounding error: a bound of the rounded objective is a
    # bound of the real one only up to it (claims.rounding_error).
    if st.bound is not None:
        return float(st.bound) + (st.err if st.sense == "max" else -st.err)
    if st.sense == "max":
        return float(sum(c for _, c in st.terms if c > 0)) / st.scale + st.err
    return float(sum(c for _, c in st.terms if c < 0)) / st.scale - st.err


def gap_of(problem: Problem, metrics: dict[str, Any], bound: dict[str, Any] | None) -> float | None:
    """Largest relative gap between a plan's metrics and a bound (0 = proven)."""
    gaps = gaps_of(problem, metrics, bound)
    if not gaps:
        return None
    flat = list(gaps.get("placed_value_by_priority", {}).values()) + [
        g for k, g in gaps.items() if k != "placed_value_by_priority"]
    known = [g for g in flat if g is not None]
    return max(known) if len(known) == len(flat) and known else None


def gaps_of(problem: Problem, metrics: dict[str, Any],
            bound: dict[str, Any] | None) -> dict[str, Any] | None:
    """The plan's ``gaps`` (PLAN.md): the relative gap of every bounded entry.

    Same keys as ``bound``: ``{"placed_value_by_priority": {tier: gap},
    "cost": gap}`` (lexicographic) or ``{"objective": gap}`` (weighted);
    0 where the plan reaches the bound, None for a non-finite gap.
    """
    if not bound:
        return None

    def rel(a: float, b: float) -> float | None:
        den = max(abs(a), abs(b))
        g = 0.0 if den < 1e-12 else max(0.0, abs(a - b) / den)
        return 0.0 if g < 1e-9 else (g if math.isfinite(g) else None)

    out: dict[str, Any] = {}
    if "objective" in bound:
        out["objective"] = rel(metrics["placed_value"] - metrics["cost"], bound["objective"])
    tiers = {}
    for tier, ub in bound.get("placed_value_by_priority", {}).items():
        got = metrics["placed_value_by_priority"].get(tier, 0.0)
        tiers[tier] = rel(got, max(ub, got))
    if tiers:
        out["placed_value_by_priority"] = tiers
    if "move_cost" in bound:
        out["move_cost"] = rel(metrics["move_cost"], min(bound["move_cost"], metrics["move_cost"]))
    if "carbon_kg" in bound:
        out["carbon_kg"] = rel(metrics["carbon_kg"], min(bound["carbon_kg"], metrics["carbon_kg"]))
    if "cost" in bound:
        out["cost"] = rel(metrics["cost"], min(bound["cost"], metrics["cost"]))
    return out or None
