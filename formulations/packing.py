"""Packing rows for the CP-SAT model: dual-feasible functions on class capacity.

The class rows of :mod:`allocopt.formulations.capacity` say that a class's load at a
slot fits into the capacity of its active nodes; their LP relaxation packs
jobs as if they were liquid. With a dual-feasible function ``f``
(:func:`allocopt.formulations.packing_bound.dff`: ``sum x_i <= 1`` implies
``sum f(x_i) <= 1``), every node holds at most 1 in ``f`` units per slot, so
for every class ``c``, resource ``r`` and slot ``t``:

    sum_j f(demand[j,r] / capacity[c,r]) * replicas of j on c running at t
        <= sum of active[n] over the class's nodes

(``half``: jobs needing more than half a node cannot share one; ``thirds``:
Fekete-Schepers k = 2). Every valid plan satisfies them. Rows are added
only for the full model (no background), where some user has ``f(x) > x``
and the row can bind (its users could exceed the class's node count).
Coefficients are scaled to integers exactly (f takes values in multiples of
1/6 here).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .packing_bound import dff
from .scope import Scope
from .variables import Variables

#: Dual-feasible functions added to the CP-SAT model (measured one by one,
#: see benchmarks/README.md "Packing rows"); empty: none.
MODEL_DFFS: tuple[str, ...] = ()
#: Multiplier making every value of the functions above integral.
_DENOM = 6


def add_packing_rows(m: Any, scope: Scope, x: Variables,
                     dffs: tuple[str, ...] | None = None) -> int:
    """Add the rows (module docstring); returns how many were added."""
    dffs = MODEL_DFFS if dffs is None else dffs
    if not dffs or scope.fixed_nodes:
        return 0
    p = scope.prep
    H = p.H
    added = 0
    for name in dffs:
        rows: dict[int, list[list[tuple[Any, int]]]] = {}
        upper: dict[int, np.ndarray] = {}
        gain: set[int] = set()
        for r in range(p.R):
            rows.clear()
            upper.clear()
            gain.clear()
            for j in scope.jobs:
                if p.demand[j, r] <= 0:
                    continue
                d = int(p.duration[j])
                for k, grp in enumerate(x.groups[j]):
                    c = grp.node_class
                    cap = float(p.class_cap[c, r])
                    if cap <= 0:
                        continue
                    xr = min(1.0, float(p.demand[j, r]) / cap)
                    fx = float(dff(name, np.array([xr]))[0])
                    coef = int(round(fx * _DENOM))
                    if abs(coef - fx * _DENOM) > 1e-9:
                        continue  # not a multiple of 1/6: leave this job out (still valid)
                    if coef == 0:
                        continue
                    if fx > xr + 1e-9:
                        gain.add(c)
                    slots = rows.setdefault(c, [[] for _ in range(H)])
                    ub = upper.setdefault(c, np.zeros(H))
                    span = np.zeros(H, dtype=bool)
                    for s in scope.starts[j]:
                        var, mult = x.replicas_at(scope, j, k, int(s))
                        for t in range(int(s), int(s) + d):
                            slots[t].append((var, coef * mult))
                        span[int(s):int(s) + d] = True
                    ub += span * coef * min(int(p.replicas[j]), len(grp.nodes))
            for c in gain:
                members = [n for n in range(int(p.class_first[c]),
                                            int(p.class_first[c] + p.class_count[c]))]
                act = [x.active[n] for n in members if n in x.active]
                if len(act) != len(members):
                    continue
                for t in range(H):
                    if not rows[c][t] or upper[c][t] <= _DENOM * len(members):
                        continue
                    m.add(m.wsum(rows[c][t] + [(v, -_DENOM) for v in act]) <= 0)
                    added += 1
    return added
