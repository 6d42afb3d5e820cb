"""``solve()``: the one entry point. Always returns a valid plan.

Every plan a solver produces goes through :func:`optimizer.validate.validate`
before it is returned. When a back-end is unavailable, fails, finds nothing
or returns a plan the validator rejects, the greedy plan is returned instead
and the plan's ``fallback`` says why. The better of the back-end's and the
greedy plan is always returned.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import SolverError
from .greedy import explain_unplaced, run_greedy
from .params import SolveParams
from .plan import Plan, SolveStatus, Unplaced
from .prepared import Prepared
from .problem import Problem
from .validate import better, compute_metrics, is_valid, validate

log = logging.getLogger(__name__)

#: A planner: (problem, prepared data, params, greedy plan, deadline) -> Plan.
PlannerFn = Callable[[Problem, Prepared, SolveParams, Plan, float], Plan]


@dataclass(frozen=True)
class SolverInfo:
    name: str
    description: str
    fn: PlannerFn | None  # None: the greedy planner itself
    kind: str  # "exact", "heuristic" or "baseline"
    available: Callable[[], bool] = lambda: True


_SOLVERS: dict[str, SolverInfo] = {}


def register_solver(info: SolverInfo) -> None:
    """Make a planner selectable as ``solve(..., solver=info.name)``."""
    _SOLVERS[info.name] = info


def solvers() -> dict[str, SolverInfo]:
    """All registered planners by name (exact back-ends, greedy, baselines)."""
    _load_plugins()
    return dict(_SOLVERS)


def _load_plugins() -> None:
    if getattr(_load_plugins, "done", False):
        return
    _load_plugins.done = True  # type: ignore[attr-defined]
    import formulations.solve_model  # noqa: F401 - registers cpsat
    import formulations.solve_pulp  # noqa: F401 - registers pulp / pulp-highs

    try:
        import benchmarks.baselines  # noqa: F401 - registers the baselines
    except ImportError:  # pragma: no cover - benchmarks ship with the package
        log.debug("baselines not available", exc_info=True)


register_solver(SolverInfo("greedy", "energy-aware greedy list scheduler (fast, always valid)",
                           None, "heuristic"))


def solve(
    problem: Problem,
    *,
    solver: str = "cpsat",
    time_limit: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
    params: SolveParams | None = None,
    bound: str | None = None,
) -> Plan:
    """Plan ``problem`` with the named solver; always returns a valid plan.

    Parameters
    ----------
    problem
        A validated problem.
    solver
        A name from :func:`solvers` (``cpsat``, ``greedy``, ``pulp``, a baseline...).
    time_limit, seed, workers
        Override the same fields of ``params``.
    params
        Solver parameters (defaults: :class:`SolveParams`).
    bound
        ``"lp"``: when the returned plan has no proof (status not
        ``optimal`` and gap not 0), attach the
        LP-relaxation bound (:func:`formulations.lp_bound.lp_bounds`, with
        the plan as reference), merged with the solver's own bound (the
        tighter of the two per entry), and the gap recomputed. Computing it
        takes up to another
        ``time_limit`` seconds. ``None`` (default): solver bounds only.

    Returns
    -------
    Plan
        Valid by :func:`optimizer.validate.validate`; ``status`` is
        ``infeasible`` when a required job cannot be placed.

    Examples
    --------
    >>> from optimizer import Model, solve
    >>> m = Model(slots=4, resources=["gpu"])
    >>> m.add_region("eu")
    >>> m.add_node("n", region="eu", capacity={"gpu": 8})
    >>> m.add_job("a", demand={"gpu": 8}, duration=2)
    >>> solve(m.data(), solver="greedy").metrics["placed_jobs"]
    1
    """
    t0 = time.perf_counter()
    params = params or SolveParams()
    overrides = {k: v for k, v in (("time_limit", time_limit), ("seed", seed),
                                   ("workers", workers)) if v is not None}
    if overrides:
        params = SolveParams(**{**params.__dict__, **overrides}).checked()
    deadline = t0 + params.time_limit
    table = solvers()
    if solver not in table:
        raise SolverError(f"unknown solver {solver!r}; known: {', '.join(sorted(table))}")
    if bound not in (None, "lp"):
        raise SolverError(f"unknown bound {bound!r}; known: lp")
    info = table[solver]
    prep = Prepared(problem)

    def finish(plan: Plan) -> Plan:
        # No proof: neither "optimal" nor a zero gap (an infeasible plan can be proven).
        if bound == "lp" and plan.status != SolveStatus.OPTIMAL and plan.gap != 0.0:
            plan = _with_lp_bound(problem, prep, plan, params.time_limit)
        return _finish(plan, t0)

    greedy_plan = _checked_greedy(problem, prep)
    if info.fn is None or (info.kind == "exact" and info.available()):
        # The portfolio start (optimizer/portfolio.py): the best of the cheap
        # planners seeds the search and is the fallback; greedy runs the fast part.
        from .portfolio import FAST_MEMBERS, portfolio_start

        fast = info.fn is None
        port = portfolio_start(problem, prep, params, greedy_plan, deadline,
                               members=FAST_MEMBERS if fast else None,
                               share=0.5 if fast else None)
        greedy_plan = port.plan.replace(seeded_by=port.seeded_by, solver="greedy")
        if fast:
            return finish(greedy_plan)
    if info.fn is None:
        return finish(greedy_plan)
    if not info.available():
        return finish(greedy_plan.replace(fallback=f"solver {solver!r} is not installed"))
    try:
        plan = info.fn(problem, prep, params, greedy_plan, deadline)
    except Exception as e:  # any back-end failure degrades to the greedy plan
        log.warning("solver %s failed: %s", solver, traceback.format_exc())
        return finish(greedy_plan.replace(fallback=f"{solver} failed: {type(e).__name__}: {e}"))
    plan = plan.replace(metrics=compute_metrics(problem, plan.assignments))
    plan = _status_for_required(problem, prep, plan)
    violations = validate(problem, plan)
    if not is_valid(plan, violations):
        msg = "; ".join(str(v) for v in violations[:3])
        log.error("solver %s returned an invalid plan: %s", solver, msg)
        return finish(greedy_plan.replace(
            fallback=f"{solver} returned a plan the validator rejects ({msg})"))
    if info.kind == "exact" and better(problem, greedy_plan.metrics, plan.metrics):
        return finish(greedy_plan.replace(
            fallback=f"{solver} found nothing better than the greedy plan within the limits",
            bound=plan.bound, gap=_gap_to(problem, greedy_plan, plan.bound)))
    if plan.unplaced:
        plan = explain_unplaced(problem, plan, prep)
    return finish(plan.replace(seeded_by=greedy_plan.seeded_by))


def _checked_greedy(problem: Problem, prep: Prepared) -> Plan:
    plan = run_greedy(problem, prep=prep)
    violations = validate(problem, plan)
    if is_valid(plan, violations):
        return plan
    # A greedy bug must never reach a user as an invalid plan: place nothing.
    msg = "; ".join(str(v) for v in violations[:3])
    log.error("greedy produced an invalid plan: %s", msg)
    empty = Plan(
        problem=problem.name, status=SolveStatus.UNKNOWN, solver="greedy", assignments=(),
        unplaced=tuple(Unplaced(j.id, "internal error: the greedy plan failed validation")
                       for j in problem.jobs),
        fallback=f"greedy plan failed validation ({msg}); nothing placed",
    )
    return empty.replace(metrics=compute_metrics(problem, ()))


def _status_for_required(problem: Problem, prep: Prepared, plan: Plan) -> Plan:
    placed = plan.placed_ids
    if any(j.required and j.id not in placed for j in problem.jobs):
        return plan.replace(status=SolveStatus.INFEASIBLE)
    return plan


def _gap_to(problem: Problem, plan: Plan, bound: dict | None) -> float | None:
    from formulations.stages import gap_of

    return gap_of(problem, plan.metrics, bound)


def _with_lp_bound(problem: Problem, prep: Prepared, plan: Plan, time_limit: float) -> Plan:
    """``plan`` with the LP-relaxation bound and its gap (``bound="lp"``)."""
    from formulations.lp_bound import lp_bounds

    try:
        lp = lp_bounds(problem, prep, time_limit, plan=plan)
    except Exception:  # a bound is extra information: never lose the plan over it
        log.warning("LP bound failed: %s", traceback.format_exc())
        return plan
    if not lp:
        return plan
    merged = _tighter(lp, plan.bound)
    return plan.replace(bound=merged, gap=_gap_to(problem, plan, merged))


def _tighter(lp: dict[str, Any], own: dict[str, Any] | None) -> dict[str, Any]:
    """Per entry, the tighter of two valid bounds (lowest upper bound on a
    tier's value or the weighted objective, highest lower bound on cost)."""
    if not own:
        return lp
    out: dict[str, Any] = {}
    tiers = {**own.get("placed_value_by_priority", {})}
    for t, ub in lp.get("placed_value_by_priority", {}).items():
        tiers[t] = min(ub, tiers[t]) if t in tiers else ub
    if tiers:
        out["placed_value_by_priority"] = tiers
    costs = [b["cost"] for b in (lp, own) if "cost" in b]
    if costs:
        out["cost"] = max(costs)
    objs = [b["objective"] for b in (lp, own) if "objective" in b]
    if objs:
        out["objective"] = min(objs)
    return out


def _finish(plan: Plan, t0: float) -> Plan:
    return plan.replace(solve_seconds=time.perf_counter() - t0)
