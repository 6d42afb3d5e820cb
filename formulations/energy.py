"""Energy (PROBLEM.md hard constraint 7 and the cost).

With P[j,k] the dynamic kW of one replica of job j in power group k (region
g), idle[n] a node's idle kW, and the background (fixed jobs) already drawn:

    a[j,n] <= active[n] <= sum_j a[j,n]              (active = hosts a replica)
    pue_g * (sum_{j,k in g} P[j,k] * sum_{s <= t < s+d_j} q[j,k,s]
             + sum_{n in g} idle[n] * active[n]) + background[g,t] <= power_cap[g,t]
    slot_hours * pue_g * (sum P[j,k] * d_j * q[j,k,s] + H * sum idle[n] * active[n])
             + background_energy[g] <= energy_budget[g]

Each row is scaled to integers by the smallest power of ten that makes it
exact (:func:`allocopt.formulations.scaling.scaled_row`). Where none does, coefficients
are rounded up and the limit down, so the model never accepts a plan the
exact rule rejects, and the solve no longer claims ``optimal``.

Cost terms (currency, before integer scaling):

    dynamic:    P[j,k] * q[j,k,s] * sum_{t=s}^{s+d_j-1} cost_rate[g,t]
    activation: active[n] * (idle[n] * sum_t cost_rate[g,t] + cost_per_slot[n] * H)

with ``cost_rate = pue * slot_hours * (price + carbon_price * carbon / 1000)``,
so energy cost, carbon cost and node cost of PROBLEM.md are exact.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .replication import node_users
from .scaling import scaled_row
from .scope import Scope
from .variables import Variables



def add_energy(m: Any, scope: Scope, x: Variables) -> None:
    p = scope.prep
    users = node_users(scope)
    for n, v in x.active.items():
        js = users.get(n, [])
        for j in js:
            m.add(x.a[j][n] <= v)
        m.add(v <= m.total(x.a[j][n] for j in js))
    if scope.symmetric:
        _break_symmetry(m, scope, x)
    for g in range(p.G):
        if np.isfinite(p.power_cap[g]).any():
            _power_cap(m, scope, x, g)
        if np.isfinite(p.energy_budget[g]):
            _budget(m, scope, x, g)


def _break_symmetry(m: Any, scope: Scope, x: Variables) -> None:
    """Identical nodes (copies of one entry) are used in index order."""
    p = scope.prep
    for c in range(p.C):
        lo, cnt = int(p.class_first[c]), int(p.class_count[c])
        chain = [x.active[n] for n in range(lo, lo + cnt) if n in x.active]
        if len(chain) == cnt:
            for u, v in zip(chain, chain[1:]):
                m.add(u >= v)


def _load_terms(scope: Scope, x: Variables, g: int) -> tuple[list, list, np.ndarray]:
    """(job terms by slot, idle terms, upper bound of job load by slot) of
    region g, in facility kW (PUE applied)."""
    p = scope.prep
    pue = float(p.pue[g])
    by_slot: list[list[tuple[Any, float]]] = [[] for _ in range(p.H)]
    upper = np.zeros(p.H)
    for j in scope.jobs:
        d = int(p.duration[j])
        R = int(p.replicas[j])
        peak = 0.0
        span = np.zeros(p.H, dtype=bool)
        for k, grp in enumerate(x.groups[j]):
            if grp.region != g or grp.power_kw <= 0:
                continue
            w = pue * grp.power_kw
            peak = max(peak, w * R)
            for s in scope.starts[j]:
                var, mult = x.replicas_at(scope, j, k, int(s))
                span[int(s):int(s) + d] = True
                for t in range(int(s), int(s) + d):
                    by_slot[t].append((var, w * mult))
        upper += peak * span  # a job runs once: at most R replicas at its peak power
    idle = [(v, pue * float(p.idle_kw[n])) for n, v in x.active.items()
            if p.node_region[n] == g and p.idle_kw[n] > 0]
    return by_slot, idle, upper


def _power_cap(m: Any, scope: Scope, x: Variables, g: int) -> None:
    p = scope.prep
    by_slot, idle, upper = _load_terms(scope, x, g)
    idle_max = sum(c for _, c in idle)
    bg = scope.bg_power[g] if scope.bg_power is not None else np.zeros(p.H)
    for t in range(p.H):
        cap = p.power_cap[g, t]
        if not np.isfinite(cap):
            continue
        rhs = max(0.0, cap - bg[t])
        # Never binding when everything that could run here fits anyway.
        if idle_max + upper[t] <= rhs + 1e-9:
            continue
        terms, int_rhs, exact = scaled_row(by_slot[t] + idle, rhs, peak=idle_max + upper[t])
        x.inexact |= not exact
        m.add(m.wsum(terms) <= int_rhs)


def _budget(m: Any, scope: Scope, x: Variables, g: int) -> None:
    p = scope.prep
    terms = []
    peak = 0.0  # the most the row can reach: each job runs once
    f = float(p.pue[g] * p.slot_hours)
    for j in scope.jobs:
        d = int(p.duration[j])
        job_peak = 0.0
        for k, grp in enumerate(x.groups[j]):
            if grp.region != g or grp.power_kw <= 0:
                continue
            w = grp.power_kw * d * f
            job_peak = max(job_peak, w * int(p.replicas[j]))
            for s in scope.starts[j]:
                var, mult = x.replicas_at(scope, j, k, int(s))
                terms.append((var, w * mult))
        peak += job_peak
    for n, v in x.active.items():
        if p.node_region[n] == g and p.idle_kw[n] > 0:
            terms.append((v, float(p.idle_kw[n]) * p.H * f))
            peak += float(p.idle_kw[n]) * p.H * f
    bg = float(scope.bg_energy[g]) if scope.bg_energy is not None else 0.0
    if terms:
        int_terms, int_rhs, exact = scaled_row(terms, max(0.0, p.energy_budget[g] - bg),
                                               peak=peak)
        x.inexact |= not exact
        m.add(m.wsum(int_terms) <= int_rhs)


def _dynamic_terms(scope: Scope, x: Variables, cum: np.ndarray) -> list[tuple[Any, float]]:
    """Dynamic-power terms ``P[j,k] * q[j,k,s] * (cum[g,s+d] - cum[g,s])`` for a
    per-region cumulative rate ``cum`` (cost or carbon per kW)."""
    out = []
    for j in scope.jobs:
        d = int(scope.prep.duration[j])
        for k, grp in enumerate(x.groups[j]):
            if grp.power_kw == 0:
                continue
            g = grp.region
            for s in scope.starts[j]:
                s = int(s)
                var, mult = x.replicas_at(scope, j, k, s)
                c = grp.power_kw * (cum[g, s + d] - cum[g, s]) * mult
                if c:
                    out.append((var, c))
    return out


def cost_terms(scope: Scope, x: Variables) -> list[tuple[Any, float]]:
    """Energy, carbon and node cost terms (variable, currency)."""
    p = scope.prep
    out = _dynamic_terms(scope, x, p.cum_cost)
    for n, v in x.active.items():
        if p.activation_cost[n]:
            out.append((v, float(p.activation_cost[n])))
    return out


def carbon_terms(scope: Scope, x: Variables) -> list[tuple[Any, float]]:
    """Carbon terms (variable, kg) of the ``carbon`` objective mode.

    The same shape as :func:`cost_terms` with ``carbon_rate = pue *
    slot_hours * carbon / 1000`` in place of the cost rate:

        dynamic:    P[j,k] * q[j,k,s] * sum_{t=s}^{s+d_j-1} carbon_rate[g,t]
        activation: active[n] * idle[n] * sum_t carbon_rate[g,t]

    so their sum is PROBLEM.md's ``carbon_kg`` exactly (before scaling).
    """
    p = scope.prep
    out = _dynamic_terms(scope, x, p.cum_carbon)
    for n, v in x.active.items():
        c = float(p.idle_kw[n]) * float(p.cum_carbon[p.node_region[n], p.H])
        if c:
            out.append((v, c))
    return out
