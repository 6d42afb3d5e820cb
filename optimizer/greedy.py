"""The greedy planner: always a valid plan, quickly, energy-aware.

It walks the jobs once in a fixed order and gives each the cheapest feasible
(start, nodes) choice given what is already placed, honouring every hard
constraint of PROBLEM.md: capacity over time, release/deadline, maintenance,
precedence, eligibility, replication (distinct nodes, ``min_regions``,
``max_per_region``, ``max_latency_ms``), regional power caps and energy
budgets.

Order: jobs that are required (or that a required job depends on) first,
then by effective priority tier from the highest (a job inherits the tier of
the highest job that depends on it), then by value density; always a
topological order of ``after``.

Choice: the objective cost of the option (dynamic energy at that start and
region, plus the idle draw and node cost if it wakes a node, plus tardiness),
then lower carbon, then the busier node (best fit), then the earlier start.

The same engine (:class:`Scheduler`) backs the baselines in
``benchmarks/baselines`` with other orders and scores, and explains why a
job of any plan is unplaced (:func:`explain_unplaced`).

Notes
-----
Scale: node classes (the ``count`` copies of one node entry) are evaluated
together; only active nodes plus the next idle copies of a class are scanned,
and classes are visited cheapest first, stopping once no class can beat the
best option found.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np

from .plan import Plan, SolveStatus, Unplaced
from .prepared import Prepared, sliding_min
from .problem import Problem

EPS = 1e-9
#: ``carbon`` objective mode: the greedy prices 1 kg CO2 at this many currency
#: units on top of the cost, so carbon decides and cost breaks ties.
CARBON_MODE_WEIGHT = 1e3
#: Candidate nodes evaluated together in one numpy batch.
BATCH_NODES = 128
#: Demand vectors whose per-class fit counts the scheduler keeps up to date,
#: and the memory they may take.
FIT_CACHE_KEYS = 64
#: Candidate nodes per batch when classes are visited cheapest bound first.
BATCH_NODES_PRUNED = 32
FIT_CACHE_BYTES = 64 * 2**20
#: A deadline :func:`run_greedy` honours when called without one: set by the
#: portfolio around members that take none (the registered baselines), so
#: that a member never runs past the solve's time limit.
member_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "greedy_member_deadline", default=None)
#: Starts looked at together by scores marked ``start_first`` (the earliest
#: feasible start wins: list schedulers).
START_BLOCK = 8
#: Job shapes whose per-class constants the scheduler keeps.
SHAPE_CACHE = 256


@dataclass
class Options:
    """Feasible single-replica options of one job on some candidate nodes.

    Arrays are (k, S) over candidate nodes ``nodes`` and starts ``starts``;
    ``ok`` marks feasible pairs.
    """

    nodes: np.ndarray  # (k,)
    starts: np.ndarray  # (S,)
    ok: np.ndarray  # (k, S) bool
    cost: np.ndarray  # (k, S) objective cost of the replica, incl. activation
    carbon: np.ndarray  # (k, S) kg
    fresh: np.ndarray  # (k,) bool: node inactive now
    power: np.ndarray  # (k,) dynamic kW of one replica


@dataclass
class _Shape:
    """Per-class constants of one replica of a job shape (:meth:`Scheduler._shape`)."""

    g_c: np.ndarray  # region of each class
    P_c: np.ndarray  # dynamic kW of one replica
    kw: np.ndarray  # P_c through PUE
    kw_idle: np.ndarray  # idle kW through PUE
    e_idle: np.ndarray  # kWh of a newly active node's idle draw over the horizon
    act: np.ndarray  # (k, 1) activation cost
    cum: np.ndarray  # (k, H+1) cumulative cost rate of the class's region
    count: np.ndarray  # copies per class
    maint: bool  # any class with maintenance
    budgeted: bool  # any class in a region with an energy budget
    capped: bool  # any class in a region with a power cap


#: A score: lower is better; given options and the scheduler, one array (k, S).
#: A score whose function has the attribute ``start_first = True`` promises
#: that an earlier start always scores lower, and that the scores at the
#: earliest start with a feasible node do not depend on which other nodes and
#: later starts are in the batch (list schedulers: ``start * M + rule``); the
#: engine then looks at the earliest starts first.
Score = Callable[["Options", "Scheduler", int], np.ndarray]


def cost_score(opts: Options, sched: Scheduler, j: int) -> np.ndarray:
    """The greedy planner's choice: cost, then carbon, then busier node, then earlier."""
    util = sched.util[opts.nodes][:, None]
    S = len(opts.starts)
    return (
        opts.cost
        + 1e-7 * opts.carbon
        - 1e-9 * util
        + 1e-12 * np.arange(S)[None, :]
    )


