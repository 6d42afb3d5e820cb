"""What one model covers: free jobs, their starts and nodes, and the background.

The full model frees every job that can be placed at all. A
large-neighbourhood step frees a few jobs of a current plan and keeps the
rest fixed: their capacity use, regional power and energy, active nodes and
start times become the *background* the free jobs must fit around.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from allocopt.prepared import Prepared


@dataclass
class Scope:
    """Index sets and background of one model (see module docstring)."""

    prep: Prepared
    jobs: list[int]
    starts: dict[int, np.ndarray]
    nodes: dict[int, np.ndarray]
    must_place: set[int] = field(default_factory=set)
    fixed_start: dict[int, int] = field(default_factory=dict)
    fixed_nodes: dict[int, tuple[int, ...]] = field(default_factory=dict)
    bg_active: np.ndarray | None = None  # (N,) bool
    bg_power: np.ndarray | None = None  # (G, H) facility kW
    bg_energy: np.ndarray | None = None  # (G,) kWh
    symmetric: bool = True  # identical nodes are interchangeable (no background)

    @property
    def model_nodes(self) -> np.ndarray:
        """Every node some free job may use, sorted."""
        if not self.jobs:
            return np.zeros(0, dtype=int)
        return np.unique(np.concatenate([self.nodes[j] for j in self.jobs]))

    def size_estimate(self) -> int:
        """Variables plus constraint terms, before building (cheap)."""
        p = self.prep
        total = 0
        for j in self.jobs:
            S = len(self.starts[j])
            k = len(self.nodes[j])
            groups = len(np.unique(p.node_region[self.nodes[j]])) + 1
            total += S * (2 + groups) + k * (2 + p.R) + S * int(p.duration[j]) * np.isfinite(
                p.power_cap).any()
        return int(total)


def full_scope(prep: Prepared) -> Scope:
    """Every job that can be placed at all, nothing fixed."""
    free = [j for j in range(prep.J) if j not in prep.static_reasons and j not in prep.running]
    if not prep.running:
        return _build(prep, free, {}, {}, None)
    # Re-planning: running jobs are fixed background (at internal start 0).
    scope = _build(prep, free, dict.fromkeys(prep.running, 0), dict(prep.running), None)
    return scope


def neighbourhood_scope(prep: Prepared, start: np.ndarray, nodes: dict[int, tuple[int, ...]],
                        free: set[int], fresh_per_class: int = 4,
                        centre: dict[int, int] | None = None,
                        half_width: int | None = None,
                        node_pool: np.ndarray | None = None) -> Scope:
    """Free the jobs in ``free``; every other placed job stays as it is.

    ``start`` (-1 when unplaced) and ``nodes`` describe the current plan.
    With ``half_width``, a freed job may only start within ``half_width``
    slots of its current start (placed jobs) or of ``centre[j]`` (unplaced
    ones): a *time-windowed* neighbourhood, so that a model of a given size
    holds more jobs on long horizons. The current plan stays inside it.
    With ``node_pool`` (a boolean mask over nodes), a freed job may only use
    nodes in the pool besides idle ones; the caller includes the freed
    jobs' current nodes, so the current plan stays inside this one too.
    """
    free = set(free) - prep.running.keys()  # running jobs never move
    fixed = {j: int(start[j]) for j in range(prep.J) if start[j] >= 0 and j not in free}
    fixed_nodes = {j: nodes[j] for j in fixed}
    cand = [j for j in sorted(free) if j not in prep.static_reasons]
    around = None
    if half_width is not None:
        around = {j: int(start[j]) if start[j] >= 0 else int((centre or {}).get(j, -1))
                  for j in cand}
    return _build(prep, cand, fixed, fixed_nodes, fresh_per_class, around, half_width, node_pool)


def _build(prep: Prepared, cand: list[int], fixed: dict[int, int],
           fixed_nodes: dict[int, tuple[int, ...]], fresh_per_class: int | None,
           around: dict[int, int] | None = None, half_width: int | None = None,
           node_pool: np.ndarray | None = None) -> Scope:
    p = prep
    bg_active = np.zeros(p.N, dtype=bool)
    bg_power = np.zeros((p.G, p.H))
    bg_energy = np.zeros(p.G)
    for j, s in fixed.items():
        d = int(p.duration[j])
        P = p.class_power(j)
        for n in fixed_nodes[j]:
            c = p.node_class[n]
            g = p.class_region[c]
            bg_power[g, s:s + d] += p.pue[g] * P[c]
            bg_active[n] = True
    for n in np.flatnonzero(bg_active):
        c = p.node_class[n]
        g = p.class_region[c]
        bg_power[g] += p.pue[g] * p.class_idle[c]
    bg_energy = bg_power.sum(axis=1) * p.slot_hours

    free_set = set(cand)
    jobs, starts, nodes, must = [], {}, {}, set()
    for j in p.topo_order:
        if j not in free_set:
            continue
        # A predecessor neither fixed-placed nor free: the job cannot run.
        if any(q not in fixed and q not in free_set for q in p.preds[j]):
            continue
        if any(q in free_set and q not in starts for q in p.preds[j]):
            continue  # its free predecessor was dropped
        d = int(p.duration[j])
        es = int(p.earliest_start[j])
        for q in p.preds[j]:
            if q in fixed:
                es = max(es, fixed[q] + int(p.duration[q]))
        ls = int(p.latest_start[j])
        for s in p.succs[j]:
            if s in fixed:
                ls = min(ls, fixed[s] - d)
                must.add(j)
        if around is not None and half_width is not None and around.get(j, -1) >= 0:
            es = max(es, around[j] - half_width)
            ls = min(ls, around[j] + half_width)
        if es > ls:
            continue
        classes = p.eligible_classes(j)
        st = np.arange(es, ls + 1)
        free_win = p.window_free(classes, d, st)  # (k, S)
        cls_ok = free_win.any(axis=1)
        classes, free_win = classes[cls_ok], free_win[cls_ok]
        if len(classes) == 0:
            continue
        R = int(p.replicas[j])
        node_list = []
        counts = np.zeros(len(st), dtype=int)
        for c, fw in zip(classes, free_win):
            lo, cnt = int(p.class_first[c]), int(p.class_count[c])
            members = np.arange(lo, lo + cnt)
            if fresh_per_class is not None:
                # At least R idle copies: a freed job must keep room for all of
                # its replicas, or it would drop out of the model while the
                # merged plan keeps its old nodes (see ``extract``).
                busy = bg_active[lo:lo + cnt]
                if node_pool is not None:
                    busy = busy & node_pool[lo:lo + cnt]
                on = members[busy]
                off = members[~bg_active[lo:lo + cnt]][:max(fresh_per_class, R)]
                members = np.concatenate([on, off])
            node_list.append(members)
            counts += fw * len(members)
        st = st[counts >= R]
        if len(st) == 0:
            continue
        jobs.append(j)
        starts[j] = st
        nodes[j] = np.sort(np.concatenate(node_list))
    return Scope(
        prep=p, jobs=jobs, starts=starts, nodes=nodes, must_place=must & set(jobs),
        fixed_start=fixed, fixed_nodes=fixed_nodes,
        bg_active=bg_active, bg_power=bg_power, bg_energy=bg_energy,
        # Planned placements name particular copies of a node: keeping one
        # must not be ruled out by the symmetry breaking (and the hint, which
        # keeps them, must stay feasible).
        symmetric=not fixed and not p.planned,
    )
