"""The ``shift`` suite: carbon and cost saved at equal work, on real 2023 grid data.

One week of hourly slots (from Monday 2023-06-05T00:00Z, as ``real-week``)
on the 2023 carbon intensity and wholesale prices of four grid zones
(:data:`SHIFT_ZONES`), with job shapes (GPUs, vCPUs, GiB, durations) drawn
from the Alibaba GPU trace (``data/real/``). Every instance has the **same
jobs**; instances differ only in

* the **slack**: every job may end up to ``k`` hours after its earliest
  end (``deadline = release + duration + k``), ``k`` in :data:`SLACKS`;
* the **objective**: ``carbon_price_per_kg`` 0, 0.085 (EU ETS 2023 average,
  about 85 EUR/t) or 0.19 (US EPA social cost of carbon 2023, 190 USD/t), or
  ``objective.mode: "carbon"`` (:data:`OBJECTIVES`);
* the **freedom**: ``free`` instances let 70 % of the jobs run in any region
  (the rest are pinned to their home region: data residency); ``time``
  instances pin *every* job to the region the ``carbon-agnostic`` baseline
  runs it in, so only time shifting is left (:func:`time_only`).

Design choices, and why:

* **Every job fits.** Capacity is ample (about 10 % average GPU use, but all
  free jobs want the same clean hours), so every planner places every job and
  savings compare the same work. :func:`build_suite` checks that ``greedy``
  and ``carbon-agnostic`` place every job of every instance.
* **No idle draw, no node rental cost.** Nodes have ``idle_kw`` 0 and
  ``cost_per_slot`` 0: the suite measures the energy that shifting can move
  (the jobs' own draw), as Wiesner et al. (Middleware 2021) and Sukprasert et
  al. (EuroSys 2024) do. With idle draw, a plan's carbon would also depend on
  how many nodes it wakes, which is packing, not shifting.
* **Durations 1-24 h.** The trace's pods of at most 24 h are 82 % one-hour
  pods; durations are drawn in four equal classes (1 h, 2-4 h, 5-12 h,
  13-24 h), each pod (its shape and its own duration) from the trace pods of
  that class, so long jobs are represented.
* **Releases** are uniform over ``0 .. 168 - 48 - duration``, so even the
  48 h slack window ends inside the week and the job set is identical across
  slacks.

``python -m allocopt.benchmarks.shift`` rewrites ``data/bench/shift/`` byte for byte
(and ``carbon_bounds.csv``, the LP bound on carbon of every instance, with
``--bounds``).

Attribution: the instances embed Electricity Maps data (ODbL 1.0) and keep
the notice of :mod:`allocopt.benchmarks.realdata` in their ``description``.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from allocopt.benchmarks.realdata import (
    _ATTRIBUTION,
    DATA_DIR,
    ZONE_REGIONS,
    _read_pods,
    latency_links,
    load_facts,
    region_curves,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Grid zones of the suite: a solar grid (California), a wind-and-gas grid
#: (Texas), Germany and Great Britain. Weekly means 154, 376, 226 and
#: 123 gCO2/kWh in the week used.
SHIFT_ZONES: tuple[str, ...] = ("US-CAL-CISO", "US-TEX-ERCO", "DE", "GB")
#: Slack (hours beyond the duration) of the instances.
SLACKS: tuple[int, ...] = (0, 4, 8, 24, 48)
#: Objectives: name -> (mode, carbon price USD/kg).
OBJECTIVES: dict[str, tuple[str, float]] = {
    "p0": ("lexicographic", 0.0),
    "p085": ("lexicographic", 0.085),  # EU ETS 2023 average, ~85 EUR/t
    "p19": ("lexicographic", 0.19),  # US EPA social cost of carbon 2023, 190 USD/t
    "carbon": ("carbon", 0.0),
}
#: Jobs per instance, share pinned to their home region, GPU nodes per region.
N_JOBS = 80
PINNED_SHARE = 0.3
NODES_PER_REGION = 2
#: Duration classes (hours, inclusive) drawn with equal probability.
DURATION_CLASSES: tuple[tuple[int, int], ...] = ((1, 1), (2, 4), (5, 12), (13, 24))
START_HOUR = 3720  # 2023-06-05T00:00Z, a Monday
SLOTS = 168
MAX_SLACK = max(SLACKS)
#: The node shape: the trace's most common GPU node (G2: 8 GPUs, 96 vCPUs, 384 GiB).
NODE_SHAPE = {"type": "G2", "gpu": 8, "cpu": 96, "mem_gb": 384}
#: The reference planner whose regions ``time`` instances pin.
REFERENCE = "carbon-agnostic"

SUITE_DIR = Path(__file__).resolve().parents[1] / "data" / "bench" / "shift"
BOUNDS_FILE = "carbon_bounds.csv"


def instance_name(slack: int, objective: str, freedom: str = "free") -> str:
    """``shift-k24-p19`` (free) or ``shift-k24-p19-time`` (time shifting only)."""
    return f"shift-k{slack:02d}-{objective}" + ("-time" if freedom == "time" else "")


def parse_name(name: str) -> dict[str, Any] | None:
    """``{"slack", "objective", "freedom"}`` of a suite instance name, or None."""
    parts = name.split("-")
    if len(parts) not in (3, 4) or parts[0] != "shift" or not parts[1].startswith("k"):
        return None
    try:
        slack = int(parts[1][1:])
    except ValueError:
        return None
    if parts[2] not in OBJECTIVES or (len(parts) == 4 and parts[3] != "time"):
        return None
    return {"slack": slack, "objective": parts[2],
            "freedom": "time" if len(parts) == 4 else "free"}


def _jobs(seed: int, regions: list[str], tdp: float) -> list[dict[str, Any]]:
    pods = _read_pods(str(DATA_DIR / "alibaba_gpu_pods.csv"))
    dur = np.ceil(pods["duration_h"]).astype(int)
    fits = ((pods["gpu"] <= NODE_SHAPE["gpu"]) & (pods["cpu"] <= NODE_SHAPE["cpu"])
            & (pods["mem_gb"] <= NODE_SHAPE["mem_gb"]))
    rng = np.random.default_rng([seed, 12])
    classes = rng.integers(len(DURATION_CLASSES), size=N_JOBS)
    pinned = rng.random(N_JOBS) < PINNED_SHARE
    home = rng.integers(len(regions), size=N_JOBS)
    jobs = []
    for i in range(N_JOBS):
        lo, hi = DURATION_CLASSES[int(classes[i])]
        pool = np.flatnonzero(fits & (dur >= lo) & (dur <= hi))
        k = int(pool[rng.integers(len(pool))])
        d = int(dur[k])
        release = int(rng.integers(0, SLOTS - MAX_SLACK - d + 1))
        job: dict[str, Any] = {
            "id": f"pod{int(pods['pod'][k]):04d}-{i:02d}",
            "demand": {"gpu": float(pods["gpu"][k]), "cpu": float(pods["cpu"][k]),
                       "mem_gb": float(pods["mem_gb"][k])},
            "duration": d,
            "release": release,
            "deadline": release + d,  # set per slack
        }
        if pinned[i]:
            job["regions"] = [regions[int(home[i])]]
        jobs.append(job)
    return jobs


def base_problem(seed: int = 0) -> dict[str, Any]:
    """The suite's problem at slack 0, ``p0``, free (a dict of PROBLEM.md)."""
    regions = [ZONE_REGIONS[z] for z in SHIFT_ZONES]
    curves = region_curves(SHIFT_ZONES, START_HOUR, SLOTS)
    facts = load_facts()
    tdp = float(facts["gpu_tdp_kw"][NODE_SHAPE["type"]]["value"])
    pue = float(facts["pue"]["google"]["value"])
    nodes = []
    for g in regions:
        nodes.append({
            "id": f"{g}-g2", "region": g, "type": NODE_SHAPE["type"],
            "capacity": {"gpu": NODE_SHAPE["gpu"], "cpu": NODE_SHAPE["cpu"],
                         "mem_gb": NODE_SHAPE["mem_gb"]},
            "count": NODES_PER_REGION, "idle_kw": 0.0, "kw_per_unit": {"gpu": tdp},
        })
    mapping = ", ".join(f"{g}={z}" for z, g in zip(SHIFT_ZONES, regions, strict=True))
    return {
        "name": "shift",
        "description": (
            f"allocopt shift suite (benchmarks/shift.py, seed {seed}): {N_JOBS} jobs with shapes "
            f"and durations (1-24 h) from the Alibaba GPU trace, {int(PINNED_SHARE * 100)}% "
            f"pinned to a home region; slot 0 = 2023-06-05T00:00Z (UTC), 1-hour slots. Regions "
            f"(GCP region = Electricity Maps zone): {mapping}. Prices in USD/kWh at fixed 2023 "
            f"FX; carbon in direct gCO2eq/kWh; PUE google {pue}; no idle draw. {_ATTRIBUTION}"
        ),
        "horizon": {"slots": SLOTS, "slot_hours": 1.0},
        "resources": ["gpu", "cpu", "mem_gb"],
        "regions": [{"id": g, "pue": pue, "price_per_kwh": curves[z]["price"],
                     "carbon_g_per_kwh": curves[z]["carbon"]}
                    for z, g in zip(SHIFT_ZONES, regions, strict=True)],
        "links": latency_links(regions),
        "nodes": nodes,
        "jobs": _jobs(seed, regions, tdp),
        "objective": {"mode": "lexicographic", "carbon_price_per_kg": 0.0},
    }


