"""The ``replan`` benchmark suite: event scenarios on stored problems.

For a stored problem P, a base plan is solved, and the service moves on by
``advance`` slots (:func:`allocopt.replan.advance`): jobs that started are
running, the rest planned. Then an event hits:

``node-fails``
    the node hosting the most planned jobs fails for the rest of the
    horizon (an ``unavailable`` window; jobs running on it are lost and
    must start again, as new jobs);
``urgent-burst``
    ten urgent jobs arrive (top priority, copies of existing jobs' demand,
    due within a third of the horizon);
``fails+urgent``
    both at once (the issue's target scenario);
``forecast-shift``
    the price and carbon forecasts shift ``FORECAST_SHIFT`` hours later;
``budget-cut``
    the energy budget of the region using the most energy is cut to 85 % of
    what the current plan uses there (never below what its running jobs
    need).

Each scenario is solved four ways, with the same solver, limits and seed:
``keep`` (``objective.move_cost`` set, see :func:`default_move_cost`),
``stable`` (the same move cost, ranked right below the top tier with
``objective.stability_tier``: the top tier, then the fewest moves, then the
other tiers),
``free`` (move cost 0: moves are counted but cost nothing) and ``scratch``
(the previous placements removed: a from-scratch plan; its moves are then
counted against the previous placements). Running jobs are facts in all
three. The report shows moves beside the top tier's value and the cost
without move cost.

Run: ``python -m allocopt.benchmarks.replan`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from allocopt import Problem, load_problem, solve, validate
from allocopt.plan import Plan
from allocopt.replan import advance
from allocopt.validate import compute_metrics, is_valid

SCENARIOS = ("node-fails", "urgent-burst", "fails+urgent", "forecast-shift", "budget-cut")
VARIANTS = ("keep", "stable", "free", "scratch")
FORECAST_SHIFT = 3
URGENT_JOBS = 10


def default_move_cost(base: Plan) -> float:
    """The move cost used by ``keep``: the base plan's average cost per placed
    job (so one move costs about what running one job costs)."""
    placed = max(1, int(base.metrics.get("placed_jobs", 1)))
    return round(float(base.metrics["cost"]) / placed, 2)


def _data(problem: Problem) -> dict[str, Any]:
    return json.loads(json.dumps(problem.to_dict()))


def _busiest_node(problem: Problem) -> str:
    count: dict[str, int] = {}
    for j in problem.jobs:
        if j.planned is not None:
            for n in j.planned.nodes:
                count[n] = count.get(n, 0) + 1
    return max(sorted(count), key=lambda n: count[n]) if count else problem.node_names()[0]


def _fail_node(data: dict[str, Any], problem: Problem) -> None:
    """``data`` with one node down from slot 0 to the end of the horizon."""
    name = _busiest_node(problem)
    H = problem.H
    new_nodes = []
    for n in data["nodes"]:
        k = int(n.get("count", 1))
        names = [n["id"]] if k == 1 else [f"{n['id']}#{i}" for i in range(k)]
        if name not in names:
            new_nodes.append(n)
            continue
        if k == 1:
            n["unavailable"] = [[0, H]]
            new_nodes.append(n)
            continue
        # Split the failed copy off the pool, under its expanded name.
        i = names.index(name)
        rest = [dict(n, id=f"{n['id']}#{m}", count=1) for m in range(k) if m != i]
        down = dict(n, id=name, count=1, unavailable=[[0, H]])
        new_nodes += rest[:i] + [down] + rest[i:]
    data["nodes"] = new_nodes
    for j in data["jobs"]:
        run = j.get("running")
        if run is not None and name in run["nodes"]:
            del j["running"]  # lost with the node: it starts again
            j.pop("after", None)


def _urgent(data: dict[str, Any], problem: Problem, rng: np.random.Generator) -> None:
    top = max(j.priority for j in problem.jobs) + 1
    small = [j for j in problem.jobs if j.replicas == 1 and j.duration <= problem.H // 4]
    pool = small or list(problem.jobs)
    for i in range(URGENT_JOBS):
        t = pool[int(rng.integers(len(pool)))]
        data["jobs"].append({
            "id": f"urgent-{i}", "demand": dict(t.demand), "duration": int(t.duration),
            "priority": top, "value": 100.0, "deadline": min(problem.H, max(
                int(t.duration) + problem.H // 3, int(t.duration) + 1)),
            **({"node_types": list(t.node_types)} if t.node_types else {}),
            **({"regions": list(t.regions)} if t.regions else {}),
        })


def _shift_forecast(data: dict[str, Any], hours: int) -> None:
    for r in data["regions"]:
        for key in ("price_per_kwh", "carbon_g_per_kwh"):
            v = r.get(key)
            if isinstance(v, list):
                r[key] = v[-hours:] + v[:-hours]


def _cut_budget(data: dict[str, Any], problem: Problem, current: Plan) -> None:
    used = compute_metrics(problem, current.assignments)["energy_kwh_by_region"]
    g = max(sorted(used), key=lambda k: used[k])
    running = [a for a in current.assignments
               if problem.jobs[[j.id for j in problem.jobs].index(a.job)].running is not None]
    need = compute_metrics(problem, running)["energy_kwh_by_region"][g]
    for r in data["regions"]:
        if r["id"] == g:
            r["energy_budget_kwh"] = round(max(0.85 * used[g], need * 1.01 + 1.0), 3)


def scenario(name: str, problem: Problem, current: Plan, seed: int = 0) -> Problem:
    """The advanced ``problem`` after event ``name`` (module docstring)."""
    data = _data(problem)
    rng = np.random.default_rng(seed)
    if name in ("node-fails", "fails+urgent"):
        _fail_node(data, problem)
    if name in ("urgent-burst", "fails+urgent"):
        _urgent(data, problem, rng)
    if name == "forecast-shift":
        _shift_forecast(data, FORECAST_SHIFT)
    if name == "budget-cut":
        _cut_budget(data, problem, current)
    return Problem.from_dict(data)


def variant(problem: Problem, name: str, move_cost: float) -> Problem:
    """``keep``: move cost set; ``stable``: move cost set and moves ranked right
    below the top tier (``objective.stability_tier``); ``free``: move cost 0;
    ``scratch``: no planned placements."""
    data = _data(problem)
    obj = data.setdefault("objective", {})
    obj["move_cost"] = move_cost if name in ("keep", "stable") else 0.0
    obj.pop("stability_tier", None)
    if name == "stable" and problem.jobs:
        obj["stability_tier"] = max(j.priority for j in problem.jobs)
    if name == "scratch":
        for j in data["jobs"]:
            j.pop("planned", None)
    return Problem.from_dict(data)


def service_state(path: Path, *, solver: str, time_limit: float, seed: int, workers: int,
                  slots: int) -> tuple[Problem, Plan, float]:
    """What a service holds before an event: the problem at ``path`` planned
    (the base plan), advanced ``slots`` slots; the plan it holds then (the
    base plan, shifted: the greedy planner keeps every valid placement); and
    the ``keep`` move cost (:func:`default_move_cost`)."""
    problem = load_problem(path)
    base = solve(problem, solver=solver, time_limit=time_limit, seed=seed, workers=workers)
    current = advance(problem, base, slots)
    return current, solve(current, solver="greedy"), default_move_cost(base)


def run(path: Path, *, solver: str, time_limit: float, seed: int, workers: int, slots: int,
        scenarios: tuple[str, ...] = SCENARIOS, variants: tuple[str, ...] = VARIANTS,
        base_time_limit: float | None = None) -> list[dict[str, Any]]:
    """One row per (scenario, variant): moves, tier values, cost, seconds.

    ``base_time_limit`` (default ``time_limit``): the limit of the base plan,
    standing for the search time the plan a service holds has accumulated
    over earlier re-plans."""
    current, held, mc = service_state(path, solver=solver,
                                      time_limit=base_time_limit or time_limit, seed=seed,
                                      workers=workers, slots=slots)
    rows = []
    for sc in scenarios:
        after = scenario(sc, current, held, seed)
        top = str(max(j.priority for j in after.jobs))
        for var in variants:
            prob = variant(after, var, mc)
            t0 = time.perf_counter()
            plan = solve(prob, solver=solver, time_limit=time_limit, seed=seed, workers=workers)
            secs = time.perf_counter() - t0
            # Judge every variant by the same yardstick: moves against the
            # previous placements, cost without move cost.
            judge = variant(after, "free", 0.0)
            m = compute_metrics(judge, plan.assignments)
            ok = is_valid(plan, validate(prob, plan))
            rows.append({
                "instance": path.stem, "scenario": sc, "variant": var, "solver": solver,
                "status": str(plan.status), "valid": ok, "moves": m["moves"],
                "planned_jobs": sum(j.planned is not None for j in after.jobs),
                "top_tier": top, "top_value": m["placed_value_by_priority"][top],
                "placed_value": m["placed_value"], "cost": m["cost"],
                "move_cost_setting": mc if var == "keep" else 0.0,
                "seconds": round(secs, 2), "time_limit": time_limit, "workers": workers,
            })
    return rows


def build_suite(paths: list[Path], out_dir: Path, *, solver: str, time_limit: float, seed: int,
                workers: int, slots: int, scenarios: tuple[str, ...] = SCENARIOS,
                variants: tuple[str, ...] = ("keep", "stable")) -> list[Path]:
    """Write the ``variants`` problems of every (problem, scenario) to
    ``out_dir`` as ``<stem>-<scenario>-<variant>.json``: the stored
    ``replan`` suite that ``allocopt bench --suite replan`` runs (its rows
    then carry ``moves``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        current, held, mc = service_state(path, solver=solver, time_limit=time_limit, seed=seed,
                                          workers=workers, slots=slots)
        for sc in scenarios:
            after = scenario(sc, current, held, seed)
            for var in variants:
                data = _data(variant(after, var, mc))
                data["name"] = f"{path.stem}-{sc}-{var}"
                data["description"] = (
                    f"Re-planning scenario '{sc}', variant '{var}', on {path.name}: base plan by "
                    f"{solver} ({time_limit:g} s, seed {seed}, {workers} workers), advanced "
                    f"{slots} slots, objective.move_cost {mc:g}; built by python -m "
                    "allocopt.benchmarks.replan --build (benchmarks/replan.py).")
                out = out_dir / f"{data['name']}.json"
                out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
                written.append(out)
    return written


def table(rows: list[dict[str, Any]]) -> str:
    """A markdown table: per scenario, moves and value/cost beside scratch."""
    out = ["| instance | scenario | variant | moves | top-tier value | placed value | "
           "cost (no move cost) | cost vs scratch | status | s |",
           "|---|---|---|---:|---:|---:|---:|---:|---|---:|"]
    by = {(r["instance"], r["scenario"], r["variant"]): r for r in rows}
    for r in rows:
        ref = by.get((r["instance"], r["scenario"], "scratch"), r)
        dc = r["cost"] - ref["cost"]
        out.append(
            f"| {r['instance']} | {r['scenario']} | {r['variant']} | {r['moves']} / "
            f"{r['planned_jobs']} | {r['top_value']:.1f} | {r['placed_value']:.1f} | "
            f"{r['cost']:.2f} | {dc:+.2f} | {r['status']}{'' if r['valid'] else ' INVALID'} | "
            f"{r['seconds']:.1f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m allocopt.benchmarks.replan", description=__doc__.split(
        "\n\n")[0])
    ap.add_argument("problems", nargs="*", type=Path,
                    default=[Path("data/bench/medium/medium-s0.json")])
    ap.add_argument("--solver", default="cpsat")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--slots", type=int, default=4, help="slots the service advances by")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--variants", default=None,
                    help=f"some of {', '.join(VARIANTS)} (default: all; --build: keep,stable)")
    ap.add_argument("--base-time-limit", type=float, default=None,
                    help="time limit of the base plan (default: --time-limit)")
    ap.add_argument("--out", type=Path, default=None, help="JSON rows to write")
    ap.add_argument("--build", type=Path, default=None, metavar="DIR",
                    help="write the scenarios' keep problems to DIR (a bench suite) instead")
    args = ap.parse_args(argv)
    scenarios = tuple(s for s in args.scenarios.split(",") if s)
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        ap.error(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}")
    default = VARIANTS if args.build is None else ("keep", "stable")
    variants = tuple(v for v in (args.variants or ",".join(default)).split(",") if v)
    if not variants or any(v not in VARIANTS for v in variants):
        ap.error(f"--variants takes some of {', '.join(VARIANTS)}")
    if args.build is not None:
        for out in build_suite(args.problems, args.build, solver=args.solver,
                               time_limit=args.time_limit, seed=args.seed, workers=args.workers,
                               slots=args.slots, scenarios=scenarios,
                               variants=tuple(v for v in variants if v != "scratch")):
            print(f"wrote {out}")
        return
    rows: list[dict[str, Any]] = []
    for path in args.problems:
        rows += run(path, solver=args.solver, time_limit=args.time_limit, seed=args.seed,
                    workers=args.workers, slots=args.slots, scenarios=scenarios,
                    variants=variants, base_time_limit=args.base_time_limit)
        if args.out:
            args.out.write_text(json.dumps(rows, indent=1))
    print(table(rows))


if __name__ == "__main__":
    main()
