"""Time (PROBLEM.md hard constraints 1 and 2; tardiness of the cost).

For every free job j with allowed starts S_j (release, deadline, maintenance
of enough nodes, predecessors already fixed):

    sum_{s in S_j} y[j,s] = placed[j]
    start[j] = min(S_j) + sum_s (s - min(S_j)) * y[j,s]
    placed[j] = 1                              if a fixed job depends on j
    placed[j] <= placed[p]                     for every free predecessor p
    start[j] >= start[p] + duration[p]         if placed[j]
    a[j,n] <= sum_{s : [s, s+d) misses n's unavailable windows} y[j,s]
    tardiness[j] = sum_s penalty[j] * max(0, s + duration[j] - due[j]) * y[j,s]

Deadlines and releases are in the domain S_j, not constraints. The
time-indexed y gives a tight relaxation; ``start`` exists for the intervals
of the capacity family and for precedence.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .scope import Scope
from .variables import Variables


def add_timing(m: Any, scope: Scope, x: Variables) -> None:
    p = scope.prep
    for j in scope.jobs:
        ys = x.y[j]
        s0 = int(scope.starts[j][0])
        m.add(m.total(ys.values()) == x.placed[j])
        m.add(x.start[j] == s0 + m.wsum((v, s - s0) for s, v in ys.items() if s != s0))
        if j in scope.must_place:
            m.add(x.placed[j] == 1)
        _add_maintenance(m, scope, x, j)
        for q in p.preds[j]:
            if q in x.placed:
                m.add(x.placed[j] <= x.placed[q])
                big_m = int(p.duration[q]) + int(scope.starts[q][-1]) - int(scope.starts[j][0])
                m.add_ge_if(x.start[j] - x.start[q], int(p.duration[q]), x.placed[j], max(big_m, 0))


def _add_maintenance(m: Any, scope: Scope, x: Variables, j: int) -> None:
    """A replica may use node n only at a start that avoids n's maintenance."""
    p = scope.prep
    d = int(p.duration[j])
    st = scope.starts[j]
    seen: dict[int, list[int]] = {}
    for n, v in x.a[j].items():
        c = int(p.node_class[n])
        if c not in seen:
            ok = p.window_free(np.array([c]), d, st)[0]
            seen[c] = [int(s) for s in st[ok]] if not ok.all() else []
            if ok.all():
                seen[c] = None  # type: ignore[assignment]
        allowed = seen[c]
        if allowed is None:
            continue
        m.add(v <= m.total(x.y[j][s] for s in allowed))


def tardiness_terms(scope: Scope, x: Variables) -> list[tuple[Any, float]]:
    """Cost terms (variable, currency) of tardiness."""
    p = scope.prep
    out = []
    for j in scope.jobs:
        if p.due[j] < 0 or p.penalty[j] == 0:
            continue
        for s, v in x.y[j].items():
            late = max(0, s + int(p.duration[j]) - int(p.due[j]))
            if late:
                out.append((v, float(p.penalty[j]) * late))
    return out
