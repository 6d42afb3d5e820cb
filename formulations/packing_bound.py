"""A packing-aware relaxation for the cost bound: node classes with integer counts.

Why: the model's own LP relaxation reaches the tier values by placing jobs
partly and splitting them over nodes, so it switches on almost none of the
nodes that cost money to keep on (idle draw over the horizon, ``cost_per_slot``),
and the cost bound stays far below any plan's cost. This relaxation keeps
exactly what makes those nodes necessary -- how many nodes of each class are
on is an *integer* -- and relaxes the rest:

Variables (``j`` job, ``s`` start, ``c`` node class, ``b`` time bucket)

    placed[j] in {0, 1}    job j is placed (integer)
    y[j,s] in [0, 1]       job j starts at s (area mode: one y[j], start free)
    w[j,c,s] >= 0          replicas of j on class c starting at s
    u[c] in {0..count_c}   active nodes of class c (integer)

Rows (each holds for every valid plan, with u = its active nodes per class)

    sum_s y[j,s] = placed[j];  placed[j] <= placed[p] for a predecessor p
    sum_c w[j,c,s] = R_j y[j,s];  w[j,c,s] <= count_c y[j,s];
    sum_{c in g} w[j,c,s] <= max_per_region_j y[j,s]
    sum_s w[j,c,s] <= u[c]                    replicas sit on distinct active nodes
    capacity  sum dem[j,r] ov(s,b) w[j,c,s] <= cap[c,r] avail(c,b) u[c]
    packing   sum f(dem[j,r]/cap[c,r]) ov(s,b) w[j,c,s] <= avail(c,b) u[c]
              for dual-feasible functions f (below)
    power     sum_b-slots pue (P w + idle_c u) <= sum of the cap over b (finite caps)
    budget    slot_hours pue (sum P d w + H idle_c u) <= energy_budget
    tiers     sum value_j placed[j] >= floor_t      (the plan's tier values)

``ov(s, b)`` is how many slots of bucket ``b`` a job starting at ``s``
occupies, ``avail(c, b)`` the slots of ``b`` without maintenance of ``c``.
Buckets are single slots when the model is small enough
(:data:`MAX_NNZ`), wider otherwise; in *area* mode (too many starts) each job
has one y and one w per class, the whole horizon is one bucket and a
replica's cost is its cheapest start's.

Dual-feasible functions (Fekete-Schepers; Martello-Toth L2): a function
``f: [0,1] -> [0,1]`` with ``sum x_i <= 1 => sum f(x_i) <= 1``. Summed over a
class's active nodes, a node's load in ``f`` units is at most 1 per slot:

* ``half``:   f(x) = 1 if x > 1/2, x if x = 1/2, 0 below (jobs needing more
  than half a node cannot share one);
* ``thirds``: Fekete-Schepers with k = 2: f(x) = x if 3x is integral, else
  floor(3x) / 2 (more than 2/3 counts 1, more than 1/3 counts 1/2).

A packing row is added only where some user has ``f(x) > x`` (else the
capacity row dominates it).

Cost: dynamic energy of each replica at its start's prices, tardiness, and
``activation_cost[c] * u[c]`` -- the whole cost, so the MIP's dual bound is a
lower bound on the cost of every plan with at least the floors' tier values.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocopt.prepared import Prepared

log = logging.getLogger(__name__)

#: Largest number of matrix entries built with one-slot buckets; above it
#: buckets widen (and beyond :data:`MAX_COLUMNS` y/w columns, area mode).
MAX_NNZ = 600_000
#: Largest number of time-indexed y and w columns before area mode.
MAX_COLUMNS = 150_000
#: Dual-feasible functions used for packing rows (module docstring).
DFFS: tuple[str, ...] = ("half", "thirds")


def dff(name: str, x: np.ndarray) -> np.ndarray:
    """A dual-feasible function of ``x`` in [0, 1] (module docstring)."""
    x = np.asarray(x, dtype=float)
    eps = 1e-9
    if name == "half":
        return np.where(x > 0.5 + eps, 1.0, np.where(np.abs(x - 0.5) <= eps, 0.5, 0.0))
    if name == "thirds":
        three = 3 * x
        integral = np.abs(three - np.round(three)) <= eps
        return np.where(integral, x, np.floor(three + eps) / 2)
    if name.startswith("eps:"):  # Martello-Toth U_eps, eps in (0, 1/2]
        e = float(name[4:])
        return np.where(x > 1 - e + eps, 1.0, np.where(x < e - eps, 0.0, x))
    raise ValueError(f"unknown dual-feasible function {name!r}")


@dataclass
class Relaxation:
    """The built relaxation (arrays for HiGHS) and what the caller needs to
    set the tier floors."""

    ncols: int
    col_cost: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray  # bool per column
    row_lo: list[float] = field(default_factory=list)
    row_hi: list[float] = field(default_factory=list)
    starts: np.ndarray | None = None  # CSR
    index: np.ndarray | None = None
    value: np.ndarray | None = None
    tier_rows: dict[int, int] = field(default_factory=dict)
    mode: str = "time-indexed"
    bucket: int = 1


class _Rows:
    """Rows collected as COO triplets, turned into CSR once."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def new(self, lo: float, hi: float) -> int:
        self.lo.append(lo)
        self.hi.append(hi)
        return len(self.lo) - 1

    def block(self, lo: np.ndarray, hi: np.ndarray) -> int:
        """Reserve ``len(lo)`` rows; returns the first row index."""
        first = len(self.lo)
        self.lo.extend(np.asarray(lo, dtype=float).tolist())
        self.hi.extend(np.asarray(hi, dtype=float).tolist())
        return first

    def add(self, rows: Any, cols: Any, vals: Any) -> None:
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        cols = np.atleast_1d(np.asarray(cols, dtype=np.int64))
        vals = np.atleast_1d(np.asarray(vals, dtype=float))
        if not (len(rows) and len(cols) and len(vals)):
            return
        n = max(len(rows), len(cols), len(vals))
        self.r.append(np.broadcast_to(rows, n))
        self.c.append(np.broadcast_to(cols, n))
        self.v.append(np.broadcast_to(vals, n))

    @property
    def nnz(self) -> int:
        return int(sum(len(a) for a in self.r))

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r = np.concatenate(self.r) if self.r else np.zeros(0, np.int64)
        c = np.concatenate(self.c) if self.c else np.zeros(0, np.int64)
        v = np.concatenate(self.v) if self.v else np.zeros(0)
        keep = v != 0
        r, c, v = r[keep], c[keep], v[keep]
        order = np.lexsort((c, r))
        r, c, v = r[order], c[order], v[order]
        starts = np.searchsorted(r, np.arange(len(self.lo) + 1)).astype(np.int32)
        return starts[:-1], c.astype(np.int32), v


