"""Greedy repair: insert unplaced jobs by moving placed ones.

The greedy planner places each job once, in its order, at the cheapest
option; a job that comes later may then find no room although a few moves
would make some. :func:`repair` takes a plan and, for each unplaced job
(highest tier, then highest value first):

1. tries to place it as the plan stands;
2. else tries a few *ejections*: at a start in the job's window, the
   placed jobs overlapping it on the ``replicas`` least-busy eligible nodes
   (at most :data:`MAX_BLOCKERS`, none of a higher tier, none required) are
   taken out, the job is placed, and the taken-out jobs are put back where
   they fit (highest tier first).

A move is kept only if the plan gets lexicographically better: every
taken-out job is back, or the ones left out are all of lower tiers than the
inserted job (the inserted job's tier gains, only lower tiers lose).
Otherwise the schedule is restored exactly. Every hard rule is checked by
:class:`allocopt.greedy.Scheduler`, so the result is as valid as the input;
callers still validate it.
"""

from __future__ import annotations

import time

import numpy as np

from .greedy import Scheduler, plan_from_schedule, schedule_from_plan
from .plan import Plan
from .prepared import Prepared
from .problem import Problem

#: Most placed jobs taken out for one insertion.
MAX_BLOCKERS = 12
#: Unplaced jobs tried (the most valuable first): a fixed amount of work.
MAX_JOBS = 200
#: Ejections tried per unplaced job.
MAX_TRIES = 8


def unplace(sched: Scheduler, j: int, on_node: dict[int, set[int]]) -> None:
    """Undo :meth:`Scheduler.place` for job ``j`` (``on_node``: jobs per
    node, kept up to date; a node left empty becomes idle again)."""
    p = sched.prep
    s = int(sched.start[j])
    d = int(p.duration[j])
    P_cls = p.class_power(j)
    K = len(sched._fit_key)
    for n in sched.nodes[j]:
        c = int(p.node_class[n])
        g = int(p.class_region[c])
        # The per-class fit counts (active nodes with room): take the node's
        # share out, and put it back below if the node stays active.
        if K:
            sched._fit_count[:K, c] -= sched._room(n, 0, p.H, K)
            sched._fit_stale[:K, c] = True
        sched._cls_free_stale[c] = True
        sched.free[n, s:s + d] += p.demand[j]
        sched.util[n] -= float((p.demand[j] * sched._capnorm[n]).sum()) * d
        sched.head[g, s:s + d] += p.pue[g] * P_cls[c]
        sched.budget_left[g] += p.pue[g] * P_cls[c] * d * p.slot_hours
        jobs = on_node.get(n)
        if jobs is not None:
            jobs.discard(j)
        if not jobs:
            on_node.pop(n, None)
            sched.active[n] = False
            sched.class_active[c] -= 1
            for key in sched._cand_keys.pop(c, ()):
                sched._cand_cache.pop(key, None)
            sched.head[g] += p.pue[g] * p.class_idle[c]
            sched.budget_left[g] += p.pue[g] * p.class_idle[c] * p.H * p.slot_hours
        elif K:
            sched._fit_count[:K, c] += sched._room(n, 0, p.H, K)
    sched.start[j] = -1
    del sched.nodes[j]


def canonical(sched: Scheduler) -> None:
    """Renumber the copies of each node class so that the used ones come
    first, as the greedy planner uses them (copies are interchangeable: same
    capacity, power and maintenance). Taking jobs out can leave an idle copy
    before a busy one, which the full model's symmetry rows exclude, so such a
    plan could not hint it. Only ``sched.nodes`` is renumbered: the schedule
    is for reading the plan out afterwards.

    Re-planning problems are left as they are: there a copy is not
    interchangeable (running jobs stay on their nodes, a planned job on
    another copy counts as moved)."""
    p = sched.prep
    if p.running or p.planned:
        return
    used = sorted({n for ns in sched.nodes.values() for n in ns})
    rename: dict[int, int] = {}
    nxt: dict[int, int] = {}
    for n in used:
        c = int(p.node_class[n])
        k = nxt.get(c, int(p.class_first[c]))
        rename[n] = k
        nxt[c] = k + 1
    for j, ns in sched.nodes.items():
        sched.nodes[j] = tuple(rename[n] for n in ns)


def _place(sched: Scheduler, j: int, s: int, nodes: tuple[int, ...],
           on_node: dict[int, set[int]]) -> None:
    sched.place(j, s, nodes)
    for n in sched.nodes[j]:
        on_node.setdefault(n, set()).add(j)


