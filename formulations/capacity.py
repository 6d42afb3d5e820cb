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

Back-ends without a cumulative constraint (``m.native_cumulative`` false,
e.g. PuLP) get the *time-indexed* variant instead, with z[j,n,s] = 1 if a
replica of job j runs on node n starting at slot s (created only for starts
at which n is not in maintenance):

    sum_n z[j,n,s] = replicas[j] * y[j,s]                 for every start s
    sum_s z[j,n,s] = a[j,n]                               for every node n
    q[j,k,s] = sum_{n in k} z[j,n,s]                      (power groups; tightens the LP)
    sum_{j, s : s <= t < s + d_j} demand[j,r] * z[j,n,s]
        <= capacity[n,r] - background[n,t,r]              for every n, t, r

with the same integer scaling as the cumulative path (demands rounded up,
capacities down). A row (n, t, r) is skipped when everything that could run
on n at t fits anyway, and z exists only for jobs with at least one node
where some row remains. Exact for integer solutions: y picks one start, so
z[j,n,s] = a[j,n] * y[j,s].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .replication import node_users
from .scaling import resource_scales, resources_exact, scaled_capacity, scaled_demand
from .scope import Scope
from .variables import Variables


def add_capacity(m: Any, scope: Scope, x: Variables) -> None:
    """Capacity rule 5: cumulative constraints, or time-indexed rows when the
    back-end has no cumulative constraint (see the module docstring)."""
    if not getattr(m, "native_cumulative", True):
        _add_capacity_time_indexed(m, scope, x)
        return
    p = scope.prep
    users = node_users(scope)
    rscale = resource_scales(p.demand, p.capacity)
    x.inexact |= not resources_exact(p.demand, p.capacity, rscale)
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
    if class_rows_terms(scope) <= MAX_CLASS_ROW_TERMS:
        _add_class_capacity(m, scope, x)


#: Budget of linear terms for the redundant class rows: they tighten small
#: models, but on larger ones their presolve costs more than they give.
MAX_CLASS_ROW_TERMS = 60_000


def class_rows_terms(scope: Scope) -> int:
    """Terms the redundant class rows would add (before dropping slack rows)."""
    p = scope.prep
    return int(sum(len(scope.starts[j]) * int(p.duration[j]) * int((p.demand[j] > 0).sum())
                   * len({int(p.node_class[n]) for n in scope.nodes[j]}) for j in scope.jobs))


def _add_class_capacity(m: Any, scope: Scope, x: Variables) -> None:
    """Redundant time-indexed rows per node class (cumulative has no useful
    LP relaxation; these give the tier stages a real bound).

    For every class c, resource r and slot t:

        sum_j demand[j,r] * sum_{s in (t-d_j, t]} q[j,c,s]
            <= sum over the class's model nodes of free capacity at t

    Implied by the per-node rule, so adding them never cuts a valid plan.
    Rows that cannot bind (every possible user fits) are skipped.
    """
    p = scope.prep
    H = p.H
    rscale = resource_scales(p.demand, p.capacity)
    rows: dict[tuple[int, int], list[list[tuple[Any, int]]]] = {}
    upper: dict[tuple[int, int], np.ndarray] = {}
    for j in scope.jobs:
        d = int(p.duration[j])
        R = int(p.replicas[j])
        for k, grp in enumerate(x.groups[j]):
            c = grp.node_class
            for r in np.flatnonzero(p.demand[j] > 0):
                q = scaled_demand(float(p.demand[j, r]), rscale[r])
                key = (c, int(r))
                slots = rows.setdefault(key, [[] for _ in range(H)])
                ub = upper.setdefault(key, np.zeros(H))
                span = np.zeros(H, dtype=bool)
                for s in scope.starts[j]:
                    var, mult = x.replicas_at(scope, j, k, int(s))
                    for t in range(int(s), int(s) + d):
                        slots[t].append((var, q * mult))
                    span[int(s):int(s) + d] = True
                ub += span * q * min(R, len(grp.nodes))
    model_nodes = scope.model_nodes
    in_model = set(int(n) for n in model_nodes)
    bg_use: dict[int, np.ndarray] = {}
    for j, nodes in scope.fixed_nodes.items():
        s, d = scope.fixed_start[j], int(p.duration[j])
        for n in nodes:
            if int(n) not in in_model:
                continue  # its capacity is not in the row either
            c = int(p.node_class[n])
            arr = bg_use.setdefault(c, np.zeros((H, p.R)))
            arr[s:s + d] += p.demand[j]
    for (c, r), slots in rows.items():
        members = model_nodes[p.node_class[model_nodes] == c]
        per_node = scaled_capacity(float(p.capacity[members[0], r]), rscale[r])
        cap = per_node * len(members)
        # Nodes with a cost of being on: the row's capacity counts only the
        # active ones, which gives the node cost a real LP bound.
        act = [x.active[int(n)] for n in members if int(n) in x.active]
        link = bool(act) and float(p.activation_cost[members[0]]) > 0
        bg = bg_use.get(c)
        for t in range(H):
            used = scaled_demand(float(bg[t, r]), rscale[r]) if bg is not None else 0
            rhs = cap - used
            if not slots[t]:
                continue
            if link:
                m.add(m.wsum(slots[t] + [(v, -per_node) for v in act])
                      <= per_node * (len(members) - len(act)) - used)
            elif upper[(c, r)][t] > rhs:
                m.add(m.wsum(slots[t]) <= max(rhs, 0))


