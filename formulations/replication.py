"""Replication (PROBLEM.md hard constraints 3 and 4).

Eligibility is in the index sets: a[j,n] exists only for allowed nodes. For
every free job j with R replicas:

    sum_n a[j,n] = R * placed[j]                       (distinct nodes: a is 0/1)
    sum_{n in g} a[j,n] <= max_per_region[j]           for every region g
    a[j,n] <= r[j,g] <= sum_{n in g} a[j,n]            for n in region g
    sum_g r[j,g] >= min_regions[j] * placed[j]
    r[j,g] + r[j,h] <= 1                               if latency(g,h) > max_latency_ms[j]

and the link to the power groups (same start for every replica):

    sum_{n in k} a[j,n] = sum_s q[j,k,s]
    q[j,k,s] <= min(R, |k|) * y[j,s]
"""

from __future__ import annotations

import itertools
from typing import Any

from .scope import Scope
from .variables import Variables


def add_replication(m: Any, scope: Scope, x: Variables) -> None:
    p = scope.prep
    for j in scope.jobs:
        job = p.jobs[j]
        R = int(p.replicas[j])
        a = x.a[j]
        m.add(m.total(a.values()) == R * x.placed[j])
        by_region: dict[int, list[Any]] = {}
        for n, v in a.items():
            by_region.setdefault(int(p.node_region[n]), []).append(v)
        mpr = job.max_per_region
        if mpr is not None and mpr < R:
            for vs in by_region.values():
                if len(vs) > mpr:
                    m.add(m.total(vs) <= mpr)
        if j in x.r:
            r = x.r[j]
            for g, vs in by_region.items():
                for v in vs:
                    m.add(v <= r[g])
                m.add(r[g] <= m.total(vs))
            if job.min_regions > 1:
                m.add(m.total(r.values()) >= job.min_regions * x.placed[j])
            if job.max_latency_ms is not None:
                for g, h in itertools.combinations(sorted(r), 2):
                    if p.latency[g, h] > job.max_latency_ms + 1e-9:
                        m.add(r[g] + r[h] <= 1)
        elif job.min_regions > 1:
            # One usable region only: min_regions > 1 cannot hold.
            m.add(x.placed[j] == 0)
        if j in x.q:
            for k, grp in enumerate(x.groups[j]):
                cap = min(R, len(grp.nodes))
                m.add(m.total(a[int(n)] for n in grp.nodes)
                      == m.total(x.q[j][(k, int(s))] for s in scope.starts[j]))
                if cap > 1:
                    for s in scope.starts[j]:
                        m.add(x.q[j][(k, int(s))] <= cap * x.y[j][int(s)])
                else:
                    for s in scope.starts[j]:
                        m.add(x.q[j][(k, int(s))] <= x.y[j][int(s)])


def node_users(scope: Scope) -> dict[int, list[int]]:
    """Free jobs that may use each node."""
    users: dict[int, list[int]] = {}
    for j in scope.jobs:
        for n in scope.nodes[j]:
            users.setdefault(int(n), []).append(j)
    return users