def variant(base: dict[str, Any], slack: int, objective: str,
            pin: dict[str, str] | None = None) -> dict[str, Any]:
    """``base`` with every job's slack, the objective and (``pin``: job ->
    region) every job pinned to one region."""
    data = json.loads(json.dumps(base))
    mode, price = OBJECTIVES[objective]
    data["objective"] = {"mode": mode, "carbon_price_per_kg": price}
    data["name"] = instance_name(slack, objective, "time" if pin else "free")
    for j in data["jobs"]:
        j["deadline"] = j["release"] + j["duration"] + slack
        if pin is not None:
            j["regions"] = [pin[j["id"]]]
    if pin is not None:
        data["description"] += (f" Time shifting only: every job pinned to the region "
                                f"{REFERENCE} runs it in.")
    return data


def time_only(base: dict[str, Any]) -> dict[str, str]:
    """Job -> the region the ``carbon-agnostic`` baseline runs it in.

    The baseline takes the earliest start and the first node in file order
    with room; it ignores deadlines beyond that, prices and carbon, so its
    regions are the same at every slack and objective.
    """
    from allocopt import Problem, solve

    problem = Problem.from_dict(variant(base, 0, "p0"))
    plan = solve(problem, solver=REFERENCE)
    region_of = {n: node.region for node in problem.nodes for n in node.names}
    if plan.unplaced:
        raise RuntimeError(f"{REFERENCE} leaves jobs unplaced: {plan.unplaced[:3]}")
    return {a.job: region_of[a.nodes[0]] for a in plan.assignments}


