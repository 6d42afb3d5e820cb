"""Re-planning: the service loop around :func:`allocopt.solve` (PROBLEM.md, *Re-planning*).

A planning service calls the planner again and again. Between calls, jobs
start and end, nodes fail, new jobs arrive and forecasts change. This module
carries the state from one call to the next:

* :func:`with_previous` fills the jobs' ``planned`` placements from the
  previous plan (``solve(problem, previous=plan)``, ``allocopt solve
  --previous``);
* :func:`advance` returns the problem ``k`` slots later: jobs that ended are
  dropped (and removed from ``after`` lists), jobs that started are
  ``running``, the others ``planned``; series and windows are shifted;
* :func:`diff` compares two plans: moved, kept, added and dropped jobs and
  the change of every metric;
* :func:`preplace` is the greedy engine's hook: running jobs first, then the
  planned placements that are still valid, before anything else is placed;
* :func:`kept_plan` and :func:`keep_is_optimal` are :func:`allocopt.solve`'s
  fast path: a re-plan that cannot beat the previous placements returns them.

Decisions where PROBLEM.md is silent (also in docs/PROBLEM.md):

* ``previous``: jobs of the plan that are not in the problem are ignored
  (finished or cancelled); jobs of the problem that are not in the plan, or
  that it left unplaced, get no ``planned`` (they are new); running jobs keep
  their ``running`` state; a ``planned`` already in the problem is replaced.
  The plan must be for a horizon of the same length (its ends fit in it).
* ``advance`` keeps the horizon length: every series (prices, carbon, power
  caps) is shifted left by ``k`` and padded with its last value, to be
  overwritten by the next forecast; ``unavailable`` windows are shifted and
  clipped at 0 (windows that ended are dropped); ``release``, ``deadline``
  and ``due`` are shifted and clamped at 0 (a job whose deadline has passed
  stays in the problem and will be unplaced with that reason).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ProblemError
from .plan import Plan
from .problem import Problem

if TYPE_CHECKING:
    from .greedy import Scheduler
    from .prepared import Prepared


# ---------------------------------------------------------------------------
# The greedy engine's hook
# ---------------------------------------------------------------------------


def preplace(sched: Scheduler, order: Iterable[int]) -> None:
    """Place the running jobs, then keep every planned placement that is
    still valid (in ``order``, a topological order), into ``sched``."""
    p = sched.prep
    for j, nodes in p.running.items():
        sched.place(j, 0, nodes)
    for j in order:
        got = p.planned.get(j)
        if got is not None and sched.start[j] < 0 and fits(sched, j, *got):
            sched.place(j, *got)


def keep_or_try(sched: Scheduler, j: int) -> tuple[int, tuple[int, ...]] | str:
    """Job ``j``'s planned placement if it still fits, else the greedy choice
    (:meth:`Scheduler.try_job`): the option, or the reason there is none."""
    got = sched.prep.planned.get(j)
    if got is not None and fits(sched, j, *got):
        return got
    return sched.try_job(j)


def fits(sched: Scheduler, j: int, start: int, nodes: tuple[int, ...]) -> bool:
    """True if job ``j`` can be placed at ``start`` on ``nodes`` in ``sched``
    without breaking a hard rule (PROBLEM.md 1-5 and 7)."""
    p = sched.prep
    if j in p.static_reasons or j in p.running:
        return False
    d = int(p.duration[j])
    allowed = sched.starts_for(j)
    if len(allowed) == 0 or not allowed[0] <= start <= allowed[-1]:
        return False
    if any(sched.start[q] < 0 for q in p.preds[j]):
        return False
    if any(sched.start[q] >= 0 and sched.start[q] < start + d for q in p.succs[j]):
        return False
    arr = np.array(nodes, dtype=int)
    classes = p.node_class[arr]
    if not np.isin(classes, p.eligible_classes(j)).all():
        return False
    if not p.window_free(np.unique(classes), d, np.array([start])).all():
        return False
    if not (sched.free[arr, start:start + d] >= p.demand[j] - 1e-9).all():
        return False
    job = p.jobs[j]
    regions = p.node_region[arr]
    distinct = np.unique(regions)
    if len(distinct) < job.min_regions:
        return False
    if job.max_per_region is not None and np.bincount(regions).max() > job.max_per_region:
        return False
    if job.max_latency_ms is not None and len(distinct) > 1:
        lat = p.latency[np.ix_(distinct, distinct)]
        if (lat > job.max_latency_ms + 1e-9).any():
            return False
    power = p.class_power(j)[classes]
    return bool(sched._regions_ok(j, start, arr, power, ~sched.active[arr]))


# ---------------------------------------------------------------------------
# The previous plan
# ---------------------------------------------------------------------------


def with_previous(problem: Problem, previous: Plan) -> Problem:
    """``problem`` with each job's ``planned`` taken from ``previous``
    (see the module docstring for jobs missing on either side).

    Raises
    ------
    ProblemError
        If the previous plan does not fit the problem's horizon.
    """
    H = problem.H
    errors = []
    by_job = {a.job: a for a in previous.assignments}
    jobs = []
    for job in problem.jobs:
        a = by_job.get(job.id)
        data = job.model_dump(mode="python", exclude_defaults=True)
        if job.running is None:
            data.pop("planned", None)
            if a is not None:
                if a.end > H:
                    errors.append(f"previous plan: job {job.id!r} ends at {a.end}, after the "
                                  f"horizon of {H} slots (a plan of another horizon?)")
                elif a.start >= 0:
                    data["planned"] = {"start": a.start, "nodes": list(a.nodes)}
        jobs.append(data)
    if errors:
        raise ProblemError(errors)
    return problem.replace(jobs=jobs)


def revert_moves(problem: Problem, prep: Prepared, plan: Plan, deadline: float) -> Plan:
    """``plan`` with moved planned jobs put back where they were, one at a
    time, wherever that is still valid and lowers ``cost`` (a job that goes
    back stays placed, so no tier loses value). A local search after a
    solver whose cost stage ran out of time; stops at ``deadline``."""
    import time

    from .greedy import schedule_of
    from .validate import better, compute_metrics

    if not (prep.move_cost > 0).any() or plan.metrics.get("moves", 0) == 0:
        return plan
    cur = {a.job: a for a in plan.assignments}
    moved = [j for j, (s0, nodes0) in prep.planned.items()
             if prep.move_cost[j] > 0 and prep.job_ids[j] in cur
             and (cur[prep.job_ids[j]].start, tuple(sorted(prep.node_index[n] for n in
                  cur[prep.job_ids[j]].nodes))) != (s0, nodes0)]
    moved.sort(key=lambda j: (-prep.move_cost[j], j))
    best = plan
    for j in moved:
        if time.perf_counter() > deadline:
            break
        jid = prep.job_ids[j]
        others = [(prep.job_index[a.job], prep.internal_start(prep.job_index[a.job], a.start),
                   tuple(prep.node_index[n] for n in a.nodes))
                  for a in best.assignments if a.job != jid]
        sched = schedule_of(prep, others)
        if not fits(sched, j, *prep.planned[j]):
            continue
        s0, nodes0 = prep.planned[j]
        back = prep.assignment(j, s0, nodes0)
        assignments = tuple(back if a.job == jid else a for a in best.assignments)
        metrics = compute_metrics(problem, assignments)
        if better(problem, metrics, best.metrics):
            best = best.replace(assignments=assignments, metrics=metrics)
    return best


def kept_plan(problem: Problem, prep: Prepared, solver: str) -> Plan | None:
    """The plan that keeps every running job and every planned placement
    that can be kept together (greedily, in the greedy order), or None when
    the problem has no planned placement. Not validated here."""
    if not prep.planned:
        return None
    from .greedy import Scheduler, job_order, plan_from_schedule

    sched = Scheduler(prep)
    preplace(sched, job_order(prep))
    reasons = {j: prep.static_reasons.get(j, "not in the previous plan")
               for j in range(prep.J) if sched.start[j] < 0}
    return plan_from_schedule(problem, prep, sched, reasons, solver, 0.0)


def keep_is_optimal(problem: Problem, prep: Prepared, kept: Plan) -> bool:
    """True if no plan beats ``kept`` (lexicographic mode), proven cheaply.

    ``kept`` moves nothing. When it places every job that any plan can place
    (every tier at its most), a plan that differs moves at least one planned
    job, so it costs at least a lower bound of the cost without moves plus
    the smallest move cost; if ``kept`` costs no more than that, it is
    optimal. The lower bound: each placeable job at its cheapest start and
    node class (dynamic energy plus tardiness), the running jobs' nodes
    active, and every other node's activation cost where it is negative.
    """
    if problem.objective.mode != "lexicographic" or kept.metrics.get("moves", 1) != 0:
        return False
    p = prep
    if any(p.jobs[j].planned is not None and j not in p.planned for j in range(p.J)):
        return False  # a placement that cannot be kept: every plan moves it
    planned_ids = set(p.planned)
    placeable = [j for j in range(p.J) if j not in p.static_reasons and j not in p.running]
    if any(j not in planned_ids for j in placeable) or not planned_ids:
        return False
    lb = 0.0
    forced = np.zeros(p.N, dtype=bool)
    for j, nodes in p.running.items():
        forced[list(nodes)] = True
    for j in placeable:
        d = int(p.duration[j])
        starts = p.start_range(j)
        cls = p.eligible_classes(j)
        g = p.class_region[cls]
        P = p.class_power(j)[cls]
        dyn = P[:, None] * (p.cum_cost[g][:, starts + d] - p.cum_cost[g][:, starts])
        # R replicas at one start s cost at least R times the cheapest class at s.
        best = float((int(p.replicas[j]) * dyn.min(axis=0) + p.tardiness(j, starts)).min())
        # A job worth nothing may be left out of an optimal plan.
        lb += min(0.0, best) if p.value[j] <= 0 and not p.required[j] else best
    # Running jobs: their dynamic cost and their nodes' activation are fixed.
    for j, nodes in p.running.items():
        d = int(p.duration[j])
        P = p.class_power(j)
        for n in nodes:
            c = p.node_class[n]
            g = p.class_region[c]
            lb += P[c] * (p.cum_cost[g, d] - p.cum_cost[g, 0])
        job = p.jobs[j]
        if job.due is not None:
            lb += job.tardiness_penalty * max(0, job.running.since + job.duration - job.due)
    act = p.activation_cost
    lb += float(act[forced].sum()) + float(np.minimum(act[~forced], 0.0).sum())
    step = float(min(p.move_cost[j] for j in planned_ids))
    return kept.metrics["cost"] <= lb + step - 1e-9 * max(1.0, abs(lb))


def unchanged(previous: Plan, kept: Plan, greedy: Plan) -> bool:
    """True if a re-plan has nothing to act on: ``kept`` keeps every
    placement of ``previous``, its recomputed metrics are the ones
    ``previous`` reports (same tiers, cost and job counts: no new job, no new
    price), and the greedy planner cannot place one more job on top of it.
    :func:`allocopt.solve` then returns ``kept`` at once (status
    ``feasible``: this is no proof). To re-optimise anyway, solve
    ``with_previous(problem, previous)`` instead of passing ``previous``."""
    if kept.metrics.get("moves") != 0 or len(kept.assignments) != len(previous.assignments):
        return False
    if greedy.metrics.get("placed_jobs") != kept.metrics.get("placed_jobs"):
        return False
    old, new = previous.metrics, kept.metrics
    for key in ("placed_jobs", "unplaced_jobs"):
        if old.get(key) != new.get(key):
            return False
    tiers_old = old.get("placed_value_by_priority") or {}
    tiers_new = new.get("placed_value_by_priority") or {}
    if set(tiers_old) != set(tiers_new):
        return False
    pairs = [(tiers_old[t], tiers_new[t]) for t in tiers_new]
    pairs.append((old.get("cost"), new.get("cost")))
    return all(isinstance(a, (int, float)) and abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))
               for a, b in pairs)


def with_fixed_part(problem: Problem, prep: Prepared, bound: dict[str, Any] | None,
                    modelled_moves: Iterable[int] = ()) -> dict[str, Any] | None:
    """A model's ``bound`` plus what the model leaves out as constants.

    The models hold running jobs as fixed background: their value, their
    cost (energy in slots >= 0, their nodes' idle draw and node cost,
    tardiness) and the move cost of planned jobs whose move is not a model
    variable (``modelled_moves``: jobs with a ``moved`` variable) are the
    same in every plan, so they are added to the model's bound to make it a
    bound on the plan's metrics.
    """
    if bound is None or not (prep.running or (prep.move_cost > 0).any()):
        return bound
    running = [prep.assignment(j, 0, nodes) for j, nodes in prep.running.items()]
    from .validate import compute_metrics

    m = compute_metrics(problem, running)
    modelled = set(modelled_moves)
    const_cost = m["cost"] - m["move_cost"] + float(sum(
        prep.move_cost[j] for j in range(prep.J) if prep.move_cost[j] > 0 and j not in modelled))
    out = dict(bound)
    if "placed_value_by_priority" in out:
        vals = {str(prep.jobs[j].priority): 0.0 for j in prep.running}
        for j in prep.running:
            vals[str(prep.jobs[j].priority)] += float(prep.value[j])
        tiers = dict(out["placed_value_by_priority"])
        for t, v in vals.items():
            if t in tiers:
                tiers[t] = tiers[t] + v
        out["placed_value_by_priority"] = tiers
    if "cost" in out:
        out["cost"] = out["cost"] + const_cost
    if "move_cost" in out:  # objective.stability_tier: the unmodelled moves are constant
        out["move_cost"] = out["move_cost"] + float(sum(
            prep.move_cost[j] for j in range(prep.J) if prep.move_cost[j] > 0 and j not in modelled))
    if "objective" in out:
        out["objective"] = out["objective"] + m["placed_value"] - const_cost
    return out


# ---------------------------------------------------------------------------
# advance
# ---------------------------------------------------------------------------


def _shift_series(val: Any, k: int) -> Any:
    if isinstance(val, (list, tuple)):
        vals = list(val)
        return vals[k:] + [vals[-1]] * min(k, len(vals)) if vals else vals
    return val


def advance(problem: Problem, plan: Plan, slots: int) -> Problem:
    """The problem ``slots`` slots later, with ``plan`` carried out so far.

    Jobs whose plan ends at or before ``slots`` have finished: they are
    dropped, and removed from every ``after`` list. Jobs the plan started
    before ``slots`` are ``running`` (``since = start - slots``); the other
    placed jobs are ``planned`` (``start - slots``, same nodes); unplaced jobs
    stay as they are. Series and windows are shifted (module docstring).

    Raises
    ------
    ProblemError
        If ``slots`` is not in ``1 .. H`` or the plan is not valid for the problem.
    """
    from .validate import is_valid, validate

    H = problem.H
    if not isinstance(slots, int) or not 1 <= slots <= H:
        raise ProblemError([f"advance: slots must be an integer in 1 .. {H}, got {slots!r}"])
    violations = validate(problem, plan)
    if not is_valid(plan, violations):
        raise ProblemError([f"advance: the plan is not valid for the problem: {v}"
                            for v in violations[:10]])
    k = slots
    placed = {a.job: a for a in plan.assignments}
    ended = {jid for jid, a in placed.items() if a.end <= k}
    data = problem.model_dump(mode="python", exclude_defaults=True)
    for r in data["regions"]:
        for key in ("price_per_kwh", "carbon_g_per_kwh", "power_cap_kw"):
            if key in r:
                r[key] = _shift_series(r[key], k)
    for n in data["nodes"]:
        if "unavailable" in n:
            n["unavailable"] = [[max(0, a - k), b - k] for a, b in n["unavailable"] if b > k]
    jobs = []
    for job in data["jobs"]:
        jid = job["id"]
        if jid in ended:
            continue
        job.pop("planned", None)
        job["after"] = [q for q in job.get("after", []) if q not in ended]
        for key in ("release", "deadline", "due"):
            if job.get(key) is not None:
                job[key] = max(0, job[key] - k)
        a = placed.get(jid)
        if a is not None:
            if a.start < k:
                job["running"] = {"since": a.start - k, "nodes": list(a.nodes)}
            else:
                job.pop("running", None)
                job["planned"] = {"start": a.start - k, "nodes": list(a.nodes)}
        jobs.append(job)
    data["jobs"] = jobs
    return Problem.from_dict(_lists(data))


def _lists(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_lists(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------
# diff
# ---------------------------------------------------------------------------

#: Metrics compared by :func:`diff`, in PLAN.md's order.
DIFF_METRICS = ("placed_jobs", "unplaced_jobs", "placed_value", "energy_kwh", "energy_cost",
                "carbon_kg", "carbon_cost", "tardiness", "node_cost", "move_cost", "cost",
                "moves")


def diff(a: Plan, b: Plan, shift: int = 0) -> dict[str, Any]:
    """What changed from plan ``a`` to plan ``b``.

    ``kept``: placed in both at the same start on the same set of nodes;
    ``moved``: placed in both, at another start or on other nodes;
    ``added``: placed in ``b`` only; ``dropped``: placed in ``a`` only
    (unplaced in ``b`` or absent from it). With ``shift = k`` (``b`` is a
    plan of the problem :func:`advance` made ``k`` slots later), ``a``'s
    starts are read ``k`` slots earlier, and jobs of ``a`` that end by slot
    ``k`` are ``ended``, not dropped. ``metrics``: for each metric present in
    both, ``{"a", "b", "change"}`` (per-tier placed value as
    ``placed_value[<tier>]``).
    """
    ended = sorted(x.job for x in a.assignments if shift > 0 and x.end <= shift
                   and x.job not in {y.job for y in b.assignments})
    pa = {x.job: x for x in a.assignments if x.job not in set(ended)}
    pb = {x.job: x for x in b.assignments}
    kept, moved = [], []
    for jid in sorted(set(pa) & set(pb)):
        x, y = pa[jid], pb[jid]
        if x.start - shift == y.start and set(x.nodes) == set(y.nodes):
            kept.append(jid)
        else:
            moved.append({"job": jid, "from": {"start": x.start - shift, "nodes": list(x.nodes)},
                          "to": {"start": y.start, "nodes": list(y.nodes)}})
    metrics: dict[str, Any] = {}

    def put(name: str, va: Any, vb: Any) -> None:
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)):
            metrics[name] = {"a": va, "b": vb, "change": vb - va}

    ta = a.metrics.get("placed_value_by_priority", {}) or {}
    tb = b.metrics.get("placed_value_by_priority", {}) or {}
    for t in sorted(set(ta) | set(tb), key=lambda t: -int(t) if str(t).lstrip("-").isdigit() else 0):
        put(f"placed_value[{t}]", ta.get(t, 0.0), tb.get(t, 0.0))
    for name in DIFF_METRICS:
        put(name, a.metrics.get(name), b.metrics.get(name))
    return {
        "kept": kept,
        "moved": moved,
        "added": sorted(set(pb) - set(pa)),
        "dropped": sorted(set(pa) - set(pb)),
        "ended": ended,
        "metrics": metrics,
    }
