"""``solve()``: the one entry point. Always returns a valid plan.

Every plan a solver produces goes through :func:`allocopt.validate.validate`
before it is returned. When a back-end is unavailable, fails, finds nothing
or returns a plan the validator rejects, the greedy plan is returned instead
and the plan's ``fallback`` says why. The better of the back-end's and the
greedy plan is always returned.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import progress
from .errors import SolverError
from .greedy import explain_unplaced, run_greedy
from .params import SolveParams
from .plan import Plan, SolveStatus, Unplaced
from .prepared import Prepared
from .progress import ProgressEvent
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
    import allocopt.formulations.solve_model  # noqa: F401 - registers cpsat
    import allocopt.formulations.solve_pulp  # noqa: F401 - registers pulp / pulp-highs

    try:
        import allocopt.benchmarks.baselines  # noqa: F401 - registers the baselines
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
    on_progress: Callable[[ProgressEvent], Any] | None = None,
    previous: Plan | None = None,
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
        LP-relaxation bound (:func:`allocopt.formulations.lp_bound.lp_bounds`, with
        the plan as reference), merged with the solver's own bound (the
        tighter of the two per entry), and the gap recomputed. Computing it
        takes up to another
        ``time_limit`` seconds. ``None`` (default): solver bounds only.
    on_progress
        Called with a :class:`allocopt.progress.ProgressEvent` as the solve
        advances (greedy plan, each stage's start, improving solutions and
        end, ``done``). Returning ``False`` or calling ``event.stop()`` stops
        the solve; so does :func:`allocopt.progress.stop_all`. A stopped
        solve returns the best valid plan so far with ``interrupted=True``.
    previous
        The previous plan of a re-planning service: each job's ``planned``
        placement is taken from it (:func:`allocopt.replan.with_previous`);
        moves are then counted against it and priced by ``move_cost``.

    Returns
    -------
    Plan
        Valid by :func:`allocopt.validate.validate`; ``status`` is
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
    with progress.activate(progress.Progress(on_progress, t0)) as prog:
        plan = _solve(problem, solver, time_limit, seed, workers, params, bound, t0, prog,
                      previous)
        if prog.stopped:
            plan = plan.replace(interrupted=True)
        prog.emit("done", "end", plan.metrics.get("cost"), None, metrics=plan.metrics,
                  status=str(plan.status))
        return plan


def _solve(problem: Problem, solver: str, time_limit: float | None, seed: int | None,
           workers: int | None, params: SolveParams | None, bound: str | None, t0: float,
           prog: progress.Progress, previous: Plan | None = None) -> Plan:
    params = (params or SolveParams()).checked()  # range-checked, also when given whole
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
    if previous is not None:
        from .replan import with_previous

        problem = with_previous(problem, previous)
    prep = Prepared(problem)

    def finish(plan: Plan) -> Plan:
        # No proof: neither "optimal" nor a zero gap (an infeasible plan can be proven).
        if (bound == "lp" and plan.status != SolveStatus.OPTIMAL and plan.gap != 0.0
                and not prog.stopped):
            plan = _with_lp_bound(problem, prep, plan, params.time_limit)
        return _finish(_with_gaps(problem, _sound_bound(problem, plan)), t0)

    greedy_plan = _checked_greedy(
        problem, prep, t0 + max(GREEDY_SHARE * params.time_limit, GREEDY_MIN_S))
    prog.emit("greedy", "end", greedy_plan.metrics.get("cost"), None,
              metrics=greedy_plan.metrics, status=str(greedy_plan.status))
    # Re-planning with an exact solver: the plan keeping the previous
    # placements, returned at once when proven optimal, or when nothing
    # changed (the previous plan's own metrics, and the plain greedy pass,
    # which keeps every placement first, adds nothing on top of it).
    kept = (_kept(problem, prep, solver)
            if info.kind == "exact" and info.available() else None)
    if kept is not None and kept.status == SolveStatus.OPTIMAL:
        return finish(kept)
    from .replan import unchanged

    if kept is not None and previous is not None and unchanged(previous, kept, greedy_plan):
        why = {u.job: u.reason for u in previous.unplaced}
        return finish(kept.replace(unplaced=tuple(
            Unplaced(u.job, why.get(u.job, u.reason)) for u in kept.unplaced)))
    if info.fn is None or (info.kind == "exact" and info.available()):
        # The portfolio start (optimizer/portfolio.py): the best of the cheap
        # planners seeds the search and is the fallback; greedy runs the fast part.
        from .portfolio import FAST_MEMBERS, portfolio_start

        fast = info.fn is None
        prog.emit("portfolio", "start")
        port = portfolio_start(problem, prep, params, greedy_plan, deadline,
                               members=FAST_MEMBERS if fast else None,
                               share=0.5 if fast else None)
        greedy_plan = port.plan.replace(seeded_by=port.seeded_by, solver="greedy")
        prog.emit("portfolio", "end", greedy_plan.metrics.get("cost"), None,
                  metrics=greedy_plan.metrics, status=str(greedy_plan.status))
        if fast:
            return finish(greedy_plan)
    if info.fn is None:
        return finish(greedy_plan)
    if not info.available():
        return finish(greedy_plan.replace(fallback=f"solver {solver!r} is not installed"))
    try:
        # Re-planning: leave a little time to undo moves that do not pay.
        reserve = min(REVERT_RESERVE_S, 0.1 * params.time_limit) if kept is not None else 0.0
        plan = _run_planner(info.fn, (problem, prep, params, greedy_plan, deadline - reserve),
                            prog)
        if plan is None:  # stopped while the planner could not stop (building a model)
            plan = prog.incumbent  # its best plan so far, if it published one
        if plan is None:
            return finish(greedy_plan.replace(
                fallback=f"{solver} was interrupted before it had a plan"))
    except Exception as e:  # any back-end failure degrades to the greedy plan
        log.warning("solver %s failed: %s", solver, traceback.format_exc())
        return finish(greedy_plan.replace(fallback=f"{solver} failed: {type(e).__name__}: "
                                                   f"{_short(str(e))}"))
    plan = plan.replace(metrics=compute_metrics(problem, plan.assignments))
    if (info.kind == "exact" and plan.unplaced and plan.status != SolveStatus.OPTIMAL
            and problem.objective.mode != "weighted"):
        plan = _fill_on_top(problem, prep, plan, deadline, params.time_limit)
    if kept is not None and plan.status != SolveStatus.OPTIMAL:
        from .replan import revert_moves  # re-planning: undo moves that do not pay

        plan = revert_moves(problem, prep, plan, deadline)
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
    if kept is not None and not better(problem, plan.metrics, kept.metrics):
        # Re-planning: nothing better than the previous placements: keep them.
        plan = kept.replace(status=plan.status, bound=plan.bound,
                            gap=_gap_to(problem, kept, plan.bound))
    if plan.unplaced and time.perf_counter() < deadline:
        # Explaining re-tries every unplaced job: past the time limit the
        # planner's own reasons stand.
        plan = explain_unplaced(problem, plan, prep)
    return finish(plan.replace(seeded_by=greedy_plan.seeded_by))


#: Seconds ``solve`` waits for a stopped planner before returning the greedy
#: plan (a planner building a model notices the stop only when it is built).
STOP_GRACE_S = 1.0


def _run_planner(fn: PlannerFn, args: tuple, prog: progress.Progress) -> Plan | None:
    """``fn(*args)``; with progress reporting on the main thread, in a worker
    thread so that a stop (Ctrl-C, a callback) returns within
    :data:`STOP_GRACE_S` even while the planner is busy: None then (the
    worker sees the stop at its next stage and ends by itself)."""
    if prog.callback is None or threading.current_thread() is not threading.main_thread():
        return fn(*args)
    ctx = contextvars.copy_context()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["plan"] = ctx.run(fn, *args)
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e

    worker = threading.Thread(target=run, name="allocopt-planner", daemon=True)
    worker.start()
    stop_seen: float | None = None
    while worker.is_alive():
        worker.join(0.05)
        if prog.stopped and worker.is_alive():
            stop_seen = stop_seen or time.perf_counter()
            if time.perf_counter() - stop_seen > STOP_GRACE_S:
                log.info("planner still busy %.1fs after the stop; returning the greedy plan",
                         STOP_GRACE_S)
                return None
    if "error" in box:
        raise box["error"]
    return box["plan"]


def _short(text: str, limit: int = 300) -> str:
    """One line of at most ``limit`` characters (an exception's text can be a
    whole model expression)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: Share of the time limit after which the greedy pass stops trying jobs
