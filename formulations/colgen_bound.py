"""A Lagrangian cost bound from node schedules (column generation), offline.

An experiment of issue 15 (benchmarks/README.md, "Bounds a user can act
on"), not used by the solve: it measures how much of the cost gap a bound
that reasons *per node over time* closes, which the class-level relaxation
of :mod:`allocopt.formulations.packing_bound` cannot (it pools a class's
nodes, so a job may be split over them slot by slot).

Master (restricted to the columns generated so far; ``p`` a column = the set
of (job, start) one node of class ``c`` hosts over the horizon):

    min  sum_p cost_p lam_p
         sum_{p in c} lam_p <= count_c                      (sigma_c <= 0)
         sum_p [j in p] lam_p - R_j placed_j = 0             (pi_j free)
         sum_{j in tier t} value_j placed_j >= floor_t       (mu_t >= 0)
         0 <= placed_j <= 1

``cost_p`` = the class's activation cost (idle energy over the horizon and
``cost_per_slot * H``) + each replica's dynamic energy cost at its start +
its job's tardiness / R_j. Precedence, regions, power caps and budgets are
left out (a relaxation: fewer rules, so a lower minimum).

Pricing (per class, CP-SAT): a node schedule maximising
``sum (pi_j - c_jcs) x_js`` under the node's capacity in every slot, each job
at most once, within its window and outside maintenance. For *any* ``pi``
and ``mu >= 0``,

    LB = sum_t floor_t mu_t + sum_j min(0, R_j pi_j - value_j mu_t(j))
         + sum_c count_c min(0, act_c - best_profit_c)

is a lower bound on the cost of every plan whose tier values reach the
floors (weak duality of the master over *all* columns), with
``best_profit_c`` replaced by CP-SAT's upper bound on it, so an unfinished
pricing keeps the bound valid. Pricing rounds demands down, capacities up
and profits up: a looser node, never a tighter one.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from allocopt.prepared import Prepared

from .packing_bound import _job_options, _silent_highs

#: Integer scale of demands, capacities and profits in the pricing model.
SCALE = 1000


def colgen_bound(prep: Prepared, floors: dict[int, float], time_limit: float = 30.0,
                 start_columns: list[tuple[int, list[tuple[int, int]]]] | None = None,
                 pricing_limit: float = 2.0, log: Any = None) -> float:
    """The best Lagrangian lower bound found within ``time_limit`` (module
    docstring). ``start_columns``: (class, [(job, start), ...]) node
    schedules of a known plan, to start the master feasible."""
    import highspy

    p = prep
    t_end = time.perf_counter() + time_limit
    jobs = [j for j in range(p.J) if j not in p.static_reasons]
    options = _job_options(p, jobs)
    jobs = sorted(options)
    jpos = {j: k for k, j in enumerate(jobs)}
    # Per (job, class): allowed starts and the per-replica cost at each.
    starts: dict[tuple[int, int], np.ndarray] = {}
    rcost: dict[tuple[int, int], np.ndarray] = {}
    for j in jobs:
        power = p.class_power(j)
        d = int(p.duration[j])
        for c, st in options[j]:
            g = int(p.class_region[c])
            starts[(j, c)] = st
            rcost[(j, c)] = (power[c] * (p.cum_cost[g, st + d] - p.cum_cost[g, st])
                             + p.tardiness(j, st) / int(p.replicas[j]))
    classes = sorted({c for j in jobs for c, _ in options[j]})
    act = {c: float(p.class_activation_cost[c]) for c in classes}
    tiers = sorted({int(p.priority[j]) for j in jobs}, reverse=True)
    floors = {t: v for t, v in floors.items() if v > 0}

    columns: list[tuple[int, tuple[tuple[int, int], ...], float]] = []
    seen: set[tuple[int, tuple[tuple[int, int], ...]]] = set()

    def add_column(c: int, sched: list[tuple[int, int]]) -> bool:
        key = (c, tuple(sorted(sched)))
        if key in seen or not sched:
            return False
        seen.add(key)
        cost = act[c] + sum(float(rcost[(j, c)][np.searchsorted(starts[(j, c)], s)])
                            for j, s in key[1])
        columns.append((c, key[1], cost))
        return True

    for c, sched in start_columns or ():
        if c in act and all((j, c) in starts and s in starts[(j, c)] for j, s in sched):
            add_column(c, sched)

    big = 1e6 * max(1.0, sum(act.values()) + 1.0)
    best = -math.inf
    rounds = 0
    while time.perf_counter() < t_end:
        rounds += 1
        # Master LP: columns lam, then placed, then tier slacks (cost big).
        h = _silent_highs(highspy)
        # One thread, as every HiGHS of the package: HiGHS keeps one global
        # scheduler per process, and a later solve asking for another thread
        # count than the first one fails (packing_bound.make_highs).
        h.setOptionValue("threads", 1)
        nl, nj = len(columns), len(jobs)
        inf = highspy.kHighsInf
        cost = np.concatenate([[col[2] for col in columns], np.zeros(nj),
                               np.full(len(tiers), big)])
        lo = np.zeros(len(cost))
        hi = np.concatenate([np.full(nl, inf), np.ones(nj), np.full(len(tiers), inf)])
        h.addVars(len(cost), lo, hi)
        h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        rows_c = {c: [] for c in classes}
        rows_j = {j: [] for j in jobs}
        for k, (c, sched, _) in enumerate(columns):
            rows_c[c].append(k)
            for j, _s in sched:
                rows_j[j].append(k)
        for c in classes:  # sigma_c
            idx = np.array(rows_c[c], dtype=np.int32)
            h.addRow(-inf, float(p.class_count[c]), len(idx), idx, np.ones(len(idx)))
        for j in jobs:  # pi_j
            idx = np.array(rows_j[j] + [nl + jpos[j]], dtype=np.int32)
            val = np.array([1.0] * len(rows_j[j]) + [-float(p.replicas[j])])
            h.addRow(0.0, 0.0, len(idx), idx, val)
        for k, t in enumerate(tiers):  # mu_t
            members = [j for j in jobs if int(p.priority[j]) == t]
            idx = np.array([nl + jpos[j] for j in members] + [nl + nj + k], dtype=np.int32)
            val = np.array([float(p.value[j]) for j in members] + [1.0])
            h.addRow(floors.get(t, 0.0), inf, len(idx), idx, val)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        dual = np.array(h.getSolution().row_dual)
        nc = len(classes)
        pi = {j: float(dual[nc + jpos[j]]) for j in jobs}
        mu = {t: max(0.0, float(dual[nc + nj + k])) for k, t in enumerate(tiers)}
        lb = sum(floors.get(t, 0.0) * mu[t] for t in tiers)
        lb += sum(min(0.0, int(p.replicas[j]) * pi[j] - float(p.value[j]) * mu[int(p.priority[j])])
                  for j in jobs)
        added = 0
        for c in classes:
            left = t_end - time.perf_counter()
            if left <= 0:
                break
            profit_ub, sched = _price(p, c, jobs, pi, starts, rcost, min(pricing_limit, left))
            lb += int(p.class_count[c]) * min(0.0, act[c] - profit_ub)
            if sched and act[c] - sum(pi[j] - float(rcost[(j, c)][np.searchsorted(
                    starts[(j, c)], s)]) for j, s in sched) < -1e-9:
                added += add_column(c, sched)
        else:
            best = max(best, lb)
            if log is not None:
                log(f"round {rounds}: master {h.getInfo().objective_function_value:.3f}, "
                    f"bound {lb:.3f} (best {best:.3f}), {len(columns)} columns, +{added}")
            if not added:
                break
            continue
        break
    return best


def _price(p: Prepared, c: int, jobs: list[int], pi: dict[int, float],
           starts: dict[tuple[int, int], np.ndarray], rcost: dict[tuple[int, int], np.ndarray],
           limit: float) -> tuple[float, list[tuple[int, int]]]:
    """(upper bound on the best schedule's profit, a best schedule found)
    on one node of class ``c`` (module docstring)."""
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    cap = p.class_cap[c]
    H = p.H
    load: list[list[list[tuple[Any, int]]]] = [[[] for _ in range(H)] for _ in range(p.R)]
    obj = []
    xs: dict[tuple[int, int], Any] = {}
    for j in jobs:
        if (j, c) not in starts:
            continue
        prof = pi[j] - rcost[(j, c)]
        ok = prof > 1e-12
        if not ok.any():
            continue
        d = int(p.duration[j])
        mine = []
        for s, pr in zip(starts[(j, c)][ok], prof[ok], strict=True):
            v = m.new_bool_var("")
            xs[(j, int(s))] = v
            mine.append(v)
            obj.append((v, math.ceil(pr * SCALE)))  # profit rounded up
            for r in range(p.R):
                q = int(math.floor(p.demand[j, r] * SCALE))  # demand rounded down
                if q:
                    for t in range(int(s), int(s) + d):
                        load[r][t].append((v, q))
        m.add_at_most_one(mine)
    if not obj:
        return 0.0, []
    for r in range(p.R):
        capr = int(math.ceil(cap[r] * SCALE))  # capacity rounded up
        for t in range(H):
            terms = load[r][t]
            if terms and sum(q for _, q in terms) > capr:
                m.add(sum(v * q for v, q in terms) <= capr)
    m.maximize(sum(v * w for v, w in obj))
    s = cp_model.CpSolver()
    s.parameters.max_time_in_seconds = max(0.05, limit)
    s.parameters.num_workers = 1
    st = s.solve(m)
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return float(sum(w for _, w in obj)) / SCALE, []
    sched = [(j, st_) for (j, st_), v in xs.items() if s.value(v)]
    return float(s.best_objective_bound) / SCALE, sched