class Scheduler:
    """Mutable schedule state with feasibility checks and placement.

    Parameters
    ----------
    prep
        Prepared problem data.
    cost_rate
        Override of the per-region, per-slot cost of 1 kW (e.g. zeros for a
        carbon-agnostic baseline). Reported metrics never use it. Default:
        the objective's cost rate, plus :data:`CARBON_MODE_WEIGHT` times the
        carbon rate in ``carbon`` objective mode.
    """

    def __init__(self, prep: Prepared, cost_rate: np.ndarray | None = None):
        self.prep = p = prep
        # Free capacity, stored per resource (R, N, H) so that gathering the
        # rows of candidate nodes is contiguous; ``free`` is the (N, H, R) view.
        self.free_r = np.ascontiguousarray(
            np.repeat(p.capacity.T[:, :, None], p.H, axis=2))  # (R, N, H)
        self.free = self.free_r.transpose(1, 2, 0)  # (N, H, R) view
        # Per node class and slot, the most free of each resource on any of
        # its *active* nodes (-inf: none active): a necessary condition for
        # an active node of the class to fit a job, checked for all classes
        # and starts at once before any node is looked at (see
        # :meth:`class_bounds`).
        self.cls_free = np.full((p.R, p.C, p.H), -np.inf)
        self._cls_free_stale = np.zeros(p.C, dtype=bool)  # rows brought up to date on use
        # For the most common demand vectors (up to FIT_CACHE_KEYS): per
        # class and slot, whether no active node of the class has room for
        # one replica (K, C, H), and its cumulative count along slots
        # (K, C, H+1); kept up to date by :meth:`place`.
        self._fit_key: dict[bytes, int] = {}
        self._fit_cap = int(min(FIT_CACHE_KEYS, FIT_CACHE_BYTES // max(1, 8 * p.C * (p.H + 1))))
        self._fit_dem = np.zeros((self._fit_cap, p.R))
        self._fit_count = np.zeros((self._fit_cap, p.C, p.H), dtype=np.int32)
        self._fit_blocked = np.zeros((self._fit_cap, p.C, p.H + 1), dtype=np.int32)
        # Classes whose cumulative counts are behind their counts, per key
        # (brought up to date when the key is next asked for).
        self._fit_stale = np.zeros((self._fit_cap, p.C), dtype=bool)
        self._capped_idx = np.flatnonzero(np.isfinite(p.power_cap).any(axis=1))
        self._shapes: dict[tuple, _Shape] = {}
        self.head = p.power_cap.copy()  # facility kW headroom (G, H)
        self.budget_left = p.energy_budget.copy()
        self.capped = np.isfinite(p.power_cap).any(axis=1)
        self.budgeted = np.isfinite(p.energy_budget)
        self.active = np.zeros(p.N, dtype=bool)
        self.class_active = np.zeros(p.C, dtype=int)  # active nodes per class
        self._cand_cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._cand_keys: dict[int, list[tuple[int, int]]] = {}  # class -> its cache keys
        self.util = np.zeros(p.N)  # used share of capacity, summed over slots
        self.start = np.full(p.J, -1, dtype=int)
        self.nodes: dict[int, tuple[int, ...]] = {}
        rate = p.cost_rate if cost_rate is None else cost_rate
        if cost_rate is None and p.problem.objective.mode == "carbon":
            rate = p.cost_rate + CARBON_MODE_WEIGHT * p.carbon_rate
        self.cum_cost = np.concatenate([np.zeros((p.G, 1)), np.cumsum(rate, 1)], 1)
        self.activation_cost = p.class_idle * self.cum_cost[p.class_region, p.H] + (
            p.class_cost_per_slot * p.H
        )
        self._capnorm = np.where(p.capacity > 0, 1.0 / np.maximum(p.capacity, EPS), 0.0)
        # Latest start that still lets every chain of successors meet its
        # deadline (successors that can never be placed do not count).
        ls = p.latest_start.copy()
        for k in reversed(p.topo_order):
            for q in p.succs[k]:
                if q not in p.static_reasons:
                    ls[k] = min(ls[k], ls[q] - p.duration[k])
        self.latest_start_chain = ls

    # -- state ----------------------------------------------------------

    def place(self, j: int, start: int, nodes: tuple[int, ...]) -> None:
        """Commit job ``j`` at ``start`` on ``nodes`` (assumed feasible)."""
        p = self.prep
        d = int(p.duration[j])
        P_cls = p.class_power(j)
        K = len(self._fit_key)
        for n in nodes:
            c = p.node_class[n]
            g = p.class_region[c]
            woke = not self.active[n]
            # A newly active node adds room over the whole horizon.
            a, b = (0, p.H) if woke else (start, start + d)
            if K and not woke:
                self._fit_count[:K, c, a:b] -= self._room(n, a, b, K)
            self.free[n, start:start + d] -= p.demand[j]
            self.util[n] += float((p.demand[j] * self._capnorm[n]).sum()) * d
            self.head[g, start:start + d] -= p.pue[g] * P_cls[c]
            energy = p.pue[g] * P_cls[c] * d * p.slot_hours
            if woke:
                self.active[n] = True
                self.class_active[c] += 1
                for key in self._cand_keys.pop(c, ()):
                    self._cand_cache.pop(key, None)
                self.head[g] -= p.pue[g] * p.class_idle[c]
                energy += p.pue[g] * p.class_idle[c] * p.H * p.slot_hours
            self.budget_left[g] -= energy
            self._cls_free_stale[c] = True
            if K:
                self._fit_count[:K, c, a:b] += self._room(n, a, b, K)
                self._fit_stale[:K, c] = True
        self.start[j] = start
        self.nodes[j] = tuple(int(n) for n in nodes)

    def _refresh_cls_free(self, classes: np.ndarray) -> None:
        """Bring :attr:`cls_free` up to date for ``classes`` (placements only
        mark the classes whose rows changed)."""
        p = self.prep
        for c in classes[self._cls_free_stale[classes]]:
            lo = p.class_first[c]
            act = np.flatnonzero(self.active[lo:lo + p.class_count[c]]) + lo
            self.cls_free[:, c] = self.free_r[:, act].max(axis=1) if len(act) else -np.inf
            self._cls_free_stale[c] = False

    def _room(self, n: int, a: int, b: int, K: int) -> np.ndarray:
        """(K, b-a) bool: where node ``n`` has room for each cached demand
        (added to or taken from the int counts as 1 / 0)."""
        dem = self._fit_dem[:K, :, None] - EPS  # (K, R, 1)
        return ((self.free_r[None, :, n, a:b] >= dem) | (dem <= 0)).all(axis=1)

    def starts_for(self, j: int) -> np.ndarray:
        """Start slots allowed now: release, deadline, and *placed* predecessors' ends."""
        p = self.prep
        es = int(p.release[j])
        for q in p.preds[j]:
            es = max(es, int(self.start[q] + p.duration[q]))
        return np.arange(es, int(p.latest_start[j]) + 1)

    # -- options --------------------------------------------------------

    def candidates(self, c: int, fresh_needed: int) -> tuple[np.ndarray, np.ndarray]:
        """Active nodes of class ``c`` plus up to ``fresh_needed`` idle copies."""
        key = (c, fresh_needed)
        hit = self._cand_cache.get(key)
        if hit is not None:
            return hit
        p = self.prep
        lo = p.class_first[c]
        act = self.active[lo:lo + p.class_count[c]]
        on = np.flatnonzero(act) + lo
        off = np.flatnonzero(~act)[:fresh_needed] + lo
        nodes = np.concatenate([on, off])
        fresh = np.concatenate([np.zeros(len(on), bool), np.ones(len(off), bool)])
        self._cand_cache[key] = (nodes, fresh)
        self._cand_keys.setdefault(c, []).append(key)
        return nodes, fresh

    def class_options(self, j: int, c: int, starts: np.ndarray, fresh_needed: int,
                      stats: dict[str, int]) -> Options | None:
        """Feasible options of one replica of ``j`` on class ``c``'s candidates."""
        return self.options(j, np.array([c]), starts, fresh_needed, stats)

    def options(self, j: int, classes: np.ndarray, starts: np.ndarray, fresh_needed: int,
                stats: dict[str, int],
                class_ok: tuple[np.ndarray, np.ndarray] | None = None) -> Options | None:
        """Feasible options of one replica of ``j`` on the candidates of
        ``classes`` (active nodes plus ``fresh_needed`` idle copies each),
        evaluated together in one batch.

        ``class_ok``: the (classes, starts) masks for active and idle nodes
        from :meth:`class_bounds` (maintenance, power cap and budget of one
        replica, already checked there); without them they are checked here.
        """
        p = self.prep
        parts = [self.candidates(int(c), fresh_needed) for c in classes]
        sizes = [len(n) for n, _ in parts]
        if sum(sizes) == 0:
            return None
        nodes = np.concatenate([n for n, _ in parts])
        fresh = np.concatenate([f for _, f in parts])
        pos = np.repeat(np.arange(len(classes)), sizes)  # node -> position in classes
        d = int(p.duration[j])
        s0, s1 = int(starts[0]), int(starts[-1]) + d
        rel = starts - s0
        # Per needed resource (most jobs need few): (k, W) blocks, dropping
        # nodes with no room at all after each resource.
        fit = None
        for r in np.flatnonzero(p.demand[j] > 0):
            blk = self.free_r[r][nodes, s0:s1] >= p.demand[j, r] - EPS
            fit = blk if fit is None else fit & blk
        if fit is None:
            fit = np.ones((len(nodes), s1 - s0), dtype=bool)
        blocked = np.zeros((len(nodes), fit.shape[1] + 1), dtype=np.int32)
        np.cumsum(~fit, axis=1, out=blocked[:, 1:])
        ok = (blocked[:, rel + d] - blocked[:, rel]) == 0
        if class_ok is not None:
            ok &= np.where(fresh[:, None], class_ok[1][pos], class_ok[0][pos])
        else:
            ok &= p.window_free(classes, d, starts)[pos]
        if not ok.any():
            stats["capacity"] += 1
            return None
        g_c = p.class_region[classes]
        P_c = p.class_power(j)[classes]
        idle_c = p.class_idle[classes]
        pue_c = p.pue[g_c]
        P, idle, pue = P_c[pos], idle_c[pos], pue_c[pos]
        if class_ok is not None:
            pass
        elif self.capped[g_c].any():
            win_c = np.full((len(classes), len(starts)), np.inf)
            head_min = np.full(len(classes), np.inf)
            for g in np.unique(g_c[self.capped[g_c]]):
                m = g_c == g
                win_c[m] = sliding_min(self.head[g, s0:s1], d)[rel]
                head_min[m] = self.head[g].min()
            need_kw = pue * (P + idle * fresh)
            pw_ok = need_kw[:, None] <= win_c[pos] + 1e-9
            pw_ok &= (~fresh | (pue * idle <= head_min[pos] + 1e-9))[:, None]
            if not (ok & pw_ok).any():
                stats["power"] += 1
                return None
            ok &= pw_ok
        if class_ok is None and self.budgeted[g_c].any():
            energy = pue * (P * d + idle * p.H * fresh) * p.slot_hours
            b_ok = energy <= self.budget_left[g_c][pos] + 1e-9
            if not (ok & b_ok[:, None]).any():
                stats["budget"] += 1
                return None
            ok &= b_ok[:, None]
        cum = self.cum_cost[g_c]
        dyn_c = P_c[:, None] * (cum[:, starts + d] - cum[:, starts])
        cost = (dyn_c + p.tardiness(j, starts)[None, :])[pos] + (
            self.activation_cost[classes][pos] * fresh)[:, None]
        cumc = p.cum_carbon[g_c]
        carb_c = P_c[:, None] * (cumc[:, starts + d] - cumc[:, starts])
        carb = carb_c[pos] + (idle * p.cum_carbon[g_c, p.H][pos] * fresh)[:, None]
        return Options(nodes, starts, ok, cost, carb, fresh, P)

    def lower_bounds(self, j: int, classes: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Cheapest possible cost of one replica per class: the cheapest
        start, plus the activation cost where no node of the class is active."""
        p = self.prep
        d = int(p.duration[j])
        g = p.class_region[classes]
        P = p.class_power(j)[classes]
        cum = self.cum_cost[g]
        dyn = P[:, None] * (cum[:, starts + d] - cum[:, starts])
        lb = (dyn + p.tardiness(j, starts)[None, :]).min(axis=1)
        act = self.activation_cost[classes]
        return lb + np.where(self.class_active[classes] > 0, np.minimum(act, 0.0), act)

    def class_bounds(self, j: int, classes: np.ndarray, starts: np.ndarray,
                     stats: dict[str, int] | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per class, the cheapest cost of one replica at a start where it
        *might* fit (``inf``: nowhere), and that lower bound per (class,
        start) pair (``inf`` where it cannot fit), and the (classes, starts)
        masks where an active or an idle node of the class might fit.

        A start might fit on class ``c`` if an active node of ``c`` has, in
        every slot of the window, the most free of each needed resource
        (:attr:`cls_free`, a necessary condition), or if ``c`` has an idle
        copy (paying its activation cost); maintenance windows are exact.
        Regional power caps and energy budgets are checked for one replica.
        A valid lower bound, much tighter than :meth:`lower_bounds` once
        nodes fill up. When nothing can fit, ``stats`` counts the
        constraint that ruled the last options out.
        """
        p = self.prep
        d = int(p.duration[j])
        S = len(starts)
        s0, s1 = int(starts[0]), int(starts[-1]) + d
        rel = starts - s0
        # try_job's starts are a range of slots: slices instead of gathers.
        rng = s1 - d - s0 == S - 1
        lo, hi = (slice(s0, s0 + S), slice(s0 + d, s0 + d + S)) if rng else (starts, starts + d)
        sh = self._shape(j, classes)
        blocked = self._fit_counts(j)
        if blocked is not None:
            bk = blocked[classes]
            ok_act = (bk[:, hi] - bk[:, lo]) == 0
        else:
            self._refresh_cls_free(classes)
            fit = None
            for r in np.flatnonzero(p.demand[j] > 0):
                blk = self.cls_free[r][classes, s0:s1] >= p.demand[j, r] - EPS
                fit = blk if fit is None else fit & blk
            if fit is None:
                fit = np.broadcast_to((self.class_active[classes] > 0)[:, None],
                                      (len(classes), s1 - s0))
            blocked = np.zeros((len(classes), s1 - s0 + 1), dtype=np.int32)
            np.cumsum(~fit, axis=1, out=blocked[:, 1:])
            ok_act = (blocked[:, rel + d] - blocked[:, rel]) == 0
        idle_left = (self.class_active[classes] < sh.count)[:, None]
        if sh.maint:
            maint = p._window_free_all(d)[classes][:, lo]
            ok_act &= maint
            ok_fresh = maint & idle_left
        else:
            ok_fresh = np.repeat(idle_left, S, axis=1)
        g_c = sh.g_c
        # Regional power caps and energy budgets hold per class exactly;
        # skipped where even the dearest class of a region fits all of them.
        why = "capacity"
        if sh.budgeted:
            if stats is not None:
                why = "budget" if (ok_act | ok_fresh).any() else why
            e_act = sh.kw * d * p.slot_hours
            e_fresh = e_act + sh.e_idle
            left = self.budget_left[g_c] + 1e-9
            act_in, fresh_in = e_act <= left, e_fresh <= left
            if not (act_in.all() and fresh_in.all()):
                ok_act &= act_in[:, None]
                ok_fresh &= fresh_in[:, None]
        if sh.capped:
            if stats is not None:
                why = "power" if (ok_act | ok_fresh).any() else why
            cg = self._capped_idx
            seg = self.head[cg, s0:s1]
            head_min = self.head.min(axis=1)
            low = np.full(p.G, np.inf)
            low[cg] = seg.min(axis=1)
            if not ((sh.kw + sh.kw_idle <= low[g_c] + 1e-9).all()
                    and (sh.kw_idle <= head_min[g_c] + 1e-9).all()):
                head = np.full((p.G, S), np.inf)
                win = sliding_min(seg, d)
                head[cg] = win if rng else win[:, rel]
                hw = head[g_c] + 1e-9
                ok_act &= sh.kw[:, None] <= hw
                ok_fresh &= ((sh.kw + sh.kw_idle)[:, None] <= hw) & (
                    sh.kw_idle <= head_min[g_c] + 1e-9)[:, None]
        dyn = sh.P_c[:, None] * (sh.cum[:, hi] - sh.cum[:, lo])
        if stats is not None and not (ok_act | ok_fresh).any():
            stats[why] += 1
        if p.due[j] >= 0 and p.penalty[j] != 0:
            dyn += p.tardiness(j, starts)[None, :]
        pair = np.where(ok_act, dyn, np.inf)
        np.minimum(pair, np.where(ok_fresh, dyn + sh.act, np.inf), out=pair)
        return pair.min(axis=1), pair, ok_act, ok_fresh

    def _shape(self, j: int, classes: np.ndarray) -> _Shape:
        """Per-class constants of one replica of ``j`` on ``classes`` (shared
        by every job with the same demand, power and eligible classes)."""
        p = self.prep
        pw = p.jobs[j].power_kw
        key = (classes.tobytes(), p.demand[j].tobytes(), pw)
        sh = self._shapes.get(key)
        if sh is None:
            if len(self._shapes) >= SHAPE_CACHE:
                self._shapes.clear()
            g_c = p.class_region[classes]
            P_c = p.class_power(j)[classes]
            kw = p.pue[g_c] * P_c
            kw_idle = p.pue[g_c] * p.class_idle[classes]
            sh = self._shapes[key] = _Shape(
                g_c=g_c, P_c=P_c, kw=kw, kw_idle=kw_idle,
                e_idle=kw_idle * p.H * p.slot_hours,
                act=self.activation_cost[classes][:, None], cum=self.cum_cost[g_c],
                count=p.class_count[classes], maint=bool(p.class_has_maint[classes].any()),
                budgeted=bool(self.budgeted[g_c].any()), capped=bool(self.capped[g_c].any()))
        return sh

    def _fit_counts(self, j: int) -> np.ndarray | None:
        """(C, H+1) cumulative counts of slots where no active node of a
        class has room for one replica of ``j``, or None when ``j``'s demand
        vector is not (and can no longer be) cached."""
        key = self.prep.demand[j].tobytes()
        k = self._fit_key.get(key)
        if k is None:
            k = len(self._fit_key)
            if k >= self._fit_cap:
                return None
            p = self.prep
            dem = p.demand[j]
            self._fit_key[key] = k
            self._fit_dem[k] = dem
            need = dem > 0
            room = (self.free_r[need] >= dem[need, None, None] - EPS).all(axis=0)  # (N, H)
            room &= self.active[:, None]
            if p.N:
                self._fit_count[k] = np.add.reduceat(room.astype(np.int32), p.class_first, axis=0)
            np.cumsum(self._fit_count[k] == 0, axis=1, out=self._fit_blocked[k, :, 1:])
            self._fit_stale[k] = False
        elif self._fit_stale[k].any():
            cs = np.flatnonzero(self._fit_stale[k])
            self._fit_blocked[k, cs, 1:] = np.cumsum(self._fit_count[k, cs] == 0, axis=1)
            self._fit_stale[k, cs] = False
        return self._fit_blocked[k]

    # -- choosing ---------------------------------------------------------

    def best_single(self, j: int, starts: np.ndarray, score: Score, prune: bool,
                    stats: dict[str, int]) -> tuple[int, tuple[int, ...]] | None:
        """Best (start, (node,)) for a one-replica job, or None.

        Classes are evaluated in batches of about :data:`BATCH_NODES`
        candidate nodes. With ``prune`` (cost-based scores), batches go
        cheapest lower bound first and stop once no class can beat the best
        option found; later batches only look at starts that still could.
        """
        p = self.prep
        classes = p.eligible_classes(j)
        if not prune:
            return self._best_single_all(j, classes, starts, score, stats)
        lb, pair, ok_act, ok_fresh = self.class_bounds(j, classes, starts, stats)
        order = np.argsort(lb, kind="stable")
        order = order[np.isfinite(lb[order])]  # classes where it can never fit
        best: tuple[float, int, int] | None = None  # (score, start, node)
        best_cost = np.inf
        i = 0
        while i < len(order) and lb[order[i]] < best_cost - 1e-12:
            batch, size = [], 0
            while (i < len(order) and (not batch or size < BATCH_NODES_PRUNED)
                   and lb[order[i]] < best_cost - 1e-12):
                batch.append(int(order[i]))
                size += int(self.class_active[classes[order[i]]]) + 1
                i += 1
            bound_next = lb[order[i]] if i < len(order) else np.inf
            batch_pair = pair[batch].min(axis=0)  # (S,) cheapest possible per start
            # First the starts that could come in below every class not yet
            # seen; if the best of those is that cheap, nothing else can win.
            # Otherwise the batch's other starts that could still beat it.
            done = np.zeros(len(starts), dtype=bool)
            for limit in (bound_next, np.inf):
                keep = ~done & (batch_pair <= limit) & (batch_pair < best_cost - 1e-12)
                if not keep.any():
                    continue
                done |= keep
                opts = self.options(j, classes[batch], starts[keep], 1, stats,
                                    (ok_act[batch][:, keep], ok_fresh[batch][:, keep]))
                if opts is not None:
                    sc = np.where(opts.ok, score(opts, self, j), np.inf)
                    flat = int(np.argmin(sc))
                    a, b = divmod(flat, sc.shape[1])
                    if best is None or sc[a, b] < best[0]:
                        best = (float(sc[a, b]), int(opts.starts[b]), int(opts.nodes[a]))
                        best_cost = float(opts.cost[a, b])
                if best_cost <= bound_next + 1e-12:
                    break
        if best is None:
            return None
        return best[1], (best[2],)

    def _best_single_all(self, j: int, classes: np.ndarray, starts: np.ndarray, score: Score,
                         stats: dict[str, int]) -> tuple[int, tuple[int, ...]] | None:
        """Best option over every class (scores that are not costs), in
        batches of about :data:`BATCH_NODES` candidate nodes, in class order;
        classes and starts where nothing can fit (:meth:`class_bounds`) are
        skipped."""
        _, pair, ok_act, ok_fresh = self.class_bounds(j, classes, starts, stats)
        room = np.isfinite(pair)
        if getattr(score, "start_first", False):
            # The earliest start with a feasible node wins: look at the
            # starts where something might fit a block at a time, earliest
            # first; the first block with a feasible option holds the best.
            cols = np.flatnonzero(room.any(axis=0))
            for i in range(0, len(cols), START_BLOCK):
                got = self._best_single_cols(j, classes, starts, score, stats, room, ok_act,
                                             ok_fresh, cols[i:i + START_BLOCK])
                if got is not None:
                    return got
            return None
        return self._best_single_cols(j, classes, starts, score, stats, room, ok_act, ok_fresh,
                                      np.arange(len(starts)))

    def _best_single_cols(self, j: int, classes: np.ndarray, starts: np.ndarray, score: Score,
                          stats: dict[str, int], room: np.ndarray, ok_act: np.ndarray,
                          ok_fresh: np.ndarray, cols: np.ndarray
                          ) -> tuple[int, tuple[int, ...]] | None:
        """:meth:`_best_single_all` over the starts ``starts[cols]``."""
        room, ok_act, ok_fresh = room[:, cols], ok_act[:, cols], ok_fresh[:, cols]
        starts = starts[cols]
        live = np.flatnonzero(room.any(axis=1))
        best: tuple[float, int, int] | None = None  # (score, start, node)
        i = 0
        while i < len(live):
            batch, size = [], 0
            while i < len(live) and (not batch or size < BATCH_NODES):
                batch.append(int(live[i]))
                size += int(self.class_active[classes[live[i]]]) + 1
                i += 1
            keep = room[batch].any(axis=0)
            opts = self.options(j, classes[batch], starts[keep], 1, stats,
                                (ok_act[batch][:, keep], ok_fresh[batch][:, keep]))
            if opts is None:
                continue
            sc = np.where(opts.ok, score(opts, self, j), np.inf)
            flat = int(np.argmin(sc))
            a, b = divmod(flat, sc.shape[1])
            if best is None or sc[a, b] < best[0]:
                best = (float(sc[a, b]), int(opts.starts[b]), int(opts.nodes[a]))
        if best is None:
            return None
        return best[1], (best[2],)

    def best_multi(self, j: int, starts: np.ndarray, score: Score,
                   stats: dict[str, int], max_tries: int = 8) -> tuple[int, tuple[int, ...]] | None:
        """Best (start, nodes) for a replicated job, or None (a heuristic choice)."""
        p = self.prep
        job = p.jobs[j]
        R = int(p.replicas[j])
        mpr = job.max_per_region or R
        # Only classes and starts where R replicas might fit (an upper bound
        # on the nodes with room: active ones plus up to R idle copies).
        classes = p.eligible_classes(j)
        _, pair, ok_act, ok_fresh = self.class_bounds(j, classes, starts, stats)
        room = np.isfinite(pair)
        act = self.class_active[classes]
        most = act + np.minimum(R, p.class_count[classes] - act)
        keep_s = (room * most[:, None]).sum(axis=0) >= R
        if not keep_s.any():
            if room.any():
                stats["capacity"] += 1
            return None
        keep_c = room[:, keep_s].any(axis=1)
        starts = starts[keep_s]
        opts = self.options(j, classes[keep_c], starts, R, stats,
                            (ok_act[keep_c][:, keep_s], ok_fresh[keep_c][:, keep_s]))
        if opts is None:
            return None
        nodes, ok, power, fresh = opts.nodes, opts.ok, opts.power, opts.fresh
        sc = np.where(ok, score(opts, self, j), np.inf)
        regions = p.node_region[nodes]
        cliques = p.region_sets(j)
        if not cliques:
            stats["replication"] += 1
            return None
        # Lower bound per start: the R cheapest feasible nodes.
        counts = ok.sum(axis=0)
        viable = np.flatnonzero(counts >= R)
        if len(viable) == 0:
            stats["replication"] += 1
            return None
        srt = np.sort(sc[:, viable], axis=0)[:R].sum(axis=0)
        order = viable[np.argsort(srt, kind="stable")]
        best: tuple[float, int, tuple[int, ...]] | None = None
        tries = 0
        for b in order:
            if best is not None and srt[np.searchsorted(viable, b)] >= best[0]:
                break
            tries += 1
            if tries > max_tries:
                break
            col = sc[:, b]
            feas = np.flatnonzero(ok[:, b])
            for clique in cliques:
                pick = _pick_replicas(feas, col, regions, set(clique), R, job.min_regions, mpr)
                if pick is None:
                    continue
                total = float(col[pick].sum())
                if best is not None and total >= best[0]:
                    continue
                s = int(starts[b])
                if not self._regions_ok(j, s, nodes[pick], power[pick], fresh[pick]):
                    stats["power"] += 1
                    continue
                best = (total, s, tuple(int(n) for n in nodes[pick]))
        if best is None:
            stats["replication"] += 1
            return None
        return best[1], best[2]

    def _regions_ok(self, j: int, s: int, nodes: np.ndarray, power: np.ndarray,
                    fresh: np.ndarray) -> bool:
        """Power cap and budget with all replicas of one job together."""
        p = self.prep
        d = int(p.duration[j])
        for g in np.unique(p.node_region[nodes]):
            m = p.node_region[nodes] == g
            idle = float((p.idle_kw[nodes][m] * fresh[m]).sum())
            dyn = float(power[m].sum())
            pue = p.pue[g]
            if pue * (dyn + idle) > self.head[g, s:s + d].min() + 1e-9:
                return False
            if idle > 0 and pue * idle > self.head[g].min() + 1e-9:
                return False
            if pue * (dyn * d + idle * p.H) * p.slot_hours > self.budget_left[g] + 1e-9:
                return False
        return True

    def try_job(self, j: int, score: Score = cost_score, prune: bool = True
                ) -> tuple[int, tuple[int, ...]] | str:
        """The best option for job ``j`` now, or the reason there is none."""
        p = self.prep
        static = p.static_reasons.get(j)
        if static:
            return static
        for q in p.preds[j]:
            if self.start[q] < 0:
                return f"predecessor {p.job_ids[q]!r} is unplaced"
        starts = self.starts_for(j)
        if len(starts) == 0:
            return (f"window too short: predecessors end at slot {int(p.release[j]) if not p.preds[j] else max(int(self.start[q] + p.duration[q]) for q in p.preds[j])}, "
                    f"duration {int(p.duration[j])}, deadline {int(p.deadline[j])}")
        stats = {"capacity": 0, "power": 0, "budget": 0, "replication": 0}
        got = None
        # Leave room for successors first: the cheapest start of a job may be
        # so late that a (required) successor can no longer meet its deadline.
        room = starts[starts <= self.latest_start_chain[j]]
        if 0 < len(room) < len(starts):
            got = self._best(j, room, score, prune, dict.fromkeys(stats, 0))
        if got is None:
            got = self._best(j, starts, score, prune, stats)
        if got is not None:
            return got
        return self._reason(j, starts, stats)

    def _best(self, j: int, starts: np.ndarray, score: Score, prune: bool,
              stats: dict[str, int]) -> tuple[int, tuple[int, ...]] | None:
        if self.prep.replicas[j] == 1:
            return self.best_single(j, starts, score, prune, stats)
        return self.best_multi(j, starts, score, stats)

    def _reason(self, j: int, starts: np.ndarray, stats: dict[str, int]) -> str:
        p = self.prep
        win = f"[{int(starts[0])}, {int(p.deadline[j])})"
        if stats["budget"] and not stats["power"]:
            return f"energy budget: eligible regions' energy_budget_kwh is used up for window {win}"
        if stats["power"]:
            return f"power cap: eligible regions' power_cap_kw is reached in every feasible start of {win}"
        if stats["replication"]:
            return (f"replication: no start in {win} has {int(p.replicas[j])} free eligible nodes "
                    "meeting min_regions, max_per_region and max_latency_ms")
        return f"no capacity in window {win} on eligible nodes"


def inherited_levels(p: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Per job, requiredness and tier inherited from everything that depends
    on it (a successor cannot be placed without it)."""
    ereq = p.required.copy()
    etier = p.priority.copy()
    for j in reversed(p.topo_order):
        for s in p.succs[j]:
            ereq[j] |= ereq[s]
            etier[j] = max(etier[j], etier[s])
    return ereq, etier


def job_order(prep: Prepared, key: Callable[[int], tuple] | None = None) -> list[int]:
    """The greedy order: required first, then effective tier, then ``key``.

    A job inherits the requiredness and tier of anything that depends on it
    (you cannot place a successor without it). The order is topological.
    """
    p = prep
    ereq, etier = inherited_levels(p)
    if key is None:
        key = _density_key(p)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(p.J))
    graph.add_edges_from((q, j) for j in range(p.J) for q in p.preds[j])
    return list(nx.lexicographical_topological_sort(
        graph, key=lambda j: (not ereq[j], -etier[j], *key(j), j)
    ))


def _density_key(p: Prepared) -> Callable[[int], tuple]:
    share = np.zeros(p.J)
    if p.R and p.C:
        maxcap = np.maximum(p.class_cap.max(axis=0), EPS)
        share = (p.demand / maxcap).max(axis=1)
    size = np.maximum(share, 1e-3) * p.duration * p.replicas + EPS
    density = p.value / size
    return lambda j: (-float(density[j]), int(p.deadline[j]))


def effective_value(p: Prepared) -> np.ndarray:
    """A job's value plus everything that depends on it (weighted-mode bound)."""
    ev = p.value.copy()
    for j in reversed(p.topo_order):
        for s in p.succs[j]:
            ev[j] += ev[s]
    return ev


def run_greedy(
    problem: Problem,
    *,
    prep: Prepared | None = None,
    order: list[int] | None = None,
    score: Score = cost_score,
    prune: bool = True,
    cost_rate: np.ndarray | None = None,
    solver: str = "greedy",
    value_checks: bool = True,
    deadline: float | None = None,
) -> Plan:
    """Plan with the greedy engine; see the module docstring.

    Parameters
    ----------
    problem
        A valid problem.
    order, score, prune, cost_rate
        Hooks for the baselines: the job order, the option score (lower is
        better), whether cost-based class pruning applies, and the cost rate.
    value_checks
        Skip jobs not worth placing (zero value, or in weighted mode costing
        more than their value). The naive baselines turn this off: they place
        every job they can.
    deadline
        A ``time.perf_counter()`` reading: past it, jobs that are not
        required are left unplaced untried (the reason says so), so that a
        solve's time limit holds on problems the pass cannot finish in time.

    Returns
    -------
    Plan
        A plan that passes :func:`allocopt.validate.validate`.
    """
    t0 = time.perf_counter()
    if deadline is None:
        deadline = member_deadline.get()
    p = prep or Prepared(problem)
    sched = Scheduler(p, cost_rate)
    if order is None:
        order = job_order(p)
    weighted = problem.objective.mode == "weighted"
    ev = effective_value(p)
    reasons: dict[int, str] = {}
    if p.running or p.planned:  # re-planning: running jobs, then kept placements
        from .replan import preplace

        preplace(sched, order)
    for j in order:
        if sched.start[j] >= 0:
            continue
        if deadline is not None and not p.required[j] and time.perf_counter() > deadline:
            reasons[j] = "not tried: the time limit ran out before the greedy pass reached it"
            continue
        # A job worth nothing only adds cost (lexicographic: zero value and
        # nothing valuable depends on it; weighted: checked after costing).
        if value_checks and not p.required[j] and ev[j] <= 0 and not _needed(p, j):
            reasons[j] = "value 0: placing it would only add cost"
            continue
        got = sched.try_job(j, score, prune)
        if isinstance(got, str):
            reasons[j] = got
            continue
        start, nodes = got
        if value_checks and weighted and not p.required[j] and not _needed(p, j):
            extra = _option_cost(sched, j, start, nodes)
            if extra > ev[j] + 1e-9:
                reasons[j] = (f"placing it would cost {extra:.4g} > its value "
                              f"{ev[j]:.4g} (weighted objective)")
                continue
        sched.place(j, start, nodes)
    return plan_from_schedule(problem, p, sched, reasons, solver, time.perf_counter() - t0)


def _needed(p: Prepared, j: int) -> bool:
    """True if a required job depends (transitively) on ``j``."""
    stack, seen = list(p.succs[j]), set()
    while stack:
        s = stack.pop()
        if s in seen:
            continue
        seen.add(s)
        if p.required[s]:
            return True
        stack.extend(p.succs[s])
    return False


def _option_cost(sched: Scheduler, j: int, start: int, nodes: tuple[int, ...]) -> float:
    p = sched.prep
    d = int(p.duration[j])
    P = p.class_power(j)
    total = float(p.tardiness(j, np.array([start]))[0])
    for n in nodes:
        c = p.node_class[n]
        g = p.class_region[c]
        total += P[c] * (sched.cum_cost[g, start + d] - sched.cum_cost[g, start])
        if not sched.active[n]:
            total += sched.activation_cost[c]
    return total


def plan_from_schedule(problem: Problem, p: Prepared, sched: Scheduler, reasons: dict[int, str],
                       solver: str, seconds: float) -> Plan:
    """Turn a schedule into a :class:`Plan` with metrics and status."""
    from .validate import compute_metrics

    assignments = []
    unplaced = []
    for j in range(p.J):
        if sched.start[j] >= 0:
            assignments.append(p.assignment(j, int(sched.start[j]), sched.nodes[j]))
        else:
            unplaced.append(Unplaced(p.job_ids[j], reasons.get(j, "not placed")))
    metrics = compute_metrics(problem, assignments)
    infeasible = any(p.required[p.job_index[u.job]] for u in unplaced)
    return Plan(
        problem=problem.name,
        status=SolveStatus.INFEASIBLE if infeasible else SolveStatus.FEASIBLE,
        solver=solver,
        assignments=tuple(assignments),
        unplaced=tuple(unplaced),
        metrics=metrics,
        solve_seconds=seconds,
    )


def schedule_from_plan(p: Prepared, plan: Plan) -> Scheduler:
    """A scheduler state holding ``plan``'s assignments (assumed valid)."""
    return schedule_of(p, ((p.job_index[a.job], p.internal_start(p.job_index[a.job], a.start),
                            tuple(p.node_index[n] for n in a.nodes))
                           for a in plan.assignments))


def schedule_of(p: Prepared, placements: Iterable[tuple[int, int, tuple[int, ...]]]) -> Scheduler:
    """A scheduler state holding ``(job, start, nodes)`` placements (by index,
    assumed valid together)."""
    sched = Scheduler(p)
    for j, s, nodes in placements:
        sched.place(int(j), int(s), tuple(nodes))
    return sched


def explain_unplaced(problem: Problem, plan: Plan, prep: Prepared | None = None,
                     solver_note: str = "not placed by the optimizer") -> Plan:
    """Give each unplaced job of ``plan`` the specific reason it stays out.

    Each unplaced job is tried against the plan as it stands: a static
    reason (window, eligibility, replication...) or the constraint that
    blocks it now (capacity, power cap, budget...). A job that would still
    fit is reported with ``solver_note`` and why it was not worth it.
    """
    p = prep or Prepared(problem)
    sched = schedule_from_plan(p, plan)
    out = []
    for u in plan.unplaced:
        j = p.job_index[u.job]
        got = sched.try_job(j)
        if isinstance(got, str):
            reason = got
            if j not in p.static_reasons and "predecessor" not in got:
                reason += " (given the higher-ranked jobs placed)"
        else:
            reason = _why_left_out(problem, p, sched, j, got, solver_note)
        out.append(Unplaced(u.job, reason))
    return plan.replace(unplaced=tuple(out))


def _why_left_out(problem: Problem, p: Prepared, sched: Scheduler, j: int,
                  option: tuple[int, tuple[int, ...]], solver_note: str) -> str:
    """Reason for a job that would still fit into the final plan."""
    cost = _option_cost(sched, j, *option)
    if problem.objective.mode == "weighted" and cost > effective_value(p)[j] + 1e-9:
        return (f"placing it would cost {cost:.4g} > its value {p.value[j]:.4g} "
                "(weighted objective)")
    if p.value[j] <= 0:
        return "value 0: placing it would only add cost"
    return (f"{solver_note}: it would fit (start {option[0]}), but the search stopped "
            "before adding it; a longer time limit may place it")


def _pick_replicas(feas: np.ndarray, col: np.ndarray, regions: np.ndarray, clique: set[int],
                   R: int, min_regions: int, mpr: int) -> np.ndarray | None:
    """Cheapest ``R`` nodes within ``clique``: one in each of the ``min_regions``
    regions whose best node is cheapest, then the cheapest rest, at most
    ``mpr`` per region."""
    inside = np.zeros(int(regions.max()) + 1, dtype=bool)
    inside[[g for g in clique if g < len(inside)]] = True
    feas = feas[inside[regions[feas]]]
    if len(feas) == 0:
        return None
    # Only the cheapest min(R, mpr) nodes of each region can matter.
    keep = min(R, mpr)
    srt = feas[np.lexsort((col[feas], regions[feas]))]
    reg = regions[srt]
    first = np.r_[0, np.flatnonzero(reg[1:] != reg[:-1]) + 1]
    rank = np.arange(len(srt)) - np.repeat(first, np.diff(np.r_[first, len(srt)]))
    short = srt[rank < keep]
    cand = [int(i) for i in short[np.argsort(col[short], kind="stable")]]
    by_region: dict[int, list[int]] = {}
    for i in cand:
        by_region.setdefault(int(regions[i]), []).append(i)
    if len(by_region) < min_regions:
        return None
    anchors = sorted(by_region, key=lambda g: col[by_region[g][0]])[:min_regions]
    pick = [by_region[g][0] for g in anchors]
    used = dict.fromkeys(anchors, 1)
    chosen = set(pick)
    for i in cand:
        if len(pick) >= R:
            break
        g = int(regions[i])
        if i in chosen or used.get(g, 0) >= mpr:
            continue
        pick.append(i)
        chosen.add(i)
        used[g] = used.get(g, 0) + 1
    if len(pick) < R:
        return None
    return np.array(pick[:R])