def _jobs_on_nodes(sched: Scheduler) -> dict[int, set[int]]:
    """Node -> the placed jobs with a replica on it, in ``sched``."""
    on_node: dict[int, set[int]] = {}
    for j, ns in sched.nodes.items():
        for n in ns:
            on_node.setdefault(n, set()).add(j)
    return on_node


def _opened(problem: Problem, plan: Plan, prep: Prepared | None
            ) -> tuple[Prepared, Scheduler, dict[int, set[int]]]:
    """The prepared problem, ``plan`` as a schedule, and its jobs per node."""
    p = prep or Prepared(problem)
    sched = schedule_from_plan(p, plan)
    return p, sched, _jobs_on_nodes(sched)


def repair(problem: Problem, plan: Plan, prep: Prepared | None = None,
           deadline: float | None = None, solver: str | None = None,
           eject: bool = True) -> Plan:
    """``plan`` with unplaced jobs inserted where moves make room (module
    docstring); ``plan`` itself when nothing could be inserted.

    ``deadline`` (a ``time.perf_counter()`` value) stops the pass early.
    ``eject=False`` only places jobs on top of the plan as it stands (step 1):
    no placed job moves, so the plan gains value and keeps every placement.
    """
    if deadline is not None and time.perf_counter() > deadline:
        return plan
    t0 = time.perf_counter()
    p, sched, on_node = _opened(problem, plan, prep)
    reasons = {p.job_index[u.job]: u.reason for u in plan.unplaced}
    todo = [j for j in reasons if j not in p.static_reasons
            and (p.value[j] > 0 or p.required[j])]
    todo.sort(key=lambda j: (not p.required[j], -p.priority[j], -p.value[j], j))
    todo = todo[:MAX_JOBS]
    rng = np.random.default_rng(0)
    changed = False
    has_succ = np.array([bool(s) for s in p.succs], dtype=bool)
    for j in todo:
        if deadline is not None and time.perf_counter() > deadline:
            break
        if sched.start[j] >= 0:
            continue
        got = sched.try_job(j)
        if not isinstance(got, str):
            _place(sched, j, *got, on_node)
            changed = True
            continue
        if "predecessor" in got or not eject:
            continue
        if _insert_by_ejection(sched, j, on_node, rng, reasons, deadline, has_succ):
            changed = True
    if not changed:
        return plan
    if eject:  # placing on top only leaves every job on its node
        canonical(sched)
    return plan_from_schedule(problem, p, sched, reasons, solver or plan.solver,
                              plan.solve_seconds + time.perf_counter() - t0)


def _insert_by_ejection(sched: Scheduler, j: int, on_node: dict[int, set[int]],
                        rng: np.random.Generator, reasons: dict[int, str],
                        deadline: float | None = None,
                        has_succ: np.ndarray | None = None) -> bool:
    p = sched.prep
    if deadline is not None and time.perf_counter() > deadline:
        return False
    starts = sched.starts_for(j)
    if len(starts) == 0:
        return False
    d = int(p.duration[j])
    R = int(p.replicas[j])
    classes = p.eligible_classes(j)
    if len(classes) == 0:
        return False
    nodes = np.concatenate([np.arange(p.class_first[c], p.class_first[c] + p.class_count[c])
                            for c in classes])
    # A few starts spread over the window (the earliest always included).
    pick = np.unique(np.linspace(0, len(starts) - 1, num=min(len(starts), 5)).round().astype(int))
    # Jobs that may make way, per region they draw power in (for caps and budgets).
    if has_succ is None:
        has_succ = np.array([bool(s) for s in p.succs], dtype=bool)
    movable = ((sched.start >= 0) & ~p.required & ~has_succ
               & (p.priority <= p.priority[j]))
    in_region = None  # (J, G): job has a replica in region; built when first needed
    powered = p.capped | np.isfinite(p.energy_budget)
    cands: list[tuple[float, list[int]]] = []
    for s in starts[pick]:
        s = int(s)
        if deadline is not None and time.perf_counter() > deadline:
            return False
        avail = p.class_avail[p.node_class[nodes], s:s + d].all(axis=1)
        # Idle nodes need no ejection: the job would have fit unless power or
        # replication blocks it; prefer the least-busy nodes.
        busy = (sched.free[nodes, s:s + d] < p.capacity[nodes][:, None, :] - 1e-9).any(axis=(1, 2))
        order = np.lexsort((rng.random(len(nodes)), busy))
        per_node = []
        for i in order[: max(4 * R, 16)]:
            n = int(nodes[i])
            if not avail[i]:
                continue
            block = [k for k in on_node.get(n, ()) if
                     sched.start[k] < s + d and sched.start[k] + p.duration[k] > s]
            per_node.append((len(block), rng.random(), n, block))
        per_node.sort()
        chosen = per_node[:R]
        if len(chosen) < R:
            continue
        base = sorted({k for *_, b in chosen for k in b})
        if len(base) > MAX_BLOCKERS or not all(movable[k] for k in base):
            continue
        options = [base] if base else []
        regs = np.unique(p.node_region[[n for _, _, n, _ in chosen]])
        regs = regs[powered[regs]]
        if len(regs):
            if in_region is None:
                in_region = _job_regions(sched)
            busy = np.flatnonzero(movable & in_region[:, regs].any(axis=1)
                                  & (sched.start < s + d) & (sched.start + p.duration > s))
            busy = [int(k) for k in busy if k not in base]
            busy.sort(key=lambda k: (p.priority[k], p.value[k], k))
            for extra in (1, 3, 6, 10):
                if len(base) + extra <= MAX_BLOCKERS and len(busy) >= extra:
                    options.append(base + busy[:extra])
        for blockers in options:
            cands.append((float(sum(p.value[k] for k in blockers)), blockers))
    cands.sort(key=lambda c: c[0])
    for _, blockers in cands[:MAX_TRIES]:
        if deadline is not None and time.perf_counter() > deadline:
            return False
        if _try_ejection(sched, j, blockers, on_node, reasons):
            return True
    return False


