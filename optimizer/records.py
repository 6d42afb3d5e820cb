"""A plan as a table: one row per placed replica, with energy, cost and carbon attributed.

Attribution rule (the rows add up exactly to the plan's metrics):

* **Dynamic energy** is exact per replica: the replica's kW (PROBLEM.md,
  Energy) times the region's PUE, over the slots it runs inside the horizon,
  priced and carbon-weighted at those slots.
* **Idle energy and node cost** of a node (it is active, hence idling, for the
  whole horizon once any job uses it) are shared by the replicas on that node
  in proportion to their node-slots (replica duration); a node whose replicas
  all lie outside the horizon shares equally.
* **Tardiness** of a job is split equally over its replicas.

So ``sum(row[k]) == plan.metrics[k]`` for ``energy_kwh``, ``energy_cost``,
``carbon_kg``, ``carbon_cost``, ``tardiness``, ``node_cost`` and ``cost``
(up to float rounding). Unplaced jobs have no rows.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from .validate import _series
from .validate import replica_power

if TYPE_CHECKING:
    from .plan import Plan
    from .problem import Problem

#: Column order of :func:`plan_records` (``demand_<resource>`` columns follow
#: ``end``, one per problem resource).
COLUMNS = ("job", "replica", "node", "region", "node_type", "priority", "required", "value",
           "start", "end")
FIGURES = ("power_kw", "dynamic_kwh", "idle_kwh", "energy_kwh", "energy_cost", "carbon_kg",
           "carbon_cost", "node_cost", "tardiness", "cost")


def plan_records(problem: Problem, plan: Plan) -> list[dict[str, Any]]:
    """One dict per placed replica, in assignment order (see the module docstring).

    Jobs or nodes the problem lacks are skipped (the validator reports them).
    """
    H, sh = problem.horizon.slots, problem.horizon.slot_hours
    jobs = {j.id: j for j in problem.jobs}
    node_of = {name: n for n in problem.nodes for name in n.names}
    regions = {r.id: r for r in problem.regions}
    price = {g: _series(r.price_per_kwh, H) for g, r in regions.items()}
    carbon = {g: _series(r.carbon_g_per_kwh, H) for g, r in regions.items()}
    cprice = problem.objective.carbon_price_per_kg
    rows: list[dict[str, Any]] = []
    on_node: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for a in plan.assignments:
        job = jobs.get(a.job)
        if job is None or a.job in seen:
            continue
        seen.add(a.job)
        end = a.start + job.duration
        lo, hi = max(a.start, 0), min(end, H)
        tard = job.tardiness_penalty * max(0, end - job.due) if job.due is not None else 0.0
        known = [name for name in a.nodes if name in node_of]
        for k, name in enumerate(a.nodes):
            node = node_of.get(name)
            if node is None:
                continue
            region = regions[node.region]
            kw = replica_power(job, node)
            e = region.pue * kw * sh * np.ones(max(0, hi - lo))
            row: dict[str, Any] = {
                "job": job.id, "replica": k, "node": name, "region": node.region,
                "node_type": node.type, "priority": job.priority, "required": job.required,
                "value": job.value, "start": a.start, "end": end,
            }
            for r in problem.resources:
                row[f"demand_{r}"] = float(job.demand.get(r, 0.0))
            dyn_cost = float((e * price[node.region][lo:hi]).sum())
            dyn_carbon = float((e * carbon[node.region][lo:hi]).sum()) / 1000.0
            row.update(power_kw=kw, dynamic_kwh=float(e.sum()), idle_kwh=0.0,
                       energy_kwh=float(e.sum()), energy_cost=dyn_cost, carbon_kg=dyn_carbon,
                       node_cost=0.0, tardiness=tard / max(1, len(known)))
            on_node[name].append(len(rows))
            rows.append(row)
    for name, idxs in on_node.items():
        node = node_of[name]
        region = regions[node.region]
        idle = region.pue * node.idle_kw * sh * np.ones(H)
        idle_kwh = float(idle.sum())
        idle_cost = float((idle * price[node.region]).sum())
        idle_carbon = float((idle * carbon[node.region]).sum()) / 1000.0
        node_cost = node.cost_per_slot * H
        weights = np.array([max(0, min(rows[i]["end"], H) - max(rows[i]["start"], 0))
                            for i in idxs], dtype=float)
        share = weights / weights.sum() if weights.sum() > 0 else np.full(len(idxs), 1 / len(idxs))
        for i, s in zip(idxs, share, strict=True):
            row = rows[i]
            row["idle_kwh"] = idle_kwh * s
            row["energy_kwh"] += idle_kwh * s
            row["energy_cost"] += idle_cost * s
            row["carbon_kg"] += idle_carbon * s
            row["node_cost"] = node_cost * s
    for row in rows:
        row["carbon_cost"] = row["carbon_kg"] * cprice
        row["cost"] = row["energy_cost"] + row["carbon_cost"] + row["tardiness"] + row["node_cost"]
    return rows


def job_figures(problem: Problem, plan: Plan) -> dict[str, dict[str, float]]:
    """Per placed job: its replicas' ``energy_kwh``, ``energy_cost``, ``carbon_kg``
    and ``cost`` summed (the attribution of :func:`plan_records`)."""
    out: dict[str, dict[str, float]] = {}
    for row in plan_records(problem, plan):
        acc = out.setdefault(row["job"], dict.fromkeys(("energy_kwh", "energy_cost",
                                                         "carbon_kg", "cost"), 0.0))
        for k in acc:
            acc[k] += row[k]
    return out


def records_csv(problem: Problem, plan: Plan) -> str:
    """:func:`plan_records` as CSV text (header row first)."""
    import csv
    import io

    rows = plan_records(problem, plan)
    cols = [*COLUMNS, *(f"demand_{r}" for r in problem.resources), *FIGURES]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: (round(v, 9) if isinstance(v, float) else v) for k, v in row.items()})
    return buf.getvalue()
