"""The exact back-ends as planners: full model, or neighbourhoods when too large.

``cpsat`` (default solver): if the model's estimated size fits
``SolveParams.max_model_terms`` the whole problem is one model solved stage
by stage; otherwise the greedy plan is improved by large-neighbourhood
search (LNS): repeatedly free a neighbourhood of jobs (one region and time
window, or the unplaced jobs of the top tiers with what blocks them), keep
everything else fixed as background, re-optimise it, and keep the result if
the whole plan got better. Every accepted plan is validated.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from allocopt import progress
from allocopt.greedy import effective_value, job_order, schedule_of
from allocopt.params import SolveParams
from allocopt.plan import Plan, SolveStatus, Unplaced
from allocopt.prepared import Prepared
from allocopt.replan import keep_or_try, with_fixed_part
from allocopt.problem import Problem
from allocopt.solve import SolverInfo, register_solver
from allocopt.validate import better, compute_metrics, is_valid, validate

from .alns import alns
from .backends import cpsat as cpsat_backend
from .budget import affordable
from .claims import trivial_bound
from .bound_worker import start_bound_worker
from .scope import Scope, full_scope, neighbourhood_scope
from .stages import bound_of, build, gap_of, make_stages, run_stages
from .variables import Variables

log = logging.getLogger(__name__)


def plan_arrays(prep: Prepared, plan: Plan) -> tuple[np.ndarray, dict[int, tuple[int, ...]]]:
    """(start per job, -1 if unplaced; nodes per placed job) of a plan."""
    start = np.full(prep.J, -1, dtype=int)
    nodes: dict[int, tuple[int, ...]] = {}
    for a in plan.assignments:
        j = prep.job_index[a.job]
        start[j] = prep.internal_start(j, a.start)
        nodes[j] = tuple(prep.node_index[n] for n in a.nodes)
    return start, nodes


def hint_values(scope: Scope, x: Variables, start: np.ndarray,
                nodes: dict[int, tuple[int, ...]]) -> dict[Any, int]:
    """A complete assignment of every model variable from a plan."""
    p = scope.prep
    h: dict[Any, int] = {}
    used: set[int] = set()
    for j in scope.jobs:
        s = int(start[j])
        on = s >= 0 and s in x.y[j] and all(n in x.a[j] for n in nodes.get(j, ()))
        h[x.placed[j]] = int(on)
        for t, v in x.y[j].items():
            h[v] = int(on and t == s)
        h[x.start[j]] = s if on else int(scope.starts[j][0])
        chosen = set(nodes.get(j, ())) if on else set()
        used |= chosen
        for n, v in x.a[j].items():
            h[v] = int(n in chosen)
        if j in x.q:
            for (k, t), v in x.q[j].items():
                cnt = sum(1 for n in x.groups[j][k].nodes if int(n) in chosen)
                h[v] = cnt if (on and t == s) else 0
        if j in x.r:
            regs = {int(p.node_region[n]) for n in chosen}
            for g, v in x.r[j].items():
                h[v] = int(g in regs)
    for n, v in x.active.items():
        h[v] = int(n in used)
    for j, v in x.moved.items():  # re-planning: kept = same start, same nodes
        h[v] = int(p.planned[j] != (int(start[j]), tuple(sorted(nodes.get(j, ())))))
    return h


def extract(scope: Scope, x: Variables, values: dict[Any, int], start: np.ndarray,
            nodes: dict[int, tuple[int, ...]]) -> tuple[np.ndarray, dict[int, tuple[int, ...]]]:
    """Merge the model's values for the free jobs into a copy of the plan."""
    start = start.copy()
    nodes = dict(nodes)
    for j in scope.jobs:
        if values.get(x.placed[j], 0):
            start[j] = next(s for s, v in x.y[j].items() if values.get(v, 0))
            nodes[j] = tuple(sorted(n for n, v in x.a[j].items() if values.get(v, 0)))
        else:
            start[j] = -1
            nodes.pop(j, None)
    return start, nodes


def to_plan(problem: Problem, prep: Prepared, start: np.ndarray,
            nodes: dict[int, tuple[int, ...]], solver: str, note: str) -> Plan:
    assignments, unplaced = [], []
    for j in range(prep.J):
        if start[j] >= 0:
            assignments.append(prep.assignment(j, int(start[j]), nodes[j]))
        else:
            unplaced.append(Unplaced(prep.job_ids[j], prep.static_reasons.get(j, note)))
    return Plan(problem=problem.name, status=SolveStatus.FEASIBLE, solver=solver,
                assignments=tuple(assignments), unplaced=tuple(unplaced),
                metrics=compute_metrics(problem, assignments))


