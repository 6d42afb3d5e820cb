"""Prepared data: a valid :class:`Problem` turned into what planners need.

Expanded nodes, dense indices, per-slot price/carbon/cap arrays, the region
latency matrix, eligible nodes per job, earliest starts after predecessors,
and the *static* reasons why a job can never be placed. Planners and the
formulation only loop over these arrays; they never parse or default.

Ids outside, indices inside: ``j`` is a job index, ``n`` a node index,
``g`` a region index, ``c`` a node-class index.
"""

from __future__ import annotations

import functools
import itertools

import networkx as nx
import numpy as np

from .plan import Assignment
from .problem import Problem

JobIdx = int
NodeIdx = int


def _series(val, H: int, default: float) -> np.ndarray:
    if val is None:
        return np.full(H, default, dtype=float)
    if isinstance(val, (int, float)):
        return np.full(H, float(val))
    return np.asarray(val, dtype=float)


class Prepared:
    """Dense arrays for one problem (see module docstring).

    Notes
    -----
    Node *classes* group expanded nodes that are interchangeable: the same
    node entry of the file (``count`` copies). Eligibility, power and
    maintenance are computed per class, so a 4,000-node pool costs as much as
    one entry.
    """

    def __init__(self, problem: Problem):
        self.problem = p = problem
        self.H = H = p.horizon.slots
        self.slot_hours = p.horizon.slot_hours
        self.resources = list(p.resources)
        self.R = len(self.resources)
        res_idx = {r: k for k, r in enumerate(self.resources)}

        def vec(m: dict[str, float]) -> np.ndarray:
            v = np.zeros(self.R)
            for r, q in m.items():
                v[res_idx[r]] = q
            return v

        # Regions.
        self.region_ids = [r.id for r in p.regions]
        self.region_index = {g: k for k, g in enumerate(self.region_ids)}
        self.G = len(self.region_ids)
        self.pue = np.array([r.pue for r in p.regions])
        self.price = np.stack([_series(r.price_per_kwh, H, 0.0) for r in p.regions])
        self.carbon = np.stack([_series(r.carbon_g_per_kwh, H, 0.0) for r in p.regions])
        self.power_cap = np.stack([_series(r.power_cap_kw, H, np.inf) for r in p.regions])
        self.capped = np.isfinite(self.power_cap).any(axis=1)
        self.cap_min = self.power_cap.min(axis=1)
        self.energy_budget = np.array(
            [np.inf if r.energy_budget_kwh is None else r.energy_budget_kwh for r in p.regions]
        )
        lat = p.latencies()
        self.latency = np.array([[lat[a][b] for b in self.region_ids] for a in self.region_ids])
        cp = p.objective.carbon_price_per_kg
        # Objective cost of drawing 1 kW (before PUE) in region g during slot t.
        self.cost_rate = self.pue[:, None] * self.slot_hours * (self.price + cp * self.carbon / 1000.0)
        # Carbon (kg) of drawing 1 kW (before PUE) in region g during slot t.
        self.carbon_rate = self.pue[:, None] * self.slot_hours * self.carbon / 1000.0
        self.cum_cost = np.concatenate([np.zeros((self.G, 1)), np.cumsum(self.cost_rate, 1)], 1)
        self.cum_carbon = np.concatenate([np.zeros((self.G, 1)), np.cumsum(self.carbon_rate, 1)], 1)

        # Node classes (one per node entry) and expanded nodes.
        self.class_ids = [n.id for n in p.nodes]
        self.C = len(p.nodes)
        self.class_region = np.array([self.region_index[n.region] for n in p.nodes], dtype=int)
        self.class_type = [n.type for n in p.nodes]
        self.class_cap = np.stack([vec(n.capacity) for n in p.nodes]) if p.nodes else np.zeros((0, self.R))
        self.class_kwpu = np.stack([vec(n.kw_per_unit) for n in p.nodes]) if p.nodes else np.zeros((0, self.R))
        self.class_idle = np.array([n.idle_kw for n in p.nodes], dtype=float)
        self.class_cost_per_slot = np.array([n.cost_per_slot for n in p.nodes], dtype=float)
        self.class_avail = np.ones((self.C, H), dtype=bool)
        for c, n in enumerate(p.nodes):
            for a, b in n.unavailable:
                self.class_avail[c, a:min(b, H)] = False
        # Cumulative count of unavailable slots: window [s, s+d) is free iff
        # blocked[c, s+d] - blocked[c, s] == 0.
        self.class_blocked = np.concatenate(
            [np.zeros((self.C, 1), dtype=int), np.cumsum(~self.class_avail, 1)], 1
        )
        self.class_has_maint = self.class_blocked[:, -1] > 0
        counts = np.array([n.count for n in p.nodes], dtype=int)
        self.class_first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)
        self.class_count = counts
        self.node_names = p.node_names()
        self.N = len(self.node_names)
        self.node_index = {name: k for k, name in enumerate(self.node_names)}
        self.node_class = np.repeat(np.arange(self.C), counts)
        self.node_region = self.class_region[self.node_class]
        self.capacity = self.class_cap[self.node_class]
        self.idle_kw = self.class_idle[self.node_class]
        # Fixed cost of making a node active: idle draw over the whole
        # horizon (through PUE, at that region's cost rate) plus its node cost.
        class_act = self.class_idle * self.cum_cost[self.class_region, H] + self.class_cost_per_slot * H
        self.class_activation_cost = class_act
        self.activation_cost = class_act[self.node_class]

        # Jobs.
        self.job_ids = [j.id for j in p.jobs]
        self.job_index = {jid: k for k, jid in enumerate(self.job_ids)}
        self.J = J = len(p.jobs)
        self.jobs = p.jobs
        self.demand = np.stack([vec(j.demand) for j in p.jobs]) if J else np.zeros((0, self.R))
        self.duration = np.array([j.duration for j in p.jobs], dtype=int)
        self.release = np.array([j.release for j in p.jobs], dtype=int)
        self.deadline = np.array(
            [min(H if j.deadline is None else j.deadline, H) for j in p.jobs], dtype=int
        )
        self.due = np.array([-1 if j.due is None else j.due for j in p.jobs], dtype=int)
        self.penalty = np.array([j.tardiness_penalty for j in p.jobs], dtype=float)
        self.priority = np.array([j.priority for j in p.jobs], dtype=int)
        self.value = np.array([j.value for j in p.jobs], dtype=float)
        self.required = np.array([j.required for j in p.jobs], dtype=bool)
        self.replicas = np.array([j.replicas for j in p.jobs], dtype=int)
        self._replanning(p)
        # A running job's precedence is not re-checked (it started under earlier rules).
        self.preds = [[] if j.running is not None else [self.job_index[q] for q in j.after]
                      for j in p.jobs]
        self.succs: list[list[int]] = [[] for _ in range(J)]
        for k, ps in enumerate(self.preds):
            for q in ps:
                self.succs[q].append(k)
        graph = nx.DiGraph()
        graph.add_nodes_from(range(J))
        graph.add_edges_from((q, k) for k in range(J) for q in self.preds[k])
        self.topo_order = list(nx.topological_sort(graph))
        # Earliest start given predecessors (a placed job's predecessors are placed).
        es = self.release.copy()
        for k in self.topo_order:
            for q in self.preds[k]:
                es[k] = max(es[k], es[q] + self.duration[q])
        self.earliest_start = es
        self.latest_start = self.deadline - self.duration
        self.tiers = sorted({int(x) for x in self.priority}, reverse=True)

    # ------------------------------------------------------------------
    # Re-planning (PROBLEM.md, Re-planning)
    # ------------------------------------------------------------------

    def _replanning(self, p: Problem) -> None:
        """Running jobs, kept placements and move costs.

        Inside the planners a running job is a job fixed at start 0 on its
        nodes for its remaining ``min(since + duration, H)`` slots (its end,
        hence its successors' earliest start and its tardiness, are the
        same); ``offset[j] = since`` maps an internal start back to the
        plan's start (:meth:`assignment`). ``planned[j]`` is a planned job's
        previous (start, sorted node indices) when a plan can still keep it;
        ``move_cost[j]`` is what moving job ``j`` costs.
        """
        H = self.H
        self.offset = np.zeros(self.J, dtype=int)
        self.running: dict[int, tuple[int, ...]] = {}
        self.planned: dict[int, tuple[int, tuple[int, ...]]] = {}
        self.move_cost = np.zeros(self.J)
        default = p.objective.move_cost
        for k, job in enumerate(p.jobs):
            run = job.running
            if run is not None:
                self.offset[k] = run.since
                self.running[k] = tuple(self.node_index[n] for n in run.nodes)
                self.duration[k] = min(run.since + job.duration, H)
                self.release[k] = 0
                self.deadline[k] = H
                self.due[k] = -1  # a constant: the end is fixed
                continue
            pl = job.planned
            if pl is None:
                continue
            self.move_cost[k] = default if job.move_cost is None else job.move_cost
            names = set(pl.nodes)
            if (len(names) == len(pl.nodes) == job.replicas and names <= self.node_index.keys()
                    and pl.start + job.duration <= H):
                self.planned[k] = (int(pl.start), tuple(sorted(self.node_index[n] for n in names)))

    def assignment(self, j: JobIdx, start: int, nodes: tuple[NodeIdx, ...]) -> Assignment:
        """The plan's assignment of job ``j`` at internal ``start`` on ``nodes``
        (a running job's internal start 0 is its ``since``)."""
        s = int(start) + int(self.offset[j])
        return Assignment(self.job_ids[j], s, s + int(self.jobs[j].duration),
                          tuple(self.node_names[n] for n in nodes))

    def internal_start(self, j: JobIdx, plan_start: int) -> int:
        """A plan's start of job ``j`` as the planners see it (inverse of :meth:`assignment`)."""
        return int(plan_start) - int(self.offset[j])

    # ------------------------------------------------------------------
    # Per-job helpers
    # ------------------------------------------------------------------

    def tardiness(self, j: JobIdx, starts: np.ndarray) -> np.ndarray:
        """Tardiness cost for each start in ``starts``."""
        if self.due[j] < 0 or self.penalty[j] == 0:
            return np.zeros(len(starts))
        return self.penalty[j] * np.maximum(0, starts + self.duration[j] - self.due[j])

    def class_power(self, j: JobIdx) -> np.ndarray:
        """Dynamic kW of one replica of job ``j`` on each node class."""
        pw = self.jobs[j].power_kw
        if pw is not None:
            return np.full(self.C, float(pw))
        return self.class_kwpu @ self.demand[j]

    @functools.cache  # noqa: B019 - one Prepared per solve, bounded by J
    def eligible_classes(self, j: JobIdx) -> np.ndarray:
        """Node classes in an allowed region and type where one replica fits."""
        job = self.jobs[j]
        # Jobs of the same shape share the answer (a generated fleet has few shapes).
        key = (self.demand[j].tobytes(),
               None if job.regions is None else tuple(sorted(job.regions)),
               None if job.node_types is None else tuple(sorted(job.node_types)))
        hit = self._eligible_by_shape.get(key)
        if hit is None:
            hit = self._eligible_by_shape[key] = self._eligible_classes(j)
        return hit

    @functools.cached_property
    def _eligible_by_shape(self) -> dict[tuple, np.ndarray]:
        return {}

    def _eligible_classes(self, j: JobIdx) -> np.ndarray:
        job = self.jobs[j]
        ok = np.all(self.class_cap >= self.demand[j] - 1e-9, axis=1)
        if job.regions is not None:
            allowed = {self.region_index[g] for g in job.regions}
            ok &= np.isin(self.class_region, list(allowed))
        if job.node_types is not None:
            ok &= np.isin(np.array(self.class_type, dtype=object), list(job.node_types))
        return np.nonzero(ok)[0]

    def window_free(self, classes: np.ndarray, d: int, starts: np.ndarray) -> np.ndarray:
        """(len(classes), len(starts)) bool: no maintenance in [s, s+d)."""
        if not self.class_has_maint[classes].any():
            return np.ones((len(classes), len(starts)), dtype=bool)
        free = self._window_free_all(d)[classes]
        S = len(starts)
        if S and int(starts[-1]) - int(starts[0]) == S - 1 and (
                S < 3 or (np.diff(starts) == 1).all()):  # a range of slots
            return free[:, int(starts[0]):int(starts[0]) + S]
        return free[:, starts]

    @functools.cache  # noqa: B019 - bounded by the number of distinct durations
    def _window_free_all(self, d: int) -> np.ndarray:
        """(C, H-d+1) bool: class c has no maintenance in [s, s+d)."""
        b = self.class_blocked
        return (b[:, d:] - b[:, :b.shape[1] - d]) == 0

    def start_range(self, j: JobIdx) -> np.ndarray:
        """Candidate start slots of ``j`` (release, predecessors, deadline)."""
        return np.arange(self.earliest_start[j], self.latest_start[j] + 1)

    # ------------------------------------------------------------------
    # Static reasons: why a job can never be placed, whatever else is placed
    # ------------------------------------------------------------------

    @functools.cached_property
    def static_reasons(self) -> dict[JobIdx, str]:
        """Jobs that no plan can place, with the specific reason."""
        out: dict[int, str] = {}
        for j in self.topo_order:
            if j in self.running:  # placed whatever the rules say now
                continue
            bad_preds = [self.job_ids[q] for q in self.preds[j] if q in out]
            if bad_preds:
                out[j] = f"predecessor {bad_preds[0]!r} can never be placed"
                continue
            reason = self._static_reason(j)
            if reason:
                out[j] = reason
        return out

    def _static_reason(self, j: JobIdx) -> str | None:
        job = self.jobs[j]
        d = int(self.duration[j])
        if self.release[j] + d > self.deadline[j]:
            return (f"window too short: release {self.release[j]} + duration {d} > "
                    f"deadline {self.deadline[j]}")
        if self.earliest_start[j] > self.latest_start[j]:
            return (f"window too short after predecessors: cannot start before slot "
                    f"{self.earliest_start[j]}, must end by {self.deadline[j]}")
        cls = self.eligible_classes(j)
        if len(cls) == 0:
            return self._no_eligible_reason(j)
        starts = self.start_range(j)
        free = self.window_free(cls, d, starts)
        cls_ok = free.any(axis=1)
        if not cls_ok.any():
            return "eligible nodes are unavailable (maintenance) in every feasible window"
        # Power cap and energy budget for one replica alone on an empty region.
        P = self.class_power(j)[cls]
        g = self.class_region[cls]
        pue = self.pue[g]
        H = self.H
        idle = self.class_idle[cls]
        ok = free
        # Fast path: one replica plus its node's idle draw fits under the
        # smallest cap of its region in every slot.
        if self.capped[g].any() and not (pue * (P + idle) <= self.cap_min[g] + 1e-9).all():
            win_min = self._cap_window_min(d)[g][:, starts]
            power_ok = (pue[:, None] * (P + idle)[:, None] <= win_min + 1e-9) & (
                (pue * idle <= self.power_cap[g].min(axis=1) + 1e-9)[:, None]
            )
            ok = free & power_ok
            if not ok.any():
                return ("power cap: one replica (with its node's idle draw) exceeds "
                        "power_cap_kw of every eligible region in every feasible window")
        energy = pue * (P * d + idle * H) * self.slot_hours
        budget_ok = energy <= self.energy_budget[g] + 1e-9
        ok &= budget_ok[:, None]
        if not ok.any():
            return "energy budget: one replica exceeds energy_budget_kwh of every eligible region"
        usable = ok.any(axis=1)
        cls = cls[usable]
        counts = self.class_count[cls]
        regions = self.class_region[cls]
        R = int(self.replicas[j])
        if job.min_regions > R:
            return f"min_regions {job.min_regions} > replicas {R}: replicas cannot span that many regions"
        if R == 1:
            return None
        if counts.sum() < R:
            return f"needs {R} replicas on distinct nodes, only {counts.sum()} eligible node(s)"
        per_region: dict[int, int] = {}
        for g_, k in zip(regions, counts):
            per_region[int(g_)] = per_region.get(int(g_), 0) + int(k)
        mpr = job.max_per_region or R
        if len(per_region) < job.min_regions:
            return (f"min_regions {job.min_regions}, but eligible nodes span only "
                    f"{len(per_region)} region(s)")
        if sum(min(mpr, k) for k in per_region.values()) < R:
            return (f"max_per_region {mpr} over {len(per_region)} eligible region(s) holds "
                    f"fewer than {R} replicas")
        if self.region_sets(j, per_region) == []:
            return (f"no set of eligible regions within max_latency_ms {job.max_latency_ms:g} "
                    f"holds {R} replicas over {job.min_regions} region(s)")
        return None

    @functools.cache  # noqa: B019 - bounded by the number of distinct durations
    def _cap_window_min(self, d: int) -> np.ndarray:
        """(G, H-d+1): the smallest power cap over every window of d slots."""
        return sliding_min(self.power_cap, d)

    def _no_eligible_reason(self, j: JobIdx) -> str:
        job = self.jobs[j]
        ok = np.ones(self.C, dtype=bool)
        if job.regions is not None:
            ok &= np.isin(self.class_region, [self.region_index[g] for g in job.regions])
            if not ok.any():
                return f"no node in allowed regions {list(job.regions)}"
        if job.node_types is not None:
            ok &= np.isin(np.array(self.class_type, dtype=object), list(job.node_types))
            if not ok.any():
                return "no node of allowed node_types " + str(list(job.node_types)) + (
                    " in allowed regions" if job.regions is not None else "")
        short = []
        for r, q in enumerate(self.demand[j]):
            if q > 0 and not (self.class_cap[ok, r] >= q - 1e-9).any():
                short.append(f"{self.resources[r]} >= {q:g}")
        if short:
            return "no eligible node has " + " and ".join(short)
        return "no eligible node has room for one replica (" + ", ".join(
            f"{self.resources[r]} {q:g}" for r, q in enumerate(self.demand[j]) if q > 0) + ")"

    def region_sets(self, j: JobIdx, per_region: dict[int, int] | None = None) -> list[tuple[int, ...]]:
        """Maximal region sets usable together by job ``j``'s replicas.

        Every two regions in a set are within ``max_latency_ms``; each set
        can hold the replicas (``max_per_region``) over ``min_regions``.
        """
        job = self.jobs[j]
        if per_region is None:
            per_region = {}
            for c in self.eligible_classes(j):
                g = int(self.class_region[c])
                per_region[g] = per_region.get(g, 0) + int(self.class_count[c])
        R = int(self.replicas[j])
        mpr = job.max_per_region or R
        regs = sorted(per_region)
        if job.max_latency_ms is None:
            cliques = [tuple(regs)]
        else:
            graph = nx.Graph()
            graph.add_nodes_from(regs)
            for a, b in itertools.combinations(regs, 2):
                if self.latency[a, b] <= job.max_latency_ms + 1e-9:
                    graph.add_edge(a, b)
            cliques = [tuple(sorted(c)) for c in nx.find_cliques(graph)]
        return [
            c for c in cliques
            if len(c) >= job.min_regions and sum(min(mpr, per_region[g]) for g in c) >= R
        ]


def sliding_min(a: np.ndarray, d: int) -> np.ndarray:
    """Minimum over every window of ``d`` along the last axis.

    By doubling: the minima of windows of 1, 2, 4, ... slots, then the two
    (overlapping) power-of-two windows that cover each window of ``d``:
    about log2(d) whole-array operations instead of one strided reduction.
    """
    if d == 1:
        return a.copy()
    n = a.shape[-1] - d + 1
    if n <= 0:
        return np.lib.stride_tricks.sliding_window_view(a, d, axis=-1).min(axis=-1)
    m, k = a, 1
    while 2 * k <= d:
        m = np.minimum(m[..., :-k], m[..., k:])
        k *= 2
    return np.minimum(m[..., :n], m[..., d - k:d - k + n])

