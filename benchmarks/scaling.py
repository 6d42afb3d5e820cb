"""POP-style scaling table: one instance solved with k = 1, 2, 4, ... parts.

``python -m allocopt.benchmarks.scaling --size large --seed 101 --parts 1,2,4,8 --time-limit 60``

For each k, ``cpsat`` runs with ``SolveParams(parts=k)`` (k = 1: no
decomposition, the undecomposed path) at the same time limit, and the row
records the wall time, placed value per tier, cost, the gap of each tier to
the LP bound (computed once per instance,
:func:`allocopt.formulations.lp_bound.lp_bounds`; ``--lp-limit 0`` skips it and
the table shows the plan's own ``gaps`` instead, marked ``*``), the merged
plan before the neighbourhood search, and the seconds each part took
(the speed-up on k machines is the slowest part against the sum). Rows are
appended to a JSONL file and printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any


def run(problem: Any, ks: list[int], time_limit: float, workers: int, engine: str,
        lp_limit: float, seed: int = 0) -> list[dict[str, Any]]:
    from allocopt.formulations.lp_bound import lp_bounds
    from allocopt.formulations.stages import gap_of, gaps_of
    from allocopt import SolveParams, decompose, solve
    from allocopt.prepared import Prepared
    from allocopt.validate import better, is_valid, validate

    greedy = solve(problem, solver="greedy")
    t_lp = time.perf_counter()
    lp = lp_bounds(problem, Prepared(problem), lp_limit, plan=greedy) if lp_limit > 0 else {}
    print(json.dumps({"lp_bound": lp, "seconds": round(time.perf_counter() - t_lp, 1)}),
          flush=True)
    rows = []
    base = None
    for k in ks:
        decompose.LAST_RUN.clear()
        t0 = time.perf_counter()
        plan = solve(problem, solver="cpsat", params=SolveParams(
            time_limit=time_limit, parts=k, workers=workers, engine=engine, seed=seed))
        wall = time.perf_counter() - t0
        m = plan.metrics
        last = dict(decompose.LAST_RUN)
        row = {
            "instance": problem.name, "k": k, "time_limit": time_limit, "workers": workers,
            "engine": engine, "wall": round(wall, 1),
            "valid": is_valid(plan, validate(problem, plan)),
            "placed_value_by_priority": m["placed_value_by_priority"],
            "placed_value": m["placed_value"], "cost": m["cost"],
            "gap_lp": gap_of(problem, m, lp) if lp else None,
            "tier_gaps_lp": ((gaps_of(problem, m, lp) or {}).get("placed_value_by_priority")
                             if lp else None),
            "ahead_of_greedy": better(problem, m, greedy.metrics),
            "greedy_placed_value": greedy.metrics["placed_value"],
            "part_seconds": [round(r["seconds"], 1) for r in last.get("parts", [])],
            "own_tier_gaps": (plan.gaps or {}).get("placed_value_by_priority"),
            "merged_placed_value": last.get("merged", {}).get("placed_value"),
            "repaired_placed_value": last.get("repaired", {}).get("placed_value"),
            "fallback": plan.fallback,
        }
        if k == 1:
            base = m["placed_value"]
        row["vs_k1"] = None if not base else (m["placed_value"] - base) / base
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    tiers = sorted({t for r in rows for t in r["placed_value_by_priority"]}, key=int, reverse=True)
    head = ("| k | wall s | " + " | ".join(f"tier {t}" for t in tiers)
            + " | placed value | vs k=1 | cost | gap to LP bound, tiers "
            + " / ".join(tiers[:2]) + " | merged (before LNS) | part seconds (max / sum) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        ps = r["part_seconds"]
        parts = f"{max(ps):.0f} / {sum(ps):.0f}" if ps else "-"
        vs = "-" if r["vs_k1"] is None or r["k"] == 1 else f"{100 * r['vs_k1']:+.2f}%"
        # The LP bound's gaps; without one, the plan's own (marked *).
        tg, own = r.get("tier_gaps_lp"), ""
        if tg is None:
            tg, own = r.get("own_tier_gaps") or {}, "*"
        gap = " / ".join("-" if tg.get(t) is None else f"{100 * tg[t]:.1f}%{own}"
                         for t in tiers[:2])
        merged = "-" if r["merged_placed_value"] is None else f"{r['merged_placed_value']:,.0f}"
        lines.append(
            f"| {r['k']} | {r['wall']:.0f} | "
            + " | ".join(f"{r['placed_value_by_priority'].get(t, 0):,.0f}" for t in tiers)
            + f" | {r['placed_value']:,.0f} | {vs} | {r['cost']:,.0f} | {gap} | {merged}"
            + f" | {parts} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from allocopt.benchmarks.generators import generate_size
    from allocopt import Problem, load_problem

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="large")
    ap.add_argument("--problem", help="a problem file instead of --size")
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--regions", type=int, help="override the size's region count")
    ap.add_argument("--parts", default="1,2,4,8,16")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engine", default="local")
    ap.add_argument("--lp-limit", type=float, default=60.0,
                    help="seconds for the LP bound (0: no bound)")
    ap.add_argument("--out", default="results/scaling.jsonl")
    a = ap.parse_args(argv)
    if a.problem:
        problem = load_problem(a.problem)
    else:
        extra = {"num_regions": a.regions} if a.regions else {}
        problem = Problem.from_dict(generate_size(a.size, seed=a.seed, **extra))
    ks = [int(x) for x in a.parts.split(",")]
    rows = run(problem, ks, a.time_limit, a.workers, a.engine, a.lp_limit)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
