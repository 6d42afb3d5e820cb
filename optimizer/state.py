"""Checks of the re-planning state of a problem (PROBLEM.md, *Re-planning*).

A ``running`` job is a fact, not a choice: a state that cannot exist is bad
input, reported with every other error at once. It is bad input when

* ``running.since > 0`` (it has not started: give it ``planned`` instead),
* ``running.since + duration <= 0`` (it has ended: leave it out),
* ``running.nodes`` names an unknown node, names a node twice, or has not
  exactly ``replicas`` nodes,
* its remaining slots ``[max(since, 0), since + duration)`` overlap an
  ``unavailable`` window of one of its nodes,
* a job has both ``running`` and ``planned``,
* the running jobs alone already exceed a node's capacity, a region's
  ``power_cap_kw`` or its ``energy_budget_kwh`` (no plan could be valid).

A ``planned`` placement is only the reference moves are counted against, so
it is never an error: one that names a node that no longer exists (a failed
node removed from the problem), has the wrong number of nodes or a start the
job can no longer use simply cannot be kept, and the job counts as moved
whatever the new plan does (its ``move_cost`` is then a constant).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np


def _series(val: Any, H: int, default: float) -> np.ndarray:
    if val is None:
        return np.full(H, default)
    if isinstance(val, (int, float)):
        return np.full(H, float(val))
    arr = np.asarray(val, dtype=float)
    return arr if len(arr) == H else np.full(H, default)


def check_state(H: int, slot_hours: float, regions: list, nodes: list, jobs: list) -> list[str]:
    """One message per broken ``running`` state (module docstring)."""
    from .validate import replica_power

    errors: list[str] = []
    by_name: dict[str, Any] = {}
    for n in nodes:
        for name in n.names:
            by_name[name] = n
    region_by_id = {r.id: r for r in regions}
    # Usage of the running jobs in slots >= 0: per node (capacity), per region (power).
    use: dict[str, list[tuple[int, int, Any]]] = defaultdict(list)
    dyn: dict[str, np.ndarray] = {}
    active: set[str] = set()
    for j in jobs:
        run = j.running
        if run is None:
            continue
        where = f"job {j.id!r}"
        ok = True
        if j.planned is not None:
            errors.append(f"{where}: running and planned exclude each other "
                          "(a running job keeps its nodes; drop planned)")
        if run.since > 0:
            errors.append(f"{where}: running.since must be <= 0 (slot 0 is now), got {run.since}; "
                          "a job that has not started takes planned instead")
            ok = False
        end = run.since + j.duration
        if end <= 0:
            errors.append(f"{where}: running job has ended (running.since {run.since} + duration "
                          f"{j.duration} = {end} <= 0); leave it out of the problem")
            ok = False
        if len(run.nodes) != j.replicas:
            errors.append(f"{where}: running.nodes has {len(run.nodes)} node(s), replicas is "
                          f"{j.replicas}")
            ok = False
        seen: set[str] = set()
        for name in run.nodes:
            if name in seen:
                errors.append(f"{where}: running.nodes names node {name!r} twice")
                ok = False
            seen.add(name)
            if name not in by_name:
                errors.append(f"{where}: running.nodes names unknown node {name!r}")
                ok = False
        if not ok:
            continue
        lo, hi = max(run.since, 0), end
        for name in run.nodes:
            node = by_name[name]
            for a, b in node.unavailable:
                if a < hi and lo < b:
                    errors.append(f"{where}: running on node {name!r}, whose unavailable window "
                                  f"[{a}, {b}) overlaps the job's remaining slots [{lo}, {hi})")
                    ok = False
        if not ok:
            continue
        for name in run.nodes:
            node = by_name[name]
            use[name].append((lo, min(hi, H), j))
            active.add(name)
            if node.region in region_by_id:
                arr = dyn.setdefault(node.region, np.zeros(H))
                arr[lo:min(hi, H)] += replica_power(j, node)
    for name, uses in use.items():
        cap = by_name[name].capacity
        res = sorted({r for _, _, j in uses for r in j.demand})
        for r in res:
            load = np.zeros(H)
            for lo, hi, j in uses:
                load[lo:hi] += j.demand.get(r, 0.0)
            limit = cap.get(r, 0.0)
            over = np.flatnonzero(load > limit + 1e-6 * max(1.0, limit))
            if len(over):
                t = int(over[0])
                who = ", ".join(repr(j.id) for lo, hi, j in uses if lo <= t < hi)
                errors.append(f"node {name!r}: running jobs {who} need {r} {load[t]:g} > "
                              f"capacity {limit:g} at slot {t}")
    idle: dict[str, float] = defaultdict(float)
    for name in active:
        idle[by_name[name].region] += by_name[name].idle_kw
    for g in sorted(set(dyn) | set(idle)):
        region = region_by_id.get(g)
        if region is None:
            continue
        power = region.pue * (dyn.get(g, np.zeros(H)) + idle[g])
        if region.power_cap_kw is not None:
            cap = _series(region.power_cap_kw, H, np.inf)
            over = np.flatnonzero(power > cap + 1e-6 * np.maximum(1.0, cap))
            if len(over):
                t = int(over[0])
                errors.append(f"region {g!r}: the running jobs alone draw {power[t]:.3f} kW > "
                              f"power_cap_kw {cap[t]:g} at slot {t}")
        if region.energy_budget_kwh is not None:
            # Active nodes draw idle power in every slot of the horizon.
            energy = float(power.sum()) * slot_hours
            budget = region.energy_budget_kwh
            if energy > budget + 1e-6 * max(1.0, budget):
                errors.append(f"region {g!r}: the running jobs alone use {energy:.3f} kWh > "
                              f"energy_budget_kwh {budget:g}")
    return errors