def refiller(scope: Scope, x: Variables, start: np.ndarray,
             nodes: dict[int, tuple[int, ...]]) -> Callable[[dict[Any, int]], dict[Any, int]]:
    """A ``refill`` for :func:`run_stages`: complete a stage's solution (which
    left lower tiers out) by placing the unplaced free jobs greedily around
    it, in the greedy planner's order, so the next stage starts from a full
    plan rather than an empty lower tier."""
    p = scope.prep
    in_scope = set(scope.jobs)
    ev = effective_value(p)
    order = [j for j in job_order(p) if j in in_scope and (ev[j] > 0 or p.required[j])]

    def refill(values: dict[Any, int]) -> dict[Any, int]:
        st, nd = extract(scope, x, values, start, nodes)
        sched = schedule_of(p, ((j, st[j], nd[int(j)]) for j in np.flatnonzero(st >= 0)))
        for j in order:
            if st[j] < 0:
                got = keep_or_try(sched, j)  # re-planning: its previous placement first
                if not isinstance(got, str):
                    sched.place(j, *got)
                    st[j], nd[j] = got[0], tuple(got[1])
        return hint_values(scope, x, st, nd)

    return refill


#: Estimated model size above which CP-SAT's probing is switched off (unless
#: ``[cpsat] cp_model_probing_level`` is set): on the medium benchmark
#: (~90k terms) probing takes 6-10 s of each stage's presolve, so the later
#: stages ran out of time before their first solution; on small models it
#: pays for itself.
LIGHT_PRESOLVE_TERMS = 40_000


def _new_backend(backend_cls: Any, params: SolveParams, seed: int, log: bool,
                 size: int = 0) -> Any:
    extra: dict[str, Any] = {}
    if backend_cls is cpsat_backend.CpSatBackend:
        opts = dict(params.cpsat_options)
        if size > LIGHT_PRESOLVE_TERMS:
            opts.setdefault("cp_model_probing_level", 0)
        extra["options"] = tuple(sorted(opts.items()))
    return backend_cls(seed=seed, workers=params.workers, log=log, **extra)


def plan_exact(problem: Problem, prep: Prepared, params: SolveParams, greedy: Plan,
               deadline: float, backend_cls: Any, solver: str,
               size_of: Callable[[Scope], int] = Scope.size_estimate) -> Plan:
    """Solve with ``backend_cls``: full model if small enough, else LNS."""
    if deadline - time.perf_counter() < MIN_EXACT_S:  # no time left even for the scope
        return _lns(problem, prep, params, greedy, deadline, backend_cls, solver, size_of)
    start, nodes = plan_arrays(prep, greedy)
    scope = full_scope(prep)
    size = size_of(scope)
    log.info("%s: %d free jobs, estimated model size %d", solver, len(scope.jobs), size)
    if params.parts >= 2 or (params.parts == 0 and size > params.max_model_terms
                             and len(scope.jobs) >= DECOMPOSE_MIN_JOBS):
        from allocopt.decompose import choose_parts, plan_decomposed

        k = choose_parts(size, params.max_model_terms, len(scope.jobs), params.parts,
                         params.workers, deadline - time.perf_counter())
        if k >= 2:
            return with_trivial_bound(problem, prep, plan_decomposed(
                problem, prep, params, greedy, deadline, k, backend_cls, solver))
    exact = size <= params.max_model_terms and affordable(size, deadline)
    worker = start_bound_worker(problem, prep, params, greedy, deadline, lns=not exact,
                                early=size > LIGHT_PRESOLVE_TERMS)
    if not exact:
        # Too large for memory, or to build within the time limit.
        searched = alns(problem, prep, params, greedy, deadline, backend_cls, solver)[0]
        return worker.finish(with_trivial_bound(problem, prep, searched))
    # Medium models rarely prove: keep a share of the time for ALNS after the stages.
    stage_deadline = deadline - (ALNS_SHARE * params.time_limit
                                 if size > LIGHT_PRESOLVE_TERMS else 0.0)
    m = _new_backend(backend_cls, params, params.seed, params.log, size)
    x = build(m, scope)
    stages = make_stages(problem, scope, x)
    worker.watch(stages)
    fill = refiller(scope, x, start, nodes)
    seed_hint = hint_values(scope, x, start, nodes)
    values = run_stages(m, stages, x, seed_hint, params, stage_deadline, scope, fill,
                        known=[seed_hint])
    if problem.objective.mode != "weighted" and any(st.err for st in stages if st.tier is not None):
        # Rounded tier values can hide a job (value 1e-6 next to 1e12): in
        # lexicographic mode placing any more job that fits is better.
        values = fill(values)
    start, nodes = extract(scope, x, values, start, nodes)
    plan = to_plan(problem, prep, start, nodes, solver, "not placed by the optimizer")
    # Re-planning: the running jobs' (constant) value and cost join the bound.
    status, bound, gap = honest_claim(problem, stages, plan.metrics, x.inexact,
                                      adjust=lambda b: with_fixed_part(problem, prep, b, x.moved))
    stage_info = "; ".join(f"{st.name}: {st.status} {st.seconds:.2f}s" for st in stages)
    log.info("%s stages: %s", solver, stage_info)
    if (status != SolveStatus.OPTIMAL and not progress.stopped()
            and deadline - time.perf_counter() > 1.0):
        plan = alns(problem, prep, params, plan, deadline, backend_cls, solver)[0]
        gap = gap_of(problem, plan.metrics, bound)
        if gap == 0.0:  # at the bound, yet unproven: the rounding's share (honest_claim)
            gap = rounding_gap(stages)
    return worker.finish(plan.replace(status=status, bound=bound, gap=gap))