def _job_regions(sched: Scheduler) -> np.ndarray:
    """(J, G) bool: the placed job has a replica in the region."""
    p = sched.prep
    out = np.zeros((p.J, p.G), dtype=bool)
    jobs = [k for k, ns in sched.nodes.items() for _ in ns]
    nodes = [n for ns in sched.nodes.values() for n in ns]
    if jobs:
        out[jobs, p.node_region[nodes]] = True
    return out


def _try_ejection(sched: Scheduler, j: int, blockers: list[int], on_node: dict[int, set[int]],
                  reasons: dict[int, str]) -> bool:
    p = sched.prep
    old = {k: (int(sched.start[k]), sched.nodes[k]) for k in blockers}
    for k in blockers:
        unplace(sched, k, on_node)
    got = sched.try_job(j)
    if isinstance(got, str):
        for k in blockers:
            _place(sched, k, *old[k], on_node)
        return False
    _place(sched, j, *got, on_node)
    back, out = [], []
    for k in sorted(blockers, key=lambda k: (-p.priority[k], -p.value[k], k)):
        g = sched.try_job(k)
        if isinstance(g, str):
            out.append(k)
        else:
            _place(sched, k, *g, on_node)
            back.append(k)
    if all(p.priority[k] < p.priority[j] for k in out):
        for k in out:
            reasons[k] = "taken out to make room for a higher-tier job"
        return True
    # Not an improvement: restore exactly.
    for k in back:
        unplace(sched, k, on_node)
    unplace(sched, j, on_node)
    for k in blockers:
        _place(sched, k, *old[k], on_node)
    return False


def reinsert(problem: Problem, plan: Plan, prep: Prepared | None = None,
             deadline: float | None = None, solver: str | None = None) -> Plan:
    """Cost-lowering moves at fixed tier values: each placed job without
    placed successors (dearest first) is taken out and put back at its
    cheapest option given all the others, if that is cheaper than where it
    was. Every job stays placed, so tier values never change; ``plan``
    itself when no move lowered the cost."""
    from .greedy import _option_cost

    if deadline is not None and time.perf_counter() > deadline:
        return plan
    t0 = time.perf_counter()
    p, sched, on_node = _opened(problem, plan, prep)
    movable = [j for j in sched.nodes if not any(sched.start[q] >= 0 for q in p.succs[j])]
    dear = {j: _option_cost(sched, j, int(sched.start[j]), sched.nodes[j]) for j in movable}
    movable.sort(key=lambda j: (-dear[j], j))
    moved = 0
    for j in movable:
        if deadline is not None and time.perf_counter() > deadline:
            break
        old = (int(sched.start[j]), sched.nodes[j])
        unplace(sched, j, on_node)
        was = _option_cost(sched, j, *old)
        got = sched.try_job(j)
        if not isinstance(got, str) and _option_cost(sched, j, *got) < was - 1e-9 * max(1.0, abs(was)):
            _place(sched, j, *got, on_node)
            moved += 1
        else:
            _place(sched, j, *old, on_node)
    if not moved:
        return plan
    reasons = {p.job_index[u.job]: u.reason for u in plan.unplaced}
    canonical(sched)
    return plan_from_schedule(problem, p, sched, reasons, solver or plan.solver,
                              plan.solve_seconds + time.perf_counter() - t0)
