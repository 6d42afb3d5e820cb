"""POP-style decomposition: k faithful small copies of a big problem.

After Narayanan et al., "Solving Large-Scale Granular Resource Allocation
Problems Efficiently with POP" (SOSP 2021): split the jobs and the nodes into
``k`` parts so that each part looks like the whole at ``1/k`` scale, solve
the parts independently with the full ``cpsat`` path, and merge.

Partition (:func:`partition`):

* Jobs move in *units*: the connected components of ``after`` (a precedence
  chain is never split). A job's replicas are one job, so they stay together.
  Units are dealt out per priority tier, biggest first, each to the part
  with the least work of that tier so far: every part gets a fair share of
  every tier.
* Each node entry (``count`` copies) is split into ``k`` near-equal counts;
  the remainder copies of the entries of one region and node type go to the
  parts in turn, so every part has every region and node type wherever
  there are at least ``k`` nodes of it.
* Pinned jobs: the format has no job fixed to a node yet (running jobs
  come with the replan work); when it does, such a job must go to the part
  that holds its node. Jobs restricted by ``regions`` / ``node_types`` need
  no pinning: every part has every region and type (given >= k nodes).
* A region's ``power_cap_kw`` and ``energy_budget_kwh`` are shared in
  proportion to the part's full-load power in that region, so the merged
  plan respects the whole region's cap and budget.

Merge (:func:`plan_decomposed`): the parts' plans use disjoint nodes and
shares of the caps, so their union is a valid plan; the jobs no part placed
are then offered, in the greedy planner's order, to the capacity still free
(greedy on the merged schedule), the repair pass of the portfolio
(:func:`allocopt.repair.repair`) inserts what it can by moving placed jobs
across part boundaries, and the remaining time goes to the
neighbourhood search (``_lns`` of :mod:`allocopt.formulations.solve_model`), whose
neighbourhoods cross part boundaries. The result is validated like every
plan (:func:`allocopt.solve.solve`).

The parts run on an :mod:`allocopt.engines` engine (``local`` process pool
or ``ray``), one task per part, each with its own seed and one worker, so
the plan is the same on either engine.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import numpy as np

from .engines import make_engine
from .greedy import Scheduler
from .params import SolveParams
from .plan import Plan
from .prepared import Prepared
from .problem import Problem

log = logging.getLogger(__name__)

#: Most parts chosen automatically.
MAX_AUTO_PARTS = 16
#: Share of the time limit the parts may use (the rest: merge, leftovers, LNS).
PART_SHARE = 0.5
#: Seconds a part's task needs besides its solve (starting a worker, parsing).
PART_OVERHEAD_S = 3.0
#: Seconds a part should get at least when k is chosen automatically.
MIN_PART_SECONDS = 15.0
#: Model terms a part's full model may have per second of its time limit
#: (building a model cannot be interrupted: ~400k terms take ~15 s on 2 cores);
#: a bigger part is improved by neighbourhoods of its greedy plan instead.
TERMS_PER_SECOND = 15_000

#: What the last :func:`plan_decomposed` in this process did: one record per
#: part (seconds, status, jobs, placed value), the merged plan's metrics
#: before the neighbourhood search, ``k`` and the time limit of a part.
LAST_RUN: dict[str, Any] = {}


@dataclass
class Part:
    """One part: job indices, copies per node class, and region shares."""

    jobs: list[int]
    counts: np.ndarray  # (C,) copies of each node class
    offsets: np.ndarray  # (C,) first global copy of each class in this part
    share: np.ndarray  # (G,) share of each region's power cap and budget
    names: dict[str, str] = field(default_factory=dict)  # local node name -> global


def choose_parts(size: int, max_terms: int, jobs: int, requested: int = 0,
                 workers: int = 1, time_limit: float = math.inf) -> int:
    """Parts for a model of ``size`` estimated terms: ``requested`` if > 0,
    else one while the model fits ``max_terms``, else enough parts for each
    to fit, at most :data:`MAX_AUTO_PARTS`, at least 50 jobs a part, and few
    enough that every part gets :data:`MIN_PART_SECONDS` of one of the
    ``workers`` within ``time_limit`` (at least 2)."""
    if requested > 0:
        return max(1, min(requested, max(1, jobs)))
    if size <= max_terms:
        return 1
    k = math.ceil(size / max_terms)
    by_time = max(2, int(max(1, workers) * PART_SHARE * time_limit // MIN_PART_SECONDS)) \
        if math.isfinite(time_limit) else MAX_AUTO_PARTS
    return max(1, min(k, MAX_AUTO_PARTS, max(1, jobs // 50), by_time))


def job_units(prep: Prepared) -> list[list[int]]:
    """Jobs that must share a part: the components of the ``after`` graph."""
    graph = nx.Graph()
    graph.add_nodes_from(range(prep.J))
    graph.add_edges_from((q, j) for j in range(prep.J) for q in prep.preds[j])
    return [sorted(c) for c in sorted(nx.connected_components(graph), key=min)]


def partition(prep: Prepared, k: int) -> list[Part]:
    """Split jobs and nodes into ``k`` parts (see the module docstring)."""
    p = prep
    k = max(1, k)
    # Nodes: near-equal copies of every class; remainders in turn per
    # (region, type) so that each part gets its share of every kind.
    counts = np.zeros((k, p.C), dtype=int)
    turn: dict[tuple[int, str], int] = {}
    for c in range(p.C):
        base, rem = divmod(int(p.class_count[c]), k)
        counts[:, c] = base
        key = (int(p.class_region[c]), p.class_type[c])
        t = turn.get(key, 0)
        for i in range(rem):
            counts[(t + i) % k, c] += 1
        turn[key] = (t + rem) % k
    offsets = np.vstack([np.zeros((1, p.C), dtype=int), np.cumsum(counts, axis=0)[:-1]])
    # Region shares: the part's full-load power in the region.
    full_kw = p.class_idle + (p.class_kwpu * p.class_cap).sum(axis=1)
    share = np.zeros((k, p.G))
    for g in range(p.G):
        m = p.class_region == g
        w = (counts[:, m] * np.maximum(full_kw[m], 1e-9)).sum(axis=1)
        share[:, g] = w / w.sum() if w.sum() > 0 else 1.0 / k
    # Jobs: units dealt per tier, biggest first, to the least-loaded part.
    maxcap = np.maximum(p.class_cap.max(axis=0), 1e-9) if p.C else np.ones(p.R)
    area = (np.maximum((p.demand / maxcap).max(axis=1) if p.R else 0.0, 1e-3)
            * p.duration * p.replicas)
    units = job_units(p)
    tier = [int(p.priority[u].max()) for u in units]
    size = [float(area[u].sum()) for u in units]
    load: dict[int, np.ndarray] = {}
    jobs: list[list[int]] = [[] for _ in range(k)]
    total = np.zeros(k)
    for i in sorted(range(len(units)), key=lambda i: (-tier[i], -size[i], units[i][0])):
        lt = load.setdefault(tier[i], np.zeros(k))
        dest = int(np.lexsort((np.arange(k), total, lt))[0])
        jobs[dest] += units[i]
        lt[dest] += size[i]
        total[dest] += size[i]
    return [Part(sorted(jobs[i]), counts[i], offsets[i], share[i]) for i in range(k)]


def sub_problem(problem: Problem, prep: Prepared, part: Part, index: int
                ) -> dict[str, Any] | None:
    """The part as problem data (None if it has no jobs or no nodes); fills
    ``part.names``."""
    if not part.jobs:
        return None
    data = problem.to_dict()
    nodes = []
    for c, rec in enumerate(data["nodes"]):
        cnt = int(part.counts[c])
        if cnt == 0:
            continue
        first = int(prep.class_first[c] + part.offsets[c])
        local = [rec["id"]] if cnt == 1 else [f"{rec['id']}#{i}" for i in range(cnt)]
        for i, name in enumerate(local):
            part.names[name] = prep.node_names[first + i]
        nodes.append({**rec, "count": cnt})
    if not nodes:  # a part too small for any node: its jobs are leftovers
        return None
    regions = []
    for g, rec in enumerate(data["regions"]):
        rec = dict(rec)
        if "power_cap_kw" in rec:
            cap = rec["power_cap_kw"]
            rec["power_cap_kw"] = ([x * part.share[g] for x in cap] if isinstance(cap, list)
                                   else cap * part.share[g])
        if "energy_budget_kwh" in rec:
            rec["energy_budget_kwh"] = rec["energy_budget_kwh"] * part.share[g]
        regions.append(rec)
    keep = set(part.jobs)
    jobs = [rec for j, rec in enumerate(data["jobs"]) if j in keep]
    return {**data, "name": f"{problem.name}-part{index}", "regions": regions, "nodes": nodes,
            "jobs": jobs}


def solve_part(task: dict[str, Any]) -> dict[str, Any]:
    """Solve one part (an engine task): problem data in, placements out."""
    from .solve import solve

    t0 = time.perf_counter()
    problem = Problem.from_dict(task["problem"])
    plan = solve(problem, solver=task.get("solver", "cpsat"), params=SolveParams(**task["params"]))
    return {
        "placements": [(a.job, a.start, list(a.nodes)) for a in plan.assignments],
        "status": str(plan.status),
        "seconds": time.perf_counter() - t0,
        "jobs": len(problem.jobs),
        "placed_value": plan.metrics["placed_value"],
    }


def solve_parts(problem: Problem, prep: Prepared, parts: list[Part], params: SolveParams,
                time_limit: float, solver: str = "cpsat"
                ) -> tuple[list[tuple[int, int, tuple[int, ...]]], list[dict]]:
    """Solve every part on ``params.engine``; the merged placements (by
    index) and one record per part (seconds, status, jobs, placed value)."""
    tasks, which = [], []
    for i, part in enumerate(parts):
        data = sub_problem(problem, prep, part, i)
        if data is None:
            continue
        terms = min(params.max_model_terms, int(TERMS_PER_SECOND * time_limit))
        sub = replace(params, time_limit=time_limit, seed=params.seed + i, workers=1, parts=1,
                      max_model_terms=max(1, terms))
        tasks.append({"problem": data, "params": dict(sub.__dict__), "solver": solver})
        which.append(i)
    engine = make_engine(params.engine, params.workers, params.ray_address or None)
    try:
        results = engine.map(solve_part, tasks)
    finally:
        engine.close()
    placements = []
    info = []
    for i, res in zip(which, results, strict=True):
        names = parts[i].names
        for job, start, nodes in res["placements"]:
            placements.append((prep.job_index[job], int(start),
                               tuple(prep.node_index[names[n]] for n in nodes)))
        info.append({"part": i, **{k: v for k, v in res.items() if k != "placements"}})
    return placements, info


def fits(sched: Scheduler, j: int, start: int, nodes: tuple[int, ...]) -> bool:
    """Whether job ``j`` can still go at ``start`` on ``nodes`` in ``sched``
    (capacity, maintenance, precedence, power caps, energy budgets; the
    placement's own replication rules were checked by the part's solve)."""
    p = sched.prep
    d = int(p.duration[j])
    if any(sched.start[q] < 0 or sched.start[q] + p.duration[q] > start for q in p.preds[j]):
        return False
    ns = np.array(nodes, dtype=int)
    if (sched.free[ns, start:start + d] < p.demand[j] - 1e-9).any():
        return False
    cls = p.node_class[ns]
    if (p.class_blocked[cls, start + d] - p.class_blocked[cls, start]).any():
        return False
    P = p.class_power(j)[cls]
    fresh = ~sched.active[ns]
    for g in np.unique(p.node_region[ns]):
        m = p.node_region[ns] == g
        idle = float((p.idle_kw[ns][m] * fresh[m]).sum())
        dyn = float(P[m].sum())
        if p.pue[g] * (dyn + idle) > sched.head[g, start:start + d].min() + 1e-9:
            return False
        if idle > 0 and p.pue[g] * idle > sched.head[g].min() + 1e-9:
            return False
        energy = p.pue[g] * (dyn * d + idle * p.H) * p.slot_hours
        if energy > sched.budget_left[g] + 1e-9:
            return False
    return True


def merge(prep: Prepared, placements: list[tuple[int, int, tuple[int, ...]]]) -> Scheduler:
    """The parts' placements merged tier by tier, highest (effective) tier
    first: a tier's placements from the parts, then its jobs no part placed,
    greedily in the capacity still free (so a higher tier's leftover goes
    before a lower tier's placement). A placement a leftover has taken the
    room of is retried greedily."""
    from .greedy import Scheduler, effective_value, inherited_levels, job_order

    p = prep
    ereq, etier = inherited_levels(p)
    level = np.where(ereq, np.iinfo(np.int64).max, etier)
    by_job = {j: (s, ns) for j, s, ns in placements}
    order = job_order(p)
    ev = effective_value(p)
    sched = Scheduler(p)
    for lv in sorted(set(level.tolist()), reverse=True):
        mine = [j for j in order if level[j] == lv]
        for j in mine:  # the parts' placements (a topological order)
            if j in by_job and fits(sched, j, *by_job[j]):
                sched.place(j, *by_job[j])
        for j in mine:  # then what no part placed, or that lost its room
            if sched.start[j] >= 0 or j in p.static_reasons:
                continue
            if not (p.required[j] or ev[j] > 0):
                continue
            got = sched.try_job(j)
            if not isinstance(got, str):
                sched.place(j, *got)
    return sched


#: Share of the time left after the merge that the repair pass may use.
REPAIR_SHARE = 0.25


def _repaired(problem: Problem, prep: Prepared, plan: Plan, deadline: float) -> Plan:
    """``plan`` after the portfolio's repair pass (:func:`allocopt.repair.repair`:
    unplaced jobs inserted by moving placed ones, across part boundaries),
    if that is valid and better."""
    from .repair import repair
    from .validate import better, compute_metrics, is_valid, validate

    left = deadline - time.perf_counter()
    if left < 2.0:
        return plan
    out = repair(problem, plan, prep, deadline=time.perf_counter() + REPAIR_SHARE * left)
    if out is plan:
        return plan
    out = out.replace(metrics=compute_metrics(problem, out.assignments))
    probe = out.replace(status="infeasible")
    if is_valid(probe, validate(problem, out)) and better(problem, out.metrics, plan.metrics):
        return out
    return plan


def plan_decomposed(problem: Problem, prep: Prepared, params: SolveParams, greedy: Plan,
                    deadline: float, k: int, backend_cls: Any, solver: str) -> Plan:
    """Solve in ``k`` parts, merge, fill leftovers greedily, then LNS."""
    from allocopt.formulations.solve_model import _lns, plan_arrays, to_plan

    from .validate import better, compute_metrics, is_valid, validate

    t0 = time.perf_counter()
    parts = partition(prep, k)
    left = deadline - t0
    rounds = math.ceil(sum(1 for pt in parts if pt.jobs) / max(1, min(params.workers, k)))
    part_limit = max(1.0, PART_SHARE * left / max(1, rounds) - PART_OVERHEAD_S)
    placements, info = solve_parts(problem, prep, parts, params, part_limit, solver)
    sched = merge(prep, placements)
    start = sched.start.copy()
    nodes = {j: tuple(ns) for j, ns in sched.nodes.items()}
    merged = to_plan(problem, prep, start, nodes, solver, "not placed by the optimizer")
    merged_metrics = merged.metrics
    if not is_valid(merged, validate(problem, merged)):  # pragma: no cover - a merge bug
        log.error("decomposition: merged plan invalid; continuing from the greedy plan")
        merged = greedy
    elif better(problem, greedy.metrics, merged.metrics):
        merged = greedy
    merged = _repaired(problem, prep, merged, deadline)
    merge_seconds = time.perf_counter() - t0
    log.info("decomposition: %d parts in %.1fs (%s); merged placed value %.6g",
             len(info), time.perf_counter() - t0,
             ", ".join(f"{r['seconds']:.1f}s" for r in info), merged_metrics["placed_value"])
    plan = merged
    if deadline - time.perf_counter() > 1.0:
        plan = _lns(problem, prep, params, merged, deadline, backend_cls, solver)
        plan = plan.replace(metrics=compute_metrics(problem, plan.assignments))
    start, nodes = plan_arrays(prep, plan)
    LAST_RUN.clear()
    LAST_RUN.update(parts=info, merged=merged_metrics, repaired=merged.metrics, k=k,
                    part_limit=part_limit, merge_seconds=merge_seconds)
    return to_plan(problem, prep, start, nodes, solver, "not placed by the optimizer")