#: Free jobs from which an automatic decomposition (``parts = 0``) replaces
#: the whole-problem neighbourhood search on models too large to build: at
#: 2,000 jobs (large, 60 s) ALNS from the portfolio start beat every
#: heuristic while 3 automatic parts did not; at 20,000 jobs (xl, 600 s) 16
#: parts did (benchmarks/README.md).
DECOMPOSE_MIN_JOBS = 5000


def honest_claim(problem: Problem, stages: list[Any], metrics: dict[str, Any], inexact: bool,
                 adjust: Callable[[dict[str, Any] | None], dict[str, Any] | None] = lambda b: b
                 ) -> tuple[SolveStatus, dict[str, Any] | None, float | None]:
    """(status, bound, gap) that claim no more than is proven in real units.

    ``optimal`` needs every stage proven optimal, every objective scaled
    exactly (no rounding error) and the model's rows exact: a conservatively
    rounded row makes the model stricter than the rules, so its optimum and
    its bounds prove nothing for the real problem and the bounds fall back to
    the stages' trivial ones. Otherwise the plan is ``feasible`` and the gap
    is measured in real units against the (widened) bound. ``adjust`` maps
    the model's bound to the problem's (re-planning adds the fixed part).
    """
    if inexact:
        for st in stages:
            st.bound = None
    bound = adjust(bound_of(problem, stages))
    gap = gap_of(problem, metrics, bound)
    proven = (not inexact and all(st.status == "optimal" and not st.err for st in stages))
    if proven:
        return SolveStatus.OPTIMAL, bound, 0.0
    if gap == 0.0:
        gap = rounding_gap(stages)
    return SolveStatus.FEASIBLE, bound, gap


def rounding_gap(stages: list[Any]) -> float | None:
    """The gap of a plan within float resolution of its bound, yet not
    proven: how far the integer rounding could hide a better plan."""
    return max((st.err / max(1.0, abs(st.value or 0.0)) for st in stages if st.err),
               default=0.0)


#: Least time left (s) for which an exact model is worth scoping at all.
MIN_EXACT_S = 0.5


