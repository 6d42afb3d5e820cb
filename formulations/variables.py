"""One container for every decision variable of the model.

Indices inside: ``j`` job, ``s`` start slot, ``n`` node, ``g`` region,
``k`` a *power group* of a job (its usable nodes with the same region and the
same dynamic power per replica). Names follow the indices
(``y[train-42,3]``) so model dumps read.

Variables
---------
placed[j]      1 if job j is placed
y[j,s]         1 if job j starts at slot s
start[j]       the start slot (sum of s * y[j,s]; the first allowed start if unplaced)
a[j,n]         1 if a replica of job j runs on node n
q[j,k,s]       replicas of job j in power group k starting at s (only for jobs
               with more than one power group; otherwise replicas * y[j,s])
active[n]      1 if node n hosts a replica (nodes active in the background
               are not variables)
r[j,g]         1 if job j has a replica in region g (only where min_regions
               or max_latency_ms needs it)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .scope import Scope


@dataclass
class Group:
    """Usable nodes of a job with one region and one power per replica."""

    region: int
    power_kw: float
    nodes: np.ndarray


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

    def replicas_at(self, scope: Scope, j: int, k: int, s: int) -> tuple[Any, int]:
        """(variable, multiplier): replicas of ``j`` in group ``k`` starting at ``s``."""
        if j in self.q:
            return self.q[j][(k, s)], 1
        return self.y[j][s], int(scope.prep.replicas[j])

    def all_vars(self) -> list[Any]:
        out = list(self.placed.values()) + list(self.start.values()) + list(self.active.values())
        for d in (self.y, self.a, self.q, self.r):
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
        keyed: dict[tuple[int, float], list[int]] = {}
        for n in scope.nodes[j]:
            c = p.node_class[n]
            keyed.setdefault((int(p.class_region[c]), round(float(P[c]), 9)), []).append(int(n))
        x.groups[j] = [Group(g, pw, np.array(ns)) for (g, pw), ns in sorted(keyed.items())]
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
    bg = scope.bg_active
    for n in scope.model_nodes:
        if bg is None or not bg[n]:
            x.active[int(n)] = m.bool_var(f"active[{p.node_names[n]}]")
    return x
