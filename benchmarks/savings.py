"""Carbon and cost saved at equal work: tables and the slack figure.

A plan is compared with ``carbon-agnostic`` (the greedy planner with prices
and carbon ignored) only when it does the **same work**: the same number of
jobs placed and the same placed value in every tier, and, in the tables of
this module, every job placed (then the placed *sets* are equal, not only
their counts). Plans that place more or less work are left out, since their
carbon says nothing about shifting.

For each such plan:

* ``carbon saved`` = ``100 * (C_ref - C) / C_ref`` (kg CO2), ``cost saved``
  the same with ``cost`` (the instance's objective cost: energy cost, plus
  the carbon cost at the instance's carbon price);
* on the ``shift`` suite (:mod:`allocopt.benchmarks.shift`), the saving is split into
  **time shifting** and **region shifting**: every free instance
  ``shift-kK-O`` has a twin ``shift-kK-O-time`` where every job is pinned to
  the region ``carbon-agnostic`` runs it in, so a planner can only move it in
  time. The twin's saving (against the same reference carbon) is the time
  shifting part; the rest of the free instance's saving is the region part
  (region shifting plus its interaction with time shifting). Both come from
  the same planner, so they inherit its optimality gap;
* **the physical limit**: ``100 * (C_ref - B) / C_ref`` where ``B`` is the
  best lower bound on the carbon of any plan placing every job
  (:func:`allocopt.benchmarks.shift.carbon_bound`: each job alone at its cleanest
  allowed start and region, and the LP relaxation with capacity; stored in
  ``data/bench/shift/carbon_bounds.csv``). No planner can save more.

The figure (:func:`plot_slack`) draws carbon saved against slack, one line
per planner and objective, for time and region shifting and for time
shifting alone, with the physical limit and the published figures marked:
Wiesner et al., "Let's Wait Awhile", Middleware 2021 (2.5-9 % by time
shifting alone) and Sukprasert et al., EuroSys 2024 (about 15.6 % for 1-hour
jobs with 24 h of slack).
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from allocopt.benchmarks.shift import OBJECTIVES, instance_name, parse_name, read_bounds

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

#: The reference planner.
REFERENCE = "carbon-agnostic"
#: Objectives drawn in the figure (p0 makes carbon go up: in the tables only).
FIGURE_OBJECTIVES: tuple[str, ...] = ("carbon", "p19", "p085")
#: Published figures: (label, slack h or None for a band, low %, high %).
WIESNER_2021 = ("Wiesner et al. 2021 (time shifting): 2.5-9%", 2.5, 9.0)
SUKPRASERT_2024 = ("Sukprasert et al. 2024: 1-h jobs, 24 h slack, ~15.6%", 24.0, 15.6)
OBJECTIVE_LABEL = {"p0": "price 0", "p085": "0.085 USD/kg", "p19": "0.19 USD/kg",
                   "carbon": "carbon mode"}


def _pct(ref: float | None, x: float | None) -> float | None:
    if ref is None or x is None or not math.isfinite(ref) or abs(ref) < 1e-12:
        return None
    return 100.0 * (ref - x) / abs(ref)


def _usable(row: dict[str, Any] | None) -> bool:
    return bool(row) and row.get("status") != "error" and bool(row.get("valid")) \
        and isinstance(row.get("carbon_kg"), (int, float)) \
        and isinstance(row.get("cost"), (int, float))


def same_work(row: dict[str, Any], ref: dict[str, Any], rel: float = 1e-9) -> bool:
    """True if two result rows place the same work (see the module docstring).

    Same number of jobs placed, same placed value in every tier (within
    ``rel``), and every job placed in both (so the same set of jobs).
    """
    if not (_usable(row) and _usable(ref)):
        return False
    if row.get("placed_jobs") != ref.get("placed_jobs") or row.get("unplaced_jobs") \
            or ref.get("unplaced_jobs"):
        return False
    a, b = row.get("placed_value_by_priority") or {}, ref.get("placed_value_by_priority") or {}
    for t in set(a) | set(b):
        x, y = float(a.get(t, 0.0)), float(b.get(t, 0.0))
        if abs(x - y) > rel * max(1.0, abs(x), abs(y)):
            return False
    return True


def savings(rows: list[dict[str, Any]], bounds: dict[str, float] | None = None
            ) -> list[dict[str, Any]]:
    """One record per (instance, seed, solver) with a plan of the same work as the reference.

    Parameters
    ----------
    rows
        Result rows of one suite, time limit and worker count.
    bounds
        Instance -> lower bound on carbon (kg) of any plan placing every job.

    Returns
    -------
    list of dict
        ``instance``, ``seed``, ``solver``, ``carbon_saved``, ``cost_saved``
        (percent), ``limit`` (the most carbon any plan could save, percent,
        None without a bound), ``ref_carbon_kg``, and for ``shift`` instance
        names ``slack``, ``objective``, ``freedom``. A ``-time`` instance is
        measured against the reference of its free twin (the same plan, as
        ``carbon-agnostic`` ignores deadlines, prices and regions it is not
        pinned to).
    """
    bounds = bounds or {}
    by: dict[tuple, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        by[(r.get("instance"), r.get("seed"))][str(r.get("solver"))] = r
    out = []
    for (inst, seed), solvers in sorted(by.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        meta = parse_name(str(inst)) or {}
        ref = solvers.get(REFERENCE)
        if meta.get("freedom") == "time":
            twin = by.get((instance_name(meta["slack"], meta["objective"]), seed), {})
            ref = twin.get(REFERENCE, ref)
        if not _usable(ref):
            continue
        limit = _pct(ref["carbon_kg"], bounds.get(str(inst)))
        for name, r in solvers.items():
            if name == REFERENCE or not same_work(r, ref):
                continue
            rec = {"instance": inst, "seed": seed, "solver": name,
                   "carbon_saved": _pct(ref["carbon_kg"], r["carbon_kg"]),
                   "cost_saved": _pct(ref["cost"], r["cost"]),
                   "limit": limit, "ref_carbon_kg": ref["carbon_kg"],
                   "carbon_kg": r["carbon_kg"], "status": r.get("status"), "gap": r.get("gap")}
            rec.update(meta)
            out.append(rec)
    return out


def split(recs: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """(solver, objective, slack, seed) -> time, region and total carbon saved,
    and cost saved, from the free and time-only records of the shift suite."""
    by = {(r["solver"], r.get("objective"), r.get("slack"), r["seed"], r.get("freedom")): r
          for r in recs if "freedom" in r}
    out = {}
    for (solver, obj, slack, seed, freedom), r in by.items():
        if freedom != "free":
            continue
        t = by.get((solver, obj, slack, seed, "time"))
        time_part = t["carbon_saved"] if t else None
        total = r["carbon_saved"]
        out[(solver, obj, slack, seed)] = {
            "total": total, "time": time_part,
            "region": None if time_part is None or total is None else total - time_part,
            "cost": r["cost_saved"], "time_cost": t["cost_saved"] if t else None,
            "limit": r["limit"], "time_limit": t["limit"] if t else None,
            "status": r["status"], "gap": r["gap"],
            "time_status": t["status"] if t else None, "time_gap": t["gap"] if t else None,
        }
    return out


def _f(x: float | None, signed: bool = True) -> str:
    if x is None or not math.isfinite(x):
        return "\u2013"  # an en dash, as in benchmarks/report.py
    if abs(x) < 0.05:
        x = 0.0  # no "-0.0%"
    return f"{x:+.1f}%" if signed else f"{x:.1f}%"


def _table(headers: Sequence[str], body: Sequence[Sequence[Any]]) -> str:
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join(":---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(out)


def _solver_order(names: Sequence[str]) -> list[str]:
    pref = ["cpsat", "pulp-highs", "pulp", "greedy", "carbon-greedy"]
    return sorted(set(names), key=lambda s: (pref.index(s) if s in pref else len(pref), s))


def section(rows: list[dict[str, Any]], bounds: dict[str, float] | None = None,
            heading: str = "###") -> str:
    """The markdown "savings at equal work" section for the rows of one group."""
    recs = savings(rows, bounds)
    if not recs:
        return ""
    md = [f"{heading} Savings at equal work (against `{REFERENCE}`)", "",
          "Only plans that place exactly the work `carbon-agnostic` places (every job) count; "
          "see `benchmarks/savings.py`.", ""]
    n_ref = len({(r.get("instance"), r.get("seed")) for r in rows if r.get("solver") == REFERENCE})
    total_by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        total_by[r["solver"]].append(r)
    body = []
    for s in _solver_order(list(total_by)):
        rs = total_by[s]
        c = [r["carbon_saved"] for r in rs if r["carbon_saved"] is not None]
        k = [r["cost_saved"] for r in rs if r["cost_saved"] is not None]
        body.append([f"`{s}`", f"{len(rs)} / {n_ref}", _f(float(np.mean(c)) if c else None),
                     _f(min(c) if c else None), _f(max(c) if c else None),
                     _f(float(np.mean(k)) if k else None)])
    md += [_table(["solver", "same work", "carbon saved (mean)", "min", "max",
                   "cost saved (mean)"], body), ""]
    sp = split(recs)
    if not sp:
        return "\n".join(md)
    slacks = sorted({k[2] for k in sp})
    objs = [o for o in OBJECTIVES if any(k[1] == o for k in sp)]
    solvers = _solver_order([k[0] for k in sp])
    seeds = sorted({k[3] for k in sp}, key=str)

    def cell(solver: str, obj: str, slack: int, key: str) -> float | None:
        vals = [sp[(solver, obj, slack, sd)][key] for sd in seeds
                if (solver, obj, slack, sd) in sp and sp[(solver, obj, slack, sd)][key] is not None]
        return float(np.mean(vals)) if vals else None

    md += ["Carbon saved by slack, objective and planner: **total** (time and region "
           "shifting) = *time* shifting (the `-time` twin: every job pinned to the region "
           "`carbon-agnostic` uses) + *region* shifting (the rest). "
           '"limit" is the most any plan placing every job could save (lower bound on '
           "carbon from `carbon_bounds.csv`).", ""]
    for obj in objs:
        head = ["planner"] + [f"{k} h slack" for k in slacks]
        body = []
        for s in solvers:
            row = [f"`{s}`"]
            for k in slacks:
                t, tm, rg = (cell(s, obj, k, x) for x in ("total", "time", "region"))
                row.append(f"**{_f(t)}** = {_f(tm)} + {_f(rg)}")
            body.append(row)
        lim = ["limit"]
        for k in slacks:
            vals = [sp[key] for key in sp if key[1] == obj and key[2] == k]
            lt = [v["limit"] for v in vals if v["limit"] is not None]
            lti = [v["time_limit"] for v in vals if v["time_limit"] is not None]
            lim.append(f"**{_f(lt[0] if lt else None)}** (time only {_f(lti[0] if lti else None)})")
        body.append(lim)
        md += [f"Objective **{OBJECTIVE_LABEL.get(obj, obj)}** "
               f"(`{obj}`): carbon saved, total = time + region", "", _table(head, body), ""]
        body = []
        for s in solvers:
            body.append([f"`{s}`"] + [
                f"{_f(cell(s, obj, k, 'cost'))} ({_f(cell(s, obj, k, 'time_cost'))})"
                for k in slacks])
        md += [f"Cost saved, objective `{obj}` (time shifting only in brackets)", "",
               _table(head, body), ""]
    exact = [s for s in solvers if s in ("cpsat", "pulp", "pulp-highs")]
    for s in exact:
        gaps = [(k, v) for k, v in sp.items() if k[0] == s]
        if not gaps:
            continue
        proven = sum(v["status"] == "optimal" for _, v in gaps) + sum(
            v["time_status"] == "optimal" for _, v in gaps)
        worst = max([v["gap"] or 0.0 for _, v in gaps] + [v["time_gap"] or 0.0 for _, v in gaps])
        md += [f"`{s}`: {proven} of {2 * len(gaps)} runs proven optimal; largest gap to its "
               f"bound {100 * worst:.2f}%.", ""]
    return "\n".join(md)


def plot_slack(rows: list[dict[str, Any]], path: Path, bounds: dict[str, float] | None = None,
               title: str = "", objectives: Sequence[str] = FIGURE_OBJECTIVES) -> Path | None:
    """Carbon saved (%) against slack (h): time and region shifting, and time alone.

    One line per (planner, objective) (``carbon-greedy`` ignores the objective:
    one line), the physical limit in black, the published figures marked.
    Returns None when the rows hold no shift-suite savings.
    """
    sp = split(savings(rows, bounds))
    if not sp:
        return None
    fig = _figure(12.5, 4.8)
    axes = fig.subplots(1, 2, sharey=True)
    solvers = _solver_order([k[0] for k in sp])
    seeds = sorted({k[3] for k in sp}, key=str)
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    styles = {"carbon": "-", "p19": "--", "p085": ":", "p0": "-."}
    markers = {"carbon": "o", "p19": "s", "p085": "^", "p0": "v"}

    def series(key: str, pick: Callable[[dict], float | None], solver: str, obj: str
               ) -> tuple[list[int], list[float]]:
        xs, ys = [], []
        for k in sorted({k[2] for k in sp}):
            vals = [pick(sp[(solver, obj, k, sd)]) for sd in seeds if (solver, obj, k, sd) in sp]
            vals = [v for v in vals if v is not None]
            if vals:
                xs.append(k)
                ys.append(float(np.mean(vals)))
        return xs, ys

    for ax, key, name in ((axes[0], "total", "time and region shifting"),
                          (axes[1], "time", "time shifting only (regions pinned)")):
        for i, s in enumerate(solvers):
            objs = [o for o in objectives if any(k[0] == s and k[1] == o for k in sp)]
            if s == "carbon-greedy":
                objs = objs[:1]
            for o in objs:
                xs, ys = series(key, lambda v, key=key: v[key], s, o)
                if xs:
                    label = s if s == "carbon-greedy" else f"{s}, {OBJECTIVE_LABEL.get(o, o)}"
                    big = i == 0  # the first planner (cpsat) drawn wider, under the rest
                    ax.plot(xs, ys, styles.get(o, "-"), marker=markers.get(o, "o"),
                            ms=7 if big else 4, lw=2.6 if big else 1.3, color=cmap(i % 10),
                            label=label, zorder=2 if big else 3,
                            mfc="none" if big else cmap(i % 10))
        lk = "limit" if key == "total" else "time_limit"
        obj0 = next((o for o in objectives if any(k[1] == o for k in sp)), None)
        if obj0 is not None:
            lx, ly = [], []
            for k in sorted({k[2] for k in sp}):
                vals = [v[lk] for kk, v in sp.items() if kk[1] == obj0 and kk[2] == k
                        and v[lk] is not None]
                if vals:
                    lx.append(k)
                    ly.append(vals[0])
            if lx:
                ax.plot(lx, ly, color="black", lw=7, alpha=0.15, zorder=1,
                        label="physical limit (lower bound on carbon)")
        if key == "time":  # both published figures are for time shifting
            lo, hi = WIESNER_2021[1], WIESNER_2021[2]
            ax.axhspan(lo, hi, color="#2ca02c", alpha=0.12, lw=0, label=WIESNER_2021[0])
            ax.plot([SUKPRASERT_2024[1]], [SUKPRASERT_2024[2]], marker="*", ms=14,
                    color="#d62728", ls="none", label=SUKPRASERT_2024[0], zorder=4)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("slack beyond duration (h)")
        ax.set_xticks(sorted({k[2] for k in sp}))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"carbon saved vs {REFERENCE} (%)")
    handles, labels = axes[0].get_legend_handles_labels()
    h1, l1 = axes[1].get_legend_handles_labels()
    extra = [(h, lab) for h, lab in zip(h1, l1, strict=True) if lab not in labels]
    handles += [h for h, _ in extra]
    labels += [lab for _, lab in extra]
    fig.legend(handles, labels, loc="outside right center", fontsize=7.5,
               title="(overlapping lines: equal savings)", title_fontsize=7)
    fig.suptitle(title or "Carbon saved at equal work against slack", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained", dpi=110)


def bounds_for(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The carbon bounds stored with the rows' suite (``carbon_bounds.csv`` in
    the suite's folder: ``data/bench/<suite>`` or the folder the suite names),
    if the rows are from a shift-style suite; empty otherwise."""
    from allocopt.benchmarks.run import BENCH_DIR

    if not any(parse_name(str(r.get("instance"))) for r in rows):
        return {}
    out: dict[str, float] = {}
    for suite in {str(r.get("suite")) for r in rows}:
        folder = Path(suite) if Path(suite).is_dir() else BENCH_DIR / suite
        if folder.is_dir():
            out.update(read_bounds(folder))
    return out