#: that are not required (``run_greedy(deadline=...)``), but never before
#: GREEDY_MIN_S seconds: small problems always get their full greedy plan.
GREEDY_SHARE = 0.8
GREEDY_MIN_S = 1.0


#: Seconds of the time limit (at most 10 % of it) kept from the solver for
#: :func:`allocopt.replan.revert_moves` when re-planning.
REVERT_RESERVE_S = 3.0


#: Seconds past the deadline the final fill may take, at most (and at most
#: FILL_GRACE_SHARE of the time limit): placing jobs on top is cheap and a
#: search that used its whole limit can leave jobs that fit as they are.
FILL_GRACE_S = 1.0
FILL_GRACE_SHARE = 0.02


def _fill_on_top(problem: Problem, prep: Prepared, plan: Plan, deadline: float,
                 time_limit: float) -> Plan:
    """An exact solver's plan with the unplaced jobs that fit as it stands
    placed on top (lexicographic and carbon modes: a placed job with value
    only adds tier value and moves nothing), or the plan itself. Its status,
    and bound carry over (a bound stays a bound), the gap is recomputed."""
    from .repair import repair

    until = deadline + min(FILL_GRACE_S, FILL_GRACE_SHARE * time_limit)
    filled = repair(problem, plan, prep, deadline=until, eject=False)
    if filled is plan or not better(problem, filled.metrics, plan.metrics):
        return plan
    log.info("placed %d more job(s) that fit on top of the solver's plan",
             len(filled.assignments) - len(plan.assignments))
    gap = _gap_to(problem, filled, plan.bound) if plan.bound else plan.gap
    return filled.replace(status=plan.status, bound=plan.bound, gap=gap,
                          solver=plan.solver, fallback=plan.fallback)


