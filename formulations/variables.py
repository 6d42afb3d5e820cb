"""One container for every decision variable of the model.

Indices inside: ``j`` job, ``s`` start slot, ``n`` node, ``g`` region,
``k`` a *group* of a job: its usable nodes of one node class (the copies of
one node entry: one region, one dynamic power per replica). Names follow the indices
(``y[train-42,3]``) so model dumps read.

Variables
---------
placed[j]      1 if job j is placed
y[j,s]         1 if job j starts at slot s
start[j]       the start slot (sum of s * y[j,s]; the first allowed start if unplaced)
a[j,n]         1 if a replica of job j runs on node n
q[j,k,s]       replicas of job j in group k starting at s (only for jobs with
               more than one group; otherwise replicas * y[j,s])
active[n]      1 if node n hosts a replica (nodes active in the background
               are not variables)
r[j,g]         1 if job j has a replica in region g (only where min_regions
               or max_latency_ms needs it)
moved[j]       1 if planned job j leaves its previous placement (only where
               it can be kept and moving costs something; see moves.py)
z[j,n,s]       1 if a replica of job j runs on node n starting at s (created
               lazily by the time-indexed capacity family, only for back-ends
               without a native cumulative constraint; see capacity.py)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .scope import Scope


@dataclass
class Group:
    """Usable nodes of a job in one node class (one region, one power)."""

    region: int
    power_kw: float
    nodes: np.ndarray
    node_class: int = -1


@dataclass
class Variables:
    placed: dict[int, Any] = field(default_factory=dict)
    y: dict[int, dict[int, Any]] = field(default_factory=dict)
    start: dict[int, Any] = field(default_factory=dict)
    a: dict[int, dict[int, Any]] = field(default_factory=dict)
    groups: dict[int, list[Group]] = field(default_factory=dict)
    q: dict[int, dict[tuple[int, int], Any]] = field(default_factory=dict)
    active: dict[int, Any] = field(default_factory=dict)
    r: dict[int, dict[int, Any]] = field(default_factory=dict)
    #: True when some row had to be rounded conservatively (the model is then
    #: slightly stricter than the rules, so no optimality proof is claimed).
    inexact: bool = False
    #: Lazily filled: z[j][(n, s)] (time-indexed capacity only).
    z: dict[int, dict[tuple[int, int], Any]] = field(default_factory=dict)
    #: moved[j]: 1 if planned job j leaves its previous placement (re-planning).
    moved: dict[int, Any] = field(default_factory=dict)

    def replicas_at(self, scope: Scope, j: int, k: int, s: int) -> tuple[Any, int]:
        """(variable, multiplier): replicas of ``j`` in group ``k`` starting at ``s``."""
        if j in self.q:
            return self.q[j][(k, s)], 1
        return self.y[j][s], int(scope.prep.replicas[j])

    def z_var(self, m: Any, scope: Scope, j: int, n: int, s: int) -> Any:
        """z[j,n,s], created on first use (time-indexed capacity)."""
        inner = self.z.setdefault(j, {})
        if (n, s) not in inner:
            p = scope.prep
            inner[(n, s)] = m.bool_var(f"z[{p.job_ids[j]},{p.node_names[n]},{s}]")
        return inner[(n, s)]

    def all_vars(self) -> list[Any]:
        out = list(self.placed.values()) + list(self.start.values()) + list(self.active.values())
        out.extend(self.moved.values())
        for d in (self.y, self.a, self.q, self.r, self.z):
            for inner in d.values():
                out.extend(inner.values())
        return out


def make_variables(m: Any, scope: Scope) -> Variables:
    """Create every variable of the model for ``scope`` on back-end ``m``."""
    p = scope.prep
    x = Variables()
    for j in scope.jobs:
        jid = p.job_ids[j]
        x.placed[j] = m.bool_var(f"placed[{jid}]")
        st = scope.starts[j]
        x.y[j] = {int(s): m.bool_var(f"y[{jid},{s}]") for s in st}
        x.start[j] = m.int_var(int(st[0]), int(st[-1]), f"start[{jid}]")
        x.a[j] = {int(n): m.bool_var(f"a[{jid},{p.node_names[n]}]") for n in scope.nodes[j]}
        P = p.class_power(j)
        keyed: dict[int, list[int]] = {}
        for n in scope.nodes[j]:
            keyed.setdefault(int(p.node_class[n]), []).append(int(n))
        x.groups[j] = [Group(int(p.class_region[c]), float(P[c]), np.array(ns), c)
                       for c, ns in sorted(keyed.items())]
        R = int(p.replicas[j])
        if len(x.groups[j]) > 1:
            x.q[j] = {}
            for k, grp in enumerate(x.groups[j]):
                ub = min(R, len(grp.nodes))
                for s in st:
                    name = f"q[{jid},{k},{s}]"
                    x.q[j][(k, int(s))] = m.bool_var(name) if ub == 1 else m.int_var(0, ub, name)
        job = p.jobs[j]
        regions = sorted({grp.region for grp in x.groups[j]})
        if len(regions) > 1 and (job.min_regions > 1 or job.max_latency_ms is not None):
            x.r[j] = {g: m.bool_var(f"r[{jid},{p.region_ids[g]}]") for g in regions}
    for j in scope.jobs:
        if j in p.planned and p.move_cost[j] > 0:
            x.moved[j] = m.bool_var(f"moved[{p.job_ids[j]}]")
    bg = scope.bg_active
    for n in scope.model_nodes:
        if bg is None or not bg[n]:
            x.active[int(n)] = m.bool_var(f"active[{p.node_names[n]}]")
    return x