def build_suite(seed: int = 0, check: bool = True) -> dict[str, dict[str, Any]]:
    """Every instance of the suite, by name (see the module docstring).

    With ``check``, asserts that ``greedy`` and ``carbon-agnostic`` place every
    job of every instance.
    """
    base = base_problem(seed)
    pin = time_only(base)
    out = {}
    for slack in SLACKS:
        for obj in OBJECTIVES:
            for p in (None, pin):
                data = variant(base, slack, obj, p)
                out[data["name"]] = data
    if check:
        from allocopt import Problem, solve

        for name, data in out.items():
            problem = Problem.from_dict(data)
            for solver in ("greedy", REFERENCE):
                plan = solve(problem, solver=solver)
                if plan.unplaced:
                    raise RuntimeError(f"{name}: {solver} leaves {len(plan.unplaced)} job(s) "
                                       f"unplaced, e.g. {plan.unplaced[0]}")
    return out


def write_suite(directory: str | Path = SUITE_DIR, seed: int = 0) -> list[Path]:
    """Write the suite's JSON files (byte for byte reproducible)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in build_suite(seed).items():
        path = d / f"{name}.json"
        path.write_text(json.dumps(data) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def carbon_bound(problem: Any, time_limit: float = 60.0) -> dict[str, float | None]:
    """The least carbon (kg) any plan that places every job can emit.

    * ``free_kg``: each job alone at its cleanest allowed (start, region) -- a
      proof by relaxing capacity (exact when capacity never binds);
    * ``lp_kg``: the LP relaxation of the whole model (capacity included)
      minimising carbon with every job placed (:func:`allocopt.formulations.lp_bound`
      in carbon mode, with the ``carbon-agnostic`` plan, which places every
      job, as the reference that proves the tiers); None if it did not solve.

    The larger of the two is the best bound; no plan placing every job emits
    less.
    """
    from allocopt.formulations.lp_bound import lp_bound_report
    from allocopt import solve
    from allocopt.prepared import Prepared
    from allocopt.problem import Objective

    p = Prepared(problem)
    free = 0.0
    for j in range(p.J):
        d = int(p.duration[j])
        P = p.class_power(j)
        best = np.inf
        for c in p.eligible_classes(j):
            g = int(p.class_region[c])
            s = np.arange(int(p.release[j]), int(p.latest_start[j]) + 1)
            run = p.cum_carbon[g, s + d] - p.cum_carbon[g, s]
            best = min(best, float(P[c] * int(p.replicas[j]) * run.min()))
        free += best
    carbon_problem = problem.replace(objective=Objective(mode="carbon"))
    ref = solve(carbon_problem, solver=REFERENCE)
    rep = lp_bound_report(carbon_problem, time_limit=time_limit, plan=ref)
    lp = rep.bound.get("carbon_kg")
    return {"free_kg": free, "lp_kg": lp}


def write_bounds(directory: str | Path = SUITE_DIR, time_limit: float = 60.0) -> Path:
    """Compute :func:`carbon_bound` for every instance; write ``carbon_bounds.csv``."""
    from allocopt import load_problem

    d = Path(directory)
    rows = []
    for path in sorted(d.glob("shift-*.json")):
        b = carbon_bound(load_problem(path), time_limit)
        best = max(v for v in b.values() if v is not None)
        rows.append({"instance": path.stem, "free_kg": f"{b['free_kg']:.6f}",
                     "lp_kg": "" if b["lp_kg"] is None else f"{b['lp_kg']:.6f}",
                     "bound_kg": f"{best:.6f}"})
    out = d / BOUNDS_FILE
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["instance", "free_kg", "lp_kg", "bound_kg"])
        w.writeheader()
        w.writerows(rows)
    return out


def read_bounds(directory: str | Path = SUITE_DIR) -> dict[str, float]:
    """Instance -> best carbon lower bound (kg), from ``carbon_bounds.csv`` (empty if absent)."""
    path = Path(directory) / BOUNDS_FILE
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["instance"]: float(r["bound_kg"]) for r in csv.DictReader(fh)}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m allocopt.benchmarks.shift",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(SUITE_DIR), help="folder (default data/bench/shift)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bounds", action="store_true",
                    help="also compute the carbon bounds (carbon_bounds.csv; minutes)")
    ap.add_argument("--bounds-only", action="store_true", help="only the carbon bounds")
    args = ap.parse_args(argv)
    if not args.bounds_only:
        paths = write_suite(args.out, args.seed)
        print(f"wrote {len(paths)} instances to {args.out}")
    if args.bounds or args.bounds_only:
        print(f"wrote {write_bounds(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