def _job_options(prep: Prepared, jobs: list[int]) -> dict[int, list[tuple[int, np.ndarray]]]:
    """Per job: (class, allowed starts on that class) for each usable class."""
    p = prep
    out: dict[int, list[tuple[int, np.ndarray]]] = {}
    for j in jobs:
        st = p.start_range(j)
        d = int(p.duration[j])
        classes = p.eligible_classes(j)
        if not len(classes) or not len(st):
            continue
        ok = p.window_free(classes, d, st)
        opts = [(int(c), st[row]) for c, row in zip(classes, ok, strict=True) if row.any()]
        if opts:
            out[j] = opts
    return out


def estimate(prep: Prepared, jobs: list[int]) -> tuple[int, int]:
    """(time-indexed y+w columns, matrix entries with one-slot buckets)."""
    p = prep
    cols = nnz = 0
    for j, opts in _job_options(prep, jobs).items():
        d = int(p.duration[j])
        nres = int((p.demand[j] > 0).sum())
        for _, st in opts:
            cols += len(st)
            nnz += len(st) * d * nres * (1 + len(DFFS)) + len(st) * d
        cols += len(p.start_range(j))
    return cols, nnz


def build_relaxation(prep: Prepared, jobs: list[int] | None = None,
                     dffs: tuple[str, ...] = DFFS, mode: str | None = None,
                     bucket: int | None = None) -> Relaxation:
    """Build the relaxation over ``jobs`` (default: every placeable job).

    ``mode`` ``"time-indexed"`` or ``"area"`` and ``bucket`` (slots per
    capacity row) default to the largest that fit :data:`MAX_NNZ` /
    :data:`MAX_COLUMNS`.
    """
    p = prep
    H = p.H
    if jobs is None:
        jobs = [j for j in range(p.J) if j not in p.static_reasons]
    options = _job_options(p, jobs)
    if mode is None or bucket is None:
        cols, nnz = estimate(p, jobs)
        if mode is None:
            mode = "time-indexed" if cols <= MAX_COLUMNS else "area"
        if bucket is None:
            bucket = H if mode == "area" else max(1, min(H, math.ceil(nnz / MAX_NNZ)))
    if mode == "area":
        bucket = H
    nb = math.ceil(H / bucket)
    bucket_of = np.minimum(np.arange(H) // bucket, nb - 1)
    bucket_len = np.bincount(bucket_of, minlength=nb).astype(float)
    avail = np.stack([np.bincount(bucket_of, weights=p.class_avail[c].astype(float), minlength=nb)
                      for c in range(p.C)]) if p.C else np.zeros((0, nb))

    # Columns: y, then w, then u.
    ycol: dict[tuple[int, int], int] = {}  # (j, s) -> column; s = -1 in area mode
    wcols: list[tuple[int, int, int, int]] = []  # (j, c, s, ycol)
    ycost: list[float] = []
    for j, opts in options.items():
        st_all = np.unique(np.concatenate([st for _, st in opts]))
        if mode == "area":
            ycol[(j, -1)] = len(ycost)
            ycost.append(float(p.tardiness(j, st_all).min()))
        else:
            for s, t in zip(st_all, p.tardiness(j, st_all), strict=True):
                ycol[(j, int(s))] = len(ycost)
                ycost.append(float(t))
        for c, st in opts:
            if mode == "area":
                wcols.append((j, c, -1, ycol[(j, -1)]))
            else:
                for s in st:
                    wcols.append((j, c, int(s), ycol[(j, int(s))]))
    ny, nw = len(ycost), len(wcols)
    u0 = ny + nw
    jobs_in = sorted(options)
    p0 = u0 + p.C  # placed[j] (binary) per job
    pcol = {j: p0 + k for k, j in enumerate(jobs_in)}
    # r[j,g] (binary): job j has a replica in region g, for jobs whose
    # min_regions or max_latency_ms constrain regions.
    rcol: dict[tuple[int, int], int] = {}
    for j in jobs_in:
        job = p.jobs[j]
        regions = sorted({int(p.class_region[c]) for c, _ in options[j]})
        if len(regions) > 1 and (job.min_regions > 1 or job.max_latency_ms is not None):
            for gg in regions:
                rcol[(j, gg)] = p0 + len(jobs_in) + len(rcol)
    ncols = p0 + len(jobs_in) + len(rcol)
    cost = np.zeros(ncols)
    cost[:ny] = ycost
    lo = np.zeros(ncols)
    hi = np.ones(ncols)
    integer = np.zeros(ncols, dtype=bool)
    cost[u0:p0] = p.class_activation_cost
    hi[u0:p0] = p.class_count
    integer[u0:] = True

    rows = _Rows()
    wj = np.array([w[0] for w in wcols], dtype=np.int64)
    wc = np.array([w[1] for w in wcols], dtype=np.int64)
    ws = np.array([w[2] for w in wcols], dtype=np.int64)
    wy = np.array([w[3] for w in wcols], dtype=np.int64)
    widx = np.arange(ny, ny + nw)
    R = p.replicas[wj].astype(float) if nw else np.zeros(0)
    cnt = p.class_count[wc].astype(float) if nw else np.zeros(0)
    hi[widx] = np.minimum(R, cnt)
    d = p.duration[wj] if nw else np.zeros(0, dtype=int)
    g = p.class_region[wc] if nw else np.zeros(0, dtype=int)
    # Power of one replica per (job, class).
    power = {j: p.class_power(j) for j in jobs_in}
    P = np.array([power[int(j)][int(c)] for j, c in zip(wj, wc, strict=True)]) if nw \
        else np.zeros(0)
    if mode == "area":
        # Cheapest start of the job's window in each region (a lower bound).
        cheapest = {}
        for j in jobs_in:
            st, dd = p.start_range(j), int(p.duration[j])
            cheapest[j] = (p.cum_cost[:, st + dd] - p.cum_cost[:, st]).min(axis=1)
        run = np.array([cheapest[int(j)][int(gg)] for j, gg in zip(wj, g, strict=True)]) if nw \
            else np.zeros(0)
    else:
        run = p.cum_cost[g, ws + d] - p.cum_cost[g, ws] if nw else np.zeros(0)
    cost[widx] = P * run

    # One start per job; predecessors.
    yj = np.array([k[0] for k in ycol], dtype=np.int64)
    ycols = np.array(list(ycol.values()), dtype=np.int64)
    jrow = {j: rows.new(0.0, 0.0) for j in jobs_in}
    rows.add([jrow[int(j)] for j in yj], ycols, 1.0)
    rows.add([jrow[j] for j in jobs_in], [pcol[j] for j in jobs_in], -1.0)
    for j in jobs_in:
        for q in p.preds[j]:
            r = rows.new(-np.inf, 0.0)
            rows.add(r, pcol[j], 1.0)
            if q in options:
                rows.add(r, pcol[q], -1.0)
    # Replicas: sum_c w = R y; w <= count_c y when count_c < R.
    first = rows.block(np.zeros(ny), np.zeros(ny))
    rows.add(first + wy, widx, 1.0)
    yR = np.zeros(ny)
    for (j, _), col in ycol.items():
        yR[col] = p.replicas[j]
    rows.add(first + np.arange(ny), np.arange(ny), -yR)
    short = np.flatnonzero(cnt < R)
    if len(short):
        f = rows.block(np.full(len(short), -np.inf), np.zeros(len(short)))
        rows.add(f + np.arange(len(short)), widx[short], 1.0)
        rows.add(f + np.arange(len(short)), wy[short], -cnt[short])
    by_job: dict[int, np.ndarray] = {}
    if nw:
        order = np.argsort(wj, kind="stable")
        cut = np.flatnonzero(np.diff(wj[order])) + 1
        by_job = {int(wj[grp[0]]): grp for grp in np.split(order, cut)}
    for j in jobs_in:
        mpr = p.jobs[j].max_per_region
        if mpr is None or mpr >= p.replicas[j] or j not in by_job:
            continue
        mine = by_job[j]
        for key in {(int(wy[k]), int(g[k])) for k in mine}:
            sel = mine[(wy[mine] == key[0]) & (g[mine] == key[1])]
            r = rows.new(-np.inf, 0.0)
            rows.add(r, widx[sel], 1.0)
            rows.add(r, key[0], -float(mpr))
    # Distinct active nodes: sum_s w[j,c,s] <= u[c].
    pairs, inv = np.unique(wj * max(p.C, 1) + wc, return_inverse=True)
    f = rows.block(np.full(len(pairs), -np.inf), np.zeros(len(pairs)))
    rows.add(f + inv, widx, 1.0)
    rows.add(f + np.arange(len(pairs)), u0 + pairs % max(p.C, 1), -1.0)

    # Occupancy of each w column per bucket: list of (w index, bucket, slots).
    occ_w, occ_b, occ_n = _occupancy(ws, d, bucket_of, nb, mode)
    # Capacity and packing rows per (class, bucket, resource).
    caps = p.class_cap
    for r in range(p.R):
        dem = p.demand[wj, r] if nw else np.zeros(0)
        use = dem[occ_w] > 0
        if not use.any():
            continue
        ow, ob, on = occ_w[use], occ_b[use], occ_n[use]
        oc = wc[ow]
        key = oc * nb + ob
        f = rows.block(np.full(p.C * nb, -np.inf), np.zeros(p.C * nb))
        rows.add(f + key, widx[ow], dem[ow] * on)
        cb = np.arange(p.C * nb)
        rows.add(f + cb, u0 + cb // nb, -(caps[cb // nb, r] * avail[cb // nb, cb % nb]))
        x = np.where(caps[wc, r] > 0, dem / np.maximum(caps[wc, r], 1e-12), 0.0)
        for name in dffs:
            fx = dff(name, np.minimum(x, 1.0))
            gain = fx > x + 1e-9
            classes = np.unique(wc[gain & (dem > 0)])
            if not len(classes):
                continue
            sel = np.isin(oc, classes)
            f2 = rows.block(np.full(p.C * nb, -np.inf), np.zeros(p.C * nb))
            rows.add(f2 + key[sel], widx[ow[sel]], fx[ow[sel]] * on[sel])
            keep = np.isin(cb // nb, classes)
            rows.add(f2 + cb[keep], u0 + cb[keep] // nb, -avail[cb[keep] // nb, cb[keep] % nb])
    # Power caps per (region, bucket) and energy budgets.
    pue = p.pue
    for gg in range(p.G):
        capped = np.isfinite(p.power_cap[gg])
        inc = g[occ_w] == gg
        cls = np.flatnonzero((p.class_region == gg) & (p.class_idle > 0))
        if capped.any():  # buckets with an uncapped slot get a free row
            limit = np.bincount(bucket_of, weights=p.power_cap[gg], minlength=nb)
            f = rows.block(np.full(nb, -np.inf), limit)
            rows.add(f + occ_b[inc], widx[occ_w[inc]], pue[gg] * P[occ_w[inc]] * occ_n[inc])
            for c in cls:
                rows.add(f + np.arange(nb), u0 + c, pue[gg] * p.class_idle[c] * bucket_len)
        if np.isfinite(p.energy_budget[gg]):
            r = rows.new(-np.inf, float(p.energy_budget[gg]))
            mine = np.flatnonzero(g == gg)
            fct = pue[gg] * p.slot_hours
            rows.add(r, widx[mine], fct * P[mine] * d[mine])
            for c in cls:
                rows.add(r, u0 + c, fct * p.class_idle[c] * H)
    # Regions of replicated jobs: w in g <= R r[j,g]; r[j,g] <= w in g;
    # sum_g r >= min_regions placed; r[j,g] + r[j,h] <= 1 beyond max latency.
    for j in jobs_in:
        job = p.jobs[j]
        regs = [gg for (jj, gg) in rcol if jj == j]
        if not regs:
            continue
        mine = by_job.get(j, np.zeros(0, dtype=np.int64))
        for gg in regs:
            sel = mine[g[mine] == gg]
            r1 = rows.new(-np.inf, 0.0)
            rows.add(r1, widx[sel], 1.0)
            rows.add(r1, rcol[(j, gg)], -float(p.replicas[j]))
            r2 = rows.new(-np.inf, 0.0)
            rows.add(r2, rcol[(j, gg)], 1.0)
            rows.add(r2, widx[sel], -1.0)
        if job.min_regions > 1:
            r = rows.new(-np.inf, 0.0)
            rows.add(r, [rcol[(j, gg)] for gg in regs], -1.0)
            rows.add(r, pcol[j], float(job.min_regions))
        if job.max_latency_ms is not None:
            for a in regs:
                for b in regs:
                    if a < b and p.latency[a, b] > job.max_latency_ms + 1e-9:
                        r = rows.new(-np.inf, 1.0)
                        rows.add(r, [rcol[(j, a)], rcol[(j, b)]], 1.0)
    # Precedence in time (time-indexed): j started by s => p started by s - d_p.
    if mode != "area":
        for j in jobs_in:
            for q in p.preds[j]:
                if q not in options:
                    continue
                dq = int(p.duration[q])
                js = sorted(s_ for (jj, s_) in ycol if jj == j)
                qs = sorted(s_ for (jj, s_) in ycol if jj == q)
                for s_ in js:
                    r = rows.new(-np.inf, 0.0)
                    rows.add(r, [ycol[(j, t)] for t in js if t <= s_], 1.0)
                    before = [ycol[(q, t)] for t in qs if t <= s_ - dq]
                    if before:
                        rows.add(r, before, -1.0)
    # Tier floors (set by the caller).
    tier_rows = {}
    for t in p.tiers:
        sel = [j for j in jobs_in if p.priority[j] == t and p.value[j] > 0]
        if not sel:
            continue
        r = rows.new(-np.inf, np.inf)
        rows.add(r, [pcol[j] for j in sel], p.value[sel])
        tier_rows[t] = r
    starts, index, value = rows.csr()
    log.info("packing relaxation: %s, bucket %d, %d columns, %d rows, %d entries", mode, bucket,
             ncols, len(rows.lo), len(value))
    return Relaxation(ncols, cost, lo, hi, integer, rows.lo, rows.hi, starts, index, value,
                      tier_rows, mode, bucket)


def _occupancy(ws: np.ndarray, d: np.ndarray, bucket_of: np.ndarray, nb: int,
               mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(w index, bucket, slots in that bucket) for every w column."""
    if mode == "area" or nb == 1:
        return np.arange(len(ws)), np.zeros(len(ws), dtype=np.int64), d.astype(float)
    # Expand each w over its slots, then count per bucket.
    total = int(d.sum())
    wi = np.repeat(np.arange(len(ws)), d)
    offs = np.arange(total) - np.repeat(np.cumsum(d) - d, d)
    b = bucket_of[ws[wi] + offs]
    key = wi * nb + b
    uniq, counts = np.unique(key, return_counts=True)
    return uniq // nb, uniq % nb, counts.astype(float)


def _silent_highs(highspy: Any) -> Any:
    """``highspy.Highs()`` without the banner its constructor prints on the
    process's standard output (``--quiet`` must print nothing): file
    descriptor 1 points at /dev/null for the construction only."""
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


def make_highs(rel: Relaxation, threads: int = 1) -> Any:
    """A ``highspy.Highs`` holding the relaxation (silent, one thread)."""
    import highspy

    h = _silent_highs(highspy)
    h.setOptionValue("threads", threads)
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = rel.ncols
    lp.num_row_ = len(rel.row_lo)
    lp.col_cost_ = rel.col_cost
    lp.col_lower_ = rel.col_lo
    lp.col_upper_ = rel.col_hi
    lp.row_lower_ = np.where(np.isinf(rel.row_lo), -inf, rel.row_lo)
    lp.row_upper_ = np.where(np.isinf(rel.row_hi), inf, rel.row_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.append(rel.starts, len(rel.value)).astype(np.int32)
    lp.a_matrix_.index_ = rel.index
    lp.a_matrix_.value_ = rel.value
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                       for i in rel.integer]
    h.passModel(lp)
    return h


def set_floors(h: Any, rel: Relaxation, floors: dict[int, float]) -> None:
    """Tier ``t``'s placed value >= ``floors[t]`` (others free)."""
    import highspy

    for t, r in rel.tier_rows.items():
        lo = floors.get(t)
        h.changeRowBounds(r, -highspy.kHighsInf if lo is None else float(lo), highspy.kHighsInf)


def dual_bound(h: Any) -> float | None:
    """The solve's proven lower bound on the objective, or None."""
    import highspy

    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return math.inf
    info = h.getInfo()
    is_mip = any(t == highspy.HighsVarType.kInteger for t in h.getLp().integrality_)
    if not is_mip:
        return float(info.objective_function_value) if status == \
            highspy.HighsModelStatus.kOptimal else None
    b = getattr(info, "mip_dual_bound", None)
    if status == highspy.HighsModelStatus.kOptimal:
        vals = [v for v in (b, info.objective_function_value) if v is not None and math.isfinite(v)]
        b = min(vals) if vals else None
    if b is None or not math.isfinite(b):
        return None
    return float(b)


def solve_bound(prep: Prepared, floors: dict[int, float], time_limit: float = 30.0,
                dffs: tuple[str, ...] = DFFS, relax_integer: bool = False,
                **kw: Any) -> float | None:
    """The relaxation's lower bound on cost, tiers at least ``floors``
    (one-shot; the solve-time worker is :class:`allocopt.formulations.bound_worker.BoundWorker`)."""
    import highspy

    rel = build_relaxation(prep, dffs=dffs, **kw)
    if relax_integer:
        rel.integer[:] = False
    h = make_highs(rel)
    set_floors(h, rel, floors)
    h.setOptionValue("time_limit", float(max(0.1, time_limit)))
    h.run()
    b = dual_bound(h)
    if b is None and h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        b = h.getInfo().objective_function_value
    return b
