"""The independent validator and the one place for metric formulas.

Written from PROBLEM.md and PLAN.md alone: it imports nothing from
``formulations`` or any solver, and recomputes every figure from the
assignments. Solvers, greedy, baselines, benchmarks and the CLI all use
:func:`compute_metrics`; nobody copies a solver's internal objective.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .claims import CLAIM_RULES, check_claims
from .plan import Assignment, Plan, SolveStatus
from .problem import Job, Node, Problem

#: Rule names, in PROBLEM.md's order ("accounting" is PLAN.md's).
RULES = (
    "accounting", "time", "precedence", "eligibility", "replication",
    "capacity", "required", "energy", *CLAIM_RULES,
)
TOL = 1e-6


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``rule`` is one of :data:`RULES`."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


def _series(val: Any, H: int, default: float = 0.0) -> np.ndarray:
    if val is None:
        return np.full(H, default, dtype=float)
    if isinstance(val, (int, float)):
        return np.full(H, float(val))
    return np.asarray(val, dtype=float)


class _Index:
    """Expanded nodes and lookups, built from the problem alone."""

    def __init__(self, problem: Problem):
        self.H = problem.horizon.slots
        self.res = list(problem.resources)
        self.res_idx = {r: k for k, r in enumerate(self.res)}
        self.nodes: list[Node] = []
        self.names: list[str] = []
        for n in problem.nodes:
            for name in n.names:
                self.nodes.append(n)
                self.names.append(name)
        self.node_idx = {name: k for k, name in enumerate(self.names)}
        self.region_ids = [r.id for r in problem.regions]
        self.region_idx = {g: k for k, g in enumerate(self.region_ids)}
        self.jobs = {j.id: j for j in problem.jobs}

    def vec(self, mapping: dict[str, float]) -> np.ndarray:
        v = np.zeros(len(self.res))
        for r, q in mapping.items():
            v[self.res_idx[r]] = q
        return v


def replica_power(job: Job, node: Node) -> float:
    """Dynamic kW of one replica of ``job`` on ``node`` (PROBLEM.md, Energy)."""
    if job.power_kw is not None:
        return float(job.power_kw)
    return float(sum(q * node.kw_per_unit.get(r, 0.0) for r, q in job.demand.items()))


def compute_metrics(
    problem: Problem, assignments: Iterable[Assignment], *, _parts: dict | None = None
) -> dict[str, Any]:
    """Every metric of PLAN.md, recomputed from the assignments.

    Unknown jobs or nodes in ``assignments`` are skipped (the validator
    reports them). Returns ``placed_value_by_priority`` (every tier of the
    problem, highest first), ``placed_value``, ``placed_jobs``,
    ``unplaced_jobs``, ``energy_kwh``, ``energy_cost``, ``carbon_kg``,
    ``carbon_cost``, ``tardiness``, ``node_cost``, ``cost``, per-region
    energy and carbon, ``active_nodes`` and ``objective``.
    """
    idx = _Index(problem)
    H, sh = idx.H, problem.horizon.slot_hours
    G = len(idx.region_ids)
    dyn = np.zeros((G, H))
    active: set[int] = set()
    tiers = problem.tiers
    value_by_tier = {t: 0.0 for t in tiers}
    tardiness = 0.0
    required_placed = 0
    placed = set()
    assignments = list(assignments)
    for a in assignments:
        job = idx.jobs.get(a.job)
        if job is None or a.job in placed:
            continue
        placed.add(a.job)
        value_by_tier[job.priority] += job.value
        required_placed += job.required
        end = a.start + job.duration
        if job.due is not None:
            tardiness += job.tardiness_penalty * max(0, end - job.due)
        lo, hi = max(a.start, 0), min(end, H)
        for name in a.nodes:
            k = idx.node_idx.get(name)
            if k is None:
                continue
            node = idx.nodes[k]
            active.add(k)
            if hi > lo:
                dyn[idx.region_idx[node.region], lo:hi] += replica_power(job, node)
    idle = np.zeros(G)
    node_cost = 0.0
    for k in active:
        node = idx.nodes[k]
        idle[idx.region_idx[node.region]] += node.idle_kw
        node_cost += node.cost_per_slot * H
    pue = np.array([r.pue for r in problem.regions])
    power = pue[:, None] * (dyn + idle[:, None])  # facility kW, (G, H)
    energy = power * sh
    price = np.stack([_series(r.price_per_kwh, H) for r in problem.regions])
    carbon = np.stack([_series(r.carbon_g_per_kwh, H) for r in problem.regions])
    energy_cost = float((energy * price).sum())
    carbon_kg_by_region = (energy * carbon).sum(axis=1) / 1000.0
    carbon_kg = float(carbon_kg_by_region.sum())
    carbon_cost = carbon_kg * problem.objective.carbon_price_per_kg
    moves, move_cost = count_moves(problem, {a.job: a for a in assignments if a.job in idx.jobs})
    cost = energy_cost + carbon_cost + tardiness + node_cost + move_cost
    placed_value = float(sum(value_by_tier.values()))
    if _parts is not None:
        _parts.update(power=power, energy=energy)
    metrics: dict[str, Any] = {
        "placed_value_by_priority": {str(t): value_by_tier[t] for t in tiers},
        "placed_value": placed_value,
        "placed_jobs": len(placed),
        "unplaced_jobs": len(problem.jobs) - len(placed),
        "required_placed": required_placed,
        "required_jobs": sum(j.required for j in problem.jobs),
        "energy_kwh": float(energy.sum()),
        "energy_cost": energy_cost,
        "carbon_kg": carbon_kg,
        "carbon_cost": carbon_cost,
        "tardiness": float(tardiness),
        "node_cost": float(node_cost),
        "cost": cost,
        "moves": moves,
        "move_cost": move_cost,
        "active_nodes": len(active),
        "energy_kwh_by_region": {g: float(energy[i].sum()) for i, g in enumerate(idx.region_ids)},
        "carbon_kg_by_region": {g: float(carbon_kg_by_region[i]) for i, g in enumerate(idx.region_ids)},
    }
    if problem.objective.mode == "weighted":
        metrics["objective"] = placed_value - cost
    elif problem.objective.mode == "carbon":
        metrics["objective"] = {
            "placed_value_by_priority": metrics["placed_value_by_priority"],
            "carbon_kg": carbon_kg,
            "cost": cost,
        }
    else:
        metrics["objective"] = {
            "placed_value_by_priority": metrics["placed_value_by_priority"],
            "cost": cost,
        }
    return metrics


def count_moves(problem: Problem, placed: dict[str, Assignment]) -> tuple[int, float]:
    """``(moves, move_cost)`` of PLAN.md: planned jobs (not running) that the
    plan leaves unplaced or gives another start or another set of nodes."""
    moves, cost = 0, 0.0
    default = problem.objective.move_cost
    for job in problem.jobs:
        pl = job.planned
        if pl is None or job.running is not None:
            continue
        a = placed.get(job.id)
        if a is None or a.start != pl.start or set(a.nodes) != set(pl.nodes):
            moves += 1
            cost += default if job.move_cost is None else job.move_cost
    return moves, float(cost)


def lex_key(problem: Problem, metrics: dict[str, Any]) -> tuple[float, ...]:
    """The objective as a tuple to maximise (compare plans with ``>``).

    Lexicographic: required jobs placed, then each tier's placed value from
    the highest, then ``-cost``. Weighted: required placed, then
    ``value - cost``. Carbon: as lexicographic with ``-carbon_kg`` before
    ``-cost``. With ``objective.stability_tier`` P, ``-move_cost`` comes
    right after the tiers >= P. Counting required jobs first makes an infeasible plan
    that places more required jobs better than one that places fewer.
    """
    req = float(metrics.get("required_placed", 0))
    if problem.objective.mode == "weighted":
        return (req, metrics["placed_value"] - metrics["cost"])
    tiers = metrics["placed_value_by_priority"]
    values = [tiers[str(t)] for t in problem.tiers]
    stab = problem.objective.stability_tier
    if stab is not None:  # extension: moves rank right below tier `stab`
        k = sum(1 for t in problem.tiers if t >= stab)
        values.insert(k, -metrics.get("move_cost", 0.0))
    if problem.objective.mode == "carbon":
        return (req, *values, -metrics["carbon_kg"], -metrics["cost"])
    return (req, *values, -metrics["cost"])


def better(problem: Problem, a: dict[str, Any], b: dict[str, Any], rel: float = 1e-9) -> bool:
    """True if metrics ``a`` are strictly better than ``b`` for the objective."""
    for x, y in zip(lex_key(problem, a), lex_key(problem, b)):
        if abs(x - y) > rel * max(1.0, abs(x), abs(y)):
            return x > y
    return False


def validate(problem: Problem, plan: Plan) -> list[Violation]:
    """Every broken hard rule of PROBLEM.md / PLAN.md in ``plan``.

    A plan whose status is ``infeasible`` still lists its unplaced required
    jobs here (rule ``required``); :func:`is_valid` accepts them for such a
    plan because the status says so.
    """
    out: list[Violation] = []
    idx = _Index(problem)
    H = idx.H

    def bad(rule: str, msg: str) -> None:
        out.append(Violation(rule, msg))

    # Accounting: every job exactly once, nothing unknown.
    seen: dict[str, int] = defaultdict(int)
    for a in plan.assignments:
        seen[a.job] += 1
    for u in plan.unplaced:
        seen[u.job] += 1
        if not u.reason.strip():
            bad("accounting", f"job {u.job!r}: unplaced without a reason")
    for jid in idx.jobs:
        if seen[jid] != 1:
            bad("accounting", f"job {jid!r}: appears {seen[jid]} times in assignments and unplaced")
    for jid in seen:
        if jid not in idx.jobs:
            bad("accounting", f"plan names unknown job {jid!r}")

    placed = {a.job: a for a in plan.assignments if a.job in idx.jobs}
    latency = problem.latencies()
    usage = np.zeros((len(idx.names), H, len(idx.res)))
    touched: set[int] = set()
    for jid, a in placed.items():
        job = idx.jobs[jid]
        s, d = a.start, job.duration
        where = f"job {jid!r}"
        if a.end != s + d:
            bad("time", f"{where}: end {a.end} != start {s} + duration {d}")
        if job.running is not None:
            # PROBLEM.md, Re-planning: it stays at since on exactly its nodes;
            # only its use of slots >= 0 is checked (capacity, energy below).
            run = job.running
            if s != run.since or sorted(a.nodes) != sorted(run.nodes):
                bad("time", f"{where}: running job moved: it must stay at start {run.since} on "
                    f"nodes {list(run.nodes)}, got start {s} on {list(a.nodes)}")
            for name in a.nodes:
                k = idx.node_idx.get(name)
                if k is None:
                    bad("eligibility", f"{where}: unknown node {name!r}")
                    continue
                for ua, ub in idx.nodes[k].unavailable:
                    if max(s, 0) < ub and ua < s + d:
                        bad("time", f"{where}: runs on node {name!r} during its unavailable "
                            f"window [{ua}, {ub})")
                lo, hi = max(s, 0), min(s + d, H)
                if hi > lo:
                    usage[k, lo:hi] += idx.vec(job.demand)
                    touched.add(k)
            continue
        deadline = min(job.deadline if job.deadline is not None else H, H)
        if s < job.release:
            bad("time", f"{where}: start {s} < release {job.release}")
        if s + d > deadline:
            bad("time", f"{where}: end {s + d} > deadline {deadline}")
        for p in job.after:
            if p not in placed:
                bad("precedence", f"{where}: predecessor {p!r} is not placed")
            elif placed[p].start + idx.jobs[p].duration > s:
                bad("precedence", f"{where}: starts at {s} before predecessor {p!r} ends at "
                    f"{placed[p].start + idx.jobs[p].duration}")
        if len(a.nodes) != job.replicas:
            bad("replication", f"{where}: {len(a.nodes)} nodes for {job.replicas} replicas")
        if len(set(a.nodes)) != len(a.nodes):
            bad("replication", f"{where}: replicas share a node")
        regions = []
        dem = idx.vec(job.demand)
        lo, hi = max(s, 0), min(s + d, H)
        for name in a.nodes:
            k = idx.node_idx.get(name)
            if k is None:
                bad("eligibility", f"{where}: unknown node {name!r}")
                continue
            node = idx.nodes[k]
            regions.append(node.region)
            if job.regions is not None and node.region not in job.regions:
                bad("eligibility", f"{where}: node {name!r} is in region {node.region!r}, "
                    f"not in allowed regions {list(job.regions)}")
            if job.node_types is not None and node.type not in job.node_types:
                bad("eligibility", f"{where}: node {name!r} has type {node.type!r}, "
                    f"not in allowed node_types {list(job.node_types)}")
            for ua, ub in node.unavailable:
                if s < ub and ua < s + d:
                    bad("time", f"{where}: runs on node {name!r} during its unavailable window [{ua}, {ub})")
            if hi > lo:
                usage[k, lo:hi] += dem
                touched.add(k)
        distinct = set(regions)
        # A replica on an unknown node has no region; that is an eligibility
        # violation already, not also too few regions.
        if len(regions) == len(a.nodes) and len(distinct) < job.min_regions:
            bad("replication", f"{where}: replicas span {len(distinct)} region(s) < min_regions "
                f"{job.min_regions}")
        if job.max_per_region is not None:
            for g in sorted(distinct):
                if regions.count(g) > job.max_per_region:
                    bad("replication", f"{where}: {regions.count(g)} replicas in region {g!r} "
                        f"> max_per_region {job.max_per_region}")
        if job.max_latency_ms is not None:
            for ga, gb in itertools.combinations(sorted(distinct), 2):
                lat = latency[ga][gb]
                if lat > job.max_latency_ms + TOL:
                    bad("replication", f"{where}: latency {ga}-{gb} {lat:g} ms > max_latency_ms "
                        f"{job.max_latency_ms:g}")

    for k in sorted(touched):
        cap = idx.vec(idx.nodes[k].capacity)
        over = usage[k] > cap + TOL * np.maximum(1.0, cap)
        if over.any():
            for t, r in zip(*np.nonzero(over)):
                bad("capacity", f"node {idx.names[k]!r} slot {t} {idx.res[r]}: demand "
                    f"{usage[k, t, r]:g} > capacity {cap[r]:g}")

    for jid, job in idx.jobs.items():
        if job.running is not None and jid not in placed:
            bad("time", f"running job {jid!r} is unplaced (a running job cannot stop)")
        elif job.required and jid not in placed:
            bad("required", f"required job {jid!r} is unplaced")

    parts: dict[str, Any] = {}
    metrics = compute_metrics(problem, plan.assignments, _parts=parts)
    power, energy = parts["power"], parts["energy"]
    for g, region in enumerate(problem.regions):
        if region.power_cap_kw is not None:
            cap = _series(region.power_cap_kw, H)
            over = power[g] > cap + TOL * np.maximum(1.0, cap)
            for t in np.nonzero(over)[0]:
                bad("energy", f"region {region.id!r} slot {t}: power {power[g, t]:.3f} kW > "
                    f"power_cap_kw {cap[t]:g}")
        if region.energy_budget_kwh is not None:
            total = float(energy[g].sum())
            budget = region.energy_budget_kwh
            if total > budget + TOL * max(1.0, budget):
                bad("energy", f"region {region.id!r}: energy {total:.3f} kWh > energy_budget_kwh {budget:g}")
    # What the plan claims about itself (metrics, status, bound, gap).
    for rule, msg in check_claims(problem, plan, metrics):
        bad(rule, msg)
    return out


def is_valid(plan: Plan, violations: list[Violation]) -> bool:
    """True if ``violations`` leave the plan valid as its status claims.

    Unplaced required jobs are allowed only in a plan whose status is
    ``infeasible``; every other violation makes the plan invalid.
    """
    for v in violations:
        if v.rule == "required" and plan.status == SolveStatus.INFEASIBLE:
            continue
        return False
    return True


def finite_or_none(x: float | None) -> float | None:
    """JSON has no infinity: map non-finite numbers to None."""
    if x is None or not math.isfinite(x):
        return None
    return x
