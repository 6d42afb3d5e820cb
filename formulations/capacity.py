"""Capacity (PROBLEM.md hard constraint 5).

For every node n, resource r and slot t:

    sum over replicas of jobs j running on n at t of demand[j,r]
        + background[n,t,r] <= capacity[n,r]

CP-SAT: each (job, node) pair is an optional interval
``[start[j], start[j] + duration[j])`` present iff ``a[j,n]``, and each
(node, resource) gets one ``add_cumulative`` with the fixed background jobs
as fixed intervals. Demands are scaled to integers per resource, rounded up,
capacities rounded down. A (node, resource) whose every possible user fits
at once is skipped: it can never bind.

Why intervals and not start-slot booleans per node: a[j,n] x y[j,s] would
cost jobs x nodes x slots booleans (384,000 at the medium size), while
cumulative propagation handles the same rule with jobs x nodes literals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .replication import node_users
from .scaling import resource_scales, scaled_capacity, scaled_demand
from .scope import Scope
from .variables import Variables


def add_capacity(m: Any, scope: Scope, x: Variables) -> None:
    p = scope.prep
    users = node_users(scope)
    rscale = resource_scales(p.demand, p.capacity)
    bg_on: dict[int, list[tuple[int, int, np.ndarray]]] = {}
    for j, nodes in scope.fixed_nodes.items():
        s, d = scope.fixed_start[j], int(p.duration[j])
        for n in nodes:
            bg_on.setdefault(int(n), []).append((s, d, p.demand[j]))
    intervals: dict[tuple[int, int], Any] = {}
    for n, js in users.items():
        bg = bg_on.get(n, [])
        for r in range(p.R):
            dem = [(j, float(p.demand[j, r])) for j in js if p.demand[j, r] > 0]
            if not dem:
                continue
            peak = 0.0
            if bg:
                load = np.zeros(p.H)
                for s, d, q in bg:
                    load[s:s + d] += q[r]
                peak = float(load.max())
            if sum(q for _, q in dem) + peak <= p.capacity[n, r] + 1e-9:
                continue
            ivs, qs = [], []
            for j, q in dem:
                key = (j, n)
                if key not in intervals:
                    intervals[key] = m.optional_interval(
                        x.start[j], int(p.duration[j]), x.a[j][n],
                        f"iv[{p.job_ids[j]},{p.node_names[n]}]")
                ivs.append(intervals[key])
                qs.append(scaled_demand(q, rscale[r]))
            for k, (s, d, q) in enumerate(bg):
                if q[r] > 0:
                    ivs.append(m.fixed_interval(s, d, f"bg[{p.node_names[n]},{k}]"))
                    qs.append(scaled_demand(q[r], rscale[r]))
            m.add_cumulative(ivs, qs, scaled_capacity(p.capacity[n, r], rscale[r]))