def _kept(problem: Problem, prep: Prepared, solver: str) -> Plan | None:
    """Re-planning: the valid plan keeping the previous placements, marked
    ``optimal`` when :func:`allocopt.replan.keep_is_optimal` proves that no
    plan beats it (then no solver needs to run); None without one."""
    from .replan import keep_is_optimal, kept_plan

    kept = kept_plan(problem, prep, solver)
    if kept is None or not is_valid(kept, validate(problem, kept)):
        return None
    if kept.status == SolveStatus.FEASIBLE and keep_is_optimal(problem, prep, kept):
        return kept.replace(status=SolveStatus.OPTIMAL, gap=0.0)
    return kept


def _checked_greedy(problem: Problem, prep: Prepared, deadline: float | None = None) -> Plan:
    plan = run_greedy(problem, prep=prep, deadline=deadline)
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
    from allocopt.formulations.stages import gap_of

    return gap_of(problem, plan.metrics, bound)


def _with_lp_bound(problem: Problem, prep: Prepared, plan: Plan, time_limit: float) -> Plan:
    """``plan`` with the LP-relaxation bound and its gap (``bound="lp"``)."""
    from allocopt.formulations.lp_bound import lp_bounds

    try:
        lp = lp_bounds(problem, prep, time_limit, plan=plan)
    except Exception:  # a bound is extra information: never lose the plan over it
        log.warning("LP bound failed: %s", traceback.format_exc())
        return plan
    if not lp:
        return plan
    from .replan import with_fixed_part

    # The LP's cost has no move terms (a weaker, still valid bound): add
    # only the running jobs' part.
    lp = with_fixed_part(problem, prep, lp, range(prep.J))
    merged = _tighter(lp, plan.bound)
    return plan.replace(bound=merged, gap=_gap_to(problem, plan, merged))


def _sound_bound(problem: Problem, plan: Plan) -> Plan:
    """``plan`` without the bound entries its own metrics contradict.

    A bound can reach a plan it was not computed for (the portfolio plan
    returned instead of the solver's, the previous placements kept), and a
    lexicographic cost bound only holds for plans at the tier values it was
    computed at: the claims check (:func:`optimizer.claims.check_claims`)
    says when it does not, and the cost entry, then the whole bound, is
    dropped rather than returning a plan whose claims are false."""
    from .claims import check_claims

    def contradicted(bound: dict[str, Any] | None) -> bool:
        trial = plan.replace(bound=bound, gap=_gap_to(problem, plan, bound))
        return any(rule == "bound" for rule, _ in check_claims(problem, trial, plan.metrics))

    if not plan.bound or not contradicted(plan.bound):
        return plan
    log.warning("bound %s contradicts the plan's metrics; dropped", plan.bound)
    bound: dict[str, Any] | None = {k: v for k, v in plan.bound.items() if k != "cost"}
    if not bound or contradicted(bound):
        bound = None
    status = SolveStatus.FEASIBLE if plan.status == SolveStatus.OPTIMAL else plan.status
    return plan.replace(bound=bound, gap=_gap_to(problem, plan, bound), status=status)


def _with_gaps(problem: Problem, plan: Plan) -> Plan:
    """``plan`` with its per-entry ``gaps`` (0 everywhere for a proven plan)."""
    from allocopt.formulations.stages import gaps_of

    gaps = gaps_of(problem, plan.metrics, plan.bound)
    if gaps is not None and plan.gap == 0.0:
        gaps = {k: ({t: 0.0 for t in v} if isinstance(v, dict) else 0.0) for k, v in gaps.items()}
    return plan.replace(gaps=gaps)


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