def _lns(problem: Problem, prep: Prepared, params: SolveParams, greedy: Plan,
         deadline: float, backend_cls: Any, solver: str,
         size_of: Callable[[Scope], int] = Scope.size_estimate) -> Plan:
    rng = np.random.default_rng(params.seed)
    start, nodes = plan_arrays(prep, greedy)
    best_metrics = greedy.metrics
    best = (start, nodes)
    rounds = accepted = 0
    hw = lns_half_width(prep)
    tried: set[int] = set()  # unplaced jobs a round freed that stayed unplaced
    prog = progress.current()
    if prog is not None:
        prog.prefix = "LNS "
    while deadline - time.perf_counter() > 0.5 and not progress.stopped():
        rounds += 1
        free, centre = _neighbourhood(prep, best[0], best[1], rng, params.lns_jobs, rounds, hw,
                                      frozenset(tried))
        if not free:
            break
        scope = _lns_scope(prep, best, free, centre, hw, rng)
        while len(free) > 2 and (size_of(scope) > params.lns_max_terms
                                 or not affordable(size_of(scope), deadline)):
            free = free[: len(free) // 2]  # keep the most wanted half
            scope = _lns_scope(prep, best, free, centre, hw, rng)
        if not scope.jobs:
            continue
        m = _new_backend(backend_cls, params, params.seed + rounds, params.log, size_of(scope))
        x = build(m, scope)
        stages = make_stages(problem, scope, x)
        left = deadline - time.perf_counter()
        step_end = min(deadline, time.perf_counter() + max(1.0, min(LNS_STEP_S, left / 3)))
        values = run_stages(m, stages, x, hint_values(scope, x, best[0], best[1]), params,
                            step_end, scope, refiller(scope, x, best[0], best[1]))
        log.debug("LNS round %d: %d jobs freed, stages %s", rounds, len(scope.jobs),
                  "; ".join(f"{st.name} {st.status} {st.seconds:.1f}s" for st in stages))
        cand = extract(scope, x, values, best[0], best[1])
        assignments = [prep.assignment(j, int(cand[0][j]), cand[1][j])
                       for j in range(prep.J) if cand[0][j] >= 0]
        metrics = compute_metrics(problem, assignments)
        if better(problem, metrics, best_metrics):
            plan = to_plan(problem, prep, cand[0], cand[1], solver, "not placed by the optimizer")
            if is_valid(plan.replace(status=SolveStatus.INFEASIBLE), validate(problem, plan)):
                best, best_metrics = cand, metrics
                accepted += 1
                if prog is not None:
                    prog.improved(plan)  # reported; returned if stopped while busy
            else:  # pragma: no cover - a model bug; keep the last valid plan
                log.error("LNS round %d produced an invalid plan; discarded", rounds)
        if rounds % 2 == 1:  # targets that stayed out: target others next
            tried |= {j for j in free if best[0][j] < 0}
    log.info("%s LNS: %d rounds, %d improvements", solver, rounds, accepted)
    return with_trivial_bound(problem, prep,
                              to_plan(problem, prep, best[0], best[1], solver,
                                      "not placed by the optimizer"))


def with_trivial_bound(problem: Problem, prep: Prepared, plan: Plan) -> Plan:
    """``plan`` (status ``feasible``) with the bound that needs no model
    (:func:`allocopt.formulations.claims.trivial_bound`) and its gap: neighbourhood
    search proves nothing about the whole problem."""
    bound = trivial_bound(problem, prep)
    return plan.replace(status=SolveStatus.FEASIBLE, bound=bound,
                        gap=gap_of(problem, plan.metrics, bound))


def lns_half_width(prep: Prepared) -> int | None:
    """Start-window half-width of LNS neighbourhoods: on long horizons a
    freed job may only move this many slots (see ``neighbourhood_scope``);
    None (no window) on short ones, where every start is cheap."""
    return None if prep.H <= 48 else max(6, prep.H // 12)


#: Share of the time limit kept for ALNS after the full-model stages
#: (models above ``LIGHT_PRESOLVE_TERMS``; smaller ones pass on unused time).
ALNS_SHARE = 0.1

#: Longest solve of one neighbourhood (all its stages), seconds.
LNS_STEP_S = 5.0

#: Busy nodes added at random to a large problem's neighbourhood, besides
#: the nodes its freed jobs hold (room for them to move to).
LNS_EXTRA_NODES = 24


def _lns_scope(prep: Prepared, current: tuple[np.ndarray, dict[int, tuple[int, ...]]],
               free: list[int], centre: dict[int, int], half_width: int | None,
               rng: np.random.Generator) -> Scope:
    """The neighbourhood model's scope: ``free`` freed from the ``current``
    plan, time-windowed over a node pool when ``half_width`` is set."""
    start, nodes = current
    pool = _node_pool(prep, nodes, free, rng) if half_width is not None else None
    return neighbourhood_scope(prep, start, nodes, set(free), centre=centre,
                               half_width=half_width, node_pool=pool)


def _node_pool(prep: Prepared, nodes: dict[int, tuple[int, ...]], free: list[int],
               rng: np.random.Generator) -> np.ndarray:
    """Busy nodes a neighbourhood's freed jobs may use: their own current
    nodes plus a random few (idle nodes are always allowed)."""
    pool = np.zeros(prep.N, dtype=bool)
    for j in free:
        pool[list(nodes.get(j, ()))] = True
    pool[rng.choice(prep.N, size=min(prep.N, LNS_EXTRA_NODES), replace=False)] = True
    return pool


def _neighbourhood(prep: Prepared, start: np.ndarray, nodes: dict[int, tuple[int, ...]],
                   rng: np.random.Generator, size: int, round_no: int,
                   half_width: int | None = None, skip: frozenset[int] = frozenset()
                   ) -> tuple[list[int], dict[int, int]]:
    """Jobs to free (most wanted first), and a start slot to search around for each freed
    unplaced job: alternately a region x time window, and the unplaced jobs
    of the highest tiers with the placed jobs in their way (on their node
    classes, overlapping their windows), lowest tier first. Unplaced jobs in
    ``skip`` (targets of earlier rounds that stayed out) are targeted again
    only when no other is left."""
    p = prep
    placeable = np.array([j not in p.static_reasons for j in range(p.J)])
    unplaced = np.flatnonzero((start < 0) & placeable)
    centre: dict[int, int] = {}
    if round_no % 2 == 1 and len(unplaced):
        fresh = unplaced[[int(j) not in skip for j in unplaced]]
        unplaced = fresh if len(fresh) else unplaced
        tiers = p.priority[unplaced]
        order = unplaced[np.lexsort((rng.random(len(unplaced)), -tiers))]
        targets = [int(j) for j in order[: max(1, min(3, size // 3))]]
        classes: set[int] = set()
        window = np.zeros(p.H + 1, dtype=bool)
        for j in targets:
            classes |= set(int(c) for c in p.eligible_classes(j))
            lo, hi = int(p.earliest_start[j]), int(p.latest_start[j])
            if half_width is not None:
                centre[j] = int(rng.integers(lo, hi + 1)) if hi >= lo else lo
                lo, hi = max(lo, centre[j] - half_width), min(hi, centre[j] + half_width)
            window[lo:hi + int(p.duration[j])] = True
        # Clear whole nodes: the placed jobs in the targets' window on each
        # eligible node, nodes with the lowest-tier, fewest blockers first,
        # so that a target needing a free node (or several, for replicas in
        # distinct regions) can get one.
        on_node: dict[int, list[int]] = {}
        for j, ns in nodes.items():
            if window[int(start[j]):int(start[j] + p.duration[j])].any():
                for n in ns:
                    if int(p.node_class[n]) in classes:
                        on_node.setdefault(int(n), []).append(j)
        keyed = sorted(on_node, key=lambda n: (max(p.priority[on_node[n]]), len(on_node[n]),
                                                rng.random()))
        free = list(targets)
        for n in keyed:
            if len(free) >= size:
                break
            free += [j for j in on_node[n] if j not in free]
        return free[:size], centre
    g = int(rng.integers(p.G))
    width = max(4, p.H // 4)
    t0 = int(rng.integers(0, max(1, p.H - width + 1)))
    t1 = t0 + width
    cand = [j for j, ns in nodes.items()
            if any(p.node_region[n] == g for n in ns)
            and start[j] < t1 and start[j] + p.duration[j] > t0]
    extra = [int(j) for j in unplaced
             if p.earliest_start[j] < t1 and p.latest_start[j] + p.duration[j] > t0
             and g in set(p.class_region[p.eligible_classes(int(j))].tolist())]
    pool = [int(j) for j in rng.permutation(cand + extra)][:size]
    for j in extra:
        lo, hi = int(p.earliest_start[j]), int(p.latest_start[j])
        centre[j] = min(max((t0 + t1) // 2 - int(p.duration[j]) // 2, lo), max(lo, hi))
    return pool, centre


def _plan_cpsat(problem: Problem, prep: Prepared, params: SolveParams, greedy: Plan,
                deadline: float) -> Plan:
    return plan_exact(problem, prep, params, greedy, deadline,
                      cpsat_backend.CpSatBackend, "cpsat")


register_solver(SolverInfo(
    "cpsat", "the MILP model on OR-Tools CP-SAT, lexicographic stages, greedy-hinted (default)",
    _plan_cpsat, "exact", cpsat_backend.available))