def _add_capacity_time_indexed(m: Any, scope: Scope, x: Variables) -> None:
    """The time-indexed capacity rows and the z links (module docstring)."""
    p = scope.prep
    H, R = p.H, p.R
    users = node_users(scope)
    rscale = resource_scales(p.demand, p.capacity)
    dem = np.array([[scaled_demand(float(p.demand[j, r]), rscale[r]) for r in range(R)]
                    for j in range(p.J)], dtype=np.int64).reshape(p.J, R)
    cap = np.array([[scaled_capacity(float(p.capacity[n, r]), rscale[r]) for r in range(R)]
                    for n in range(p.N)], dtype=np.int64).reshape(p.N, R)
    bg: dict[int, np.ndarray] = {}
    for j, nodes in scope.fixed_nodes.items():
        s, d = scope.fixed_start[j], int(p.duration[j])
        for n in nodes:
            bg.setdefault(int(n), np.zeros((H, R), dtype=np.int64))[s:s + d] += dem[j]

    allowed_cache: dict[tuple[int, int], list[int]] = {}

    def allowed(j: int, n: int) -> list[int]:
        """Starts of j at which node n is not in maintenance."""
        key = (j, int(p.node_class[n]))
        if key not in allowed_cache:
            st = scope.starts[j]
            ok = p.window_free(np.array([key[1]]), int(p.duration[j]), st)[0]
            allowed_cache[key] = [int(s) for s in st[ok]]
        return allowed_cache[key]

    # Rows that may bind: the load of every possible user plus the background
    # exceeds the capacity.
    binding: dict[int, np.ndarray] = {}
    for n, js in users.items():
        upper = bg.get(n, np.zeros((H, R), dtype=np.int64)).copy()
        for j in js:
            if not dem[j].any():
                continue
            cover = np.zeros(H, dtype=bool)
            d = int(p.duration[j])
            for s in allowed(j, n):
                cover[s:s + d] = True
            upper[cover] += dem[j]
        bind = upper > cap[n]
        if bind.any():
            binding[n] = bind
    if not binding:
        return

    zjobs = sorted({j for n in binding for j in users[n] if dem[j].any()})
    for j in zjobs:
        R_j = int(p.replicas[j])
        by_start: dict[int, list[Any]] = {int(s): [] for s in scope.starts[j]}
        for n in scope.nodes[j]:
            n = int(n)
            zs = [x.z_var(m, scope, j, n, s) for s in allowed(j, n)]
            for s, v in zip(allowed(j, n), zs):
                by_start[s].append(v)
            m.add(m.total(zs) == x.a[j][n])
        for s, vs in by_start.items():
            m.add(m.total(vs) == R_j * x.y[j][s])
        if j in x.q:
            zj = x.z[j]
            for k, grp in enumerate(x.groups[j]):
                for s in scope.starts[j]:
                    s = int(s)
                    m.add(x.q[j][(k, s)] == m.total(zj[(int(n), s)] for n in grp.nodes
                                                    if (int(n), s) in zj))

    for n, bind in binding.items():
        rows: dict[tuple[int, int], list[tuple[Any, int]]] = {}
        for j in users[n]:
            if j not in x.z:
                continue
            d = int(p.duration[j])
            res = [r for r in range(R) if dem[j, r] > 0]
            for s in allowed(j, n):
                v = x.z[j][(n, s)]
                for t in range(s, s + d):
                    for r in res:
                        if bind[t, r]:
                            rows.setdefault((t, r), []).append((v, int(dem[j, r])))
        base = bg.get(n)
        for (t, r), terms in sorted(rows.items()):
            rhs = int(cap[n, r]) - (int(base[t, r]) if base is not None else 0)
            m.add(m.wsum(terms) <= rhs)

    if hasattr(m, "hint_rules"):
        m.hint_rules.append(lambda values: z_hint(x, values))


def z_hint(x: Variables, values: dict[Any, int]) -> dict[Any, int]:
    """Values of z implied by values of a and y: z[j,n,s] = a[j,n] * y[j,s]."""
    out: dict[Any, int] = {}
    for j, zj in x.z.items():
        for (n, s), v in zj.items():
            out[v] = int(bool(values.get(x.a[j][n], 0)) and bool(values.get(x.y[j][s], 0)))
    return out
