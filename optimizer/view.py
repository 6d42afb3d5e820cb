"""Look at a plan: one self-contained HTML page, or a PNG/SVG figure.

:func:`write_html` writes a single file with no network access at view time:
the data as embedded JSON and ~10 kB of hand-written JavaScript that draws
SVG (no chart library, so a 2,000-job plan stays well under 5 MB). It shows

* a Gantt chart by node, nodes grouped by region, one bar per replica coloured
  by priority tier; hovering a bar shows the job, tier, demand, start/end and
  the job's energy, cost and carbon (attributed as in :mod:`allocopt.records`);
* each region's facility power against its ``power_cap_kw``, and beneath it the
  price and carbon curves of every region, on the Gantt chart's time axis;
* the unplaced jobs with their reasons, the metrics, and bound and gap per
  objective stage;
* with a second plan (``compare``): both plans side by side and the jobs that
  moved (other start or nodes, placed in one plan only).

:func:`write_figure` draws the same charts with matplotlib (the ``plots``
extra) to a PNG or SVG file.

A plan naming jobs or nodes the problem lacks is refused
(:func:`check_plan_fits` raises :class:`~allocopt.errors.ProblemError`).
"""

from __future__ import annotations

import html
import json
import math
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from .validate import _series
from .errors import ProblemError
from .plan import Plan
from .problem import Problem
from .records import job_figures
from .validate import compute_metrics

#: Metrics shown in the page's and the CLI's figure tables: (key, label, unit).
METRIC_ROWS = (
    ("placed_jobs", "placed jobs", ""), ("unplaced_jobs", "unplaced jobs", ""),
    ("placed_value", "placed value", ""), ("energy_kwh", "energy", "kWh"),
    ("energy_cost", "energy cost", ""), ("carbon_kg", "carbon", "kg CO2e"),
    ("carbon_cost", "carbon cost", ""), ("tardiness", "tardiness", ""),
    ("node_cost", "node cost", ""), ("cost", "cost", ""), ("active_nodes", "active nodes", ""),
)


def check_plan_fits(problem: Problem, plan: Plan, label: str = "plan") -> None:
    """Raise :class:`ProblemError` naming every job or node of ``plan`` the problem lacks."""
    jobs = {j.id for j in problem.jobs}
    nodes = set(problem.node_names())
    errors: list[str] = []
    bad_jobs = sorted({a.job for a in plan.assignments} - jobs
                      | {u.job for u in plan.unplaced} - jobs)
    if bad_jobs:
        shown = ", ".join(repr(j) for j in bad_jobs[:10])
        more = f" and {len(bad_jobs) - 10} more" if len(bad_jobs) > 10 else ""
        errors.append(f"{label}: names {len(bad_jobs)} job(s) problem {problem.name!r} lacks: "
                      f"{shown}{more} (a plan of another problem?)")
    bad_nodes = sorted({n for a in plan.assignments for n in a.nodes} - nodes)
    if bad_nodes:
        shown = ", ".join(repr(n) for n in bad_nodes[:10])
        more = f" and {len(bad_nodes) - 10} more" if len(bad_nodes) > 10 else ""
        errors.append(f"{label}: names {len(bad_nodes)} node(s) problem {problem.name!r} lacks: "
                      f"{shown}{more}")
    if errors:
        raise ProblemError(errors)


def _sig(x: float, digits: int = 4) -> float | int:
    """``x`` to a few significant digits (keeps the embedded JSON small)."""
    if x == 0 or not math.isfinite(x):
        return 0
    v = round(x, max(0, digits - 1 - math.floor(math.log10(abs(x)))))
    return int(v) if float(v).is_integer() else v


def _rel(a: float, b: float) -> float:
    den = max(abs(a), abs(b))
    return 0.0 if den < 1e-12 else max(0.0, abs(a - b) / den)


def stage_rows(problem: Problem, plan: Plan) -> list[dict[str, Any]]:
    """Bound and gap per objective stage: ``{"stage", "sense", "value", "bound", "gap"}``.

    The value is the plan's (recomputed metrics), the bound the plan's
    ``bound`` entry for that stage (None when it has none), the gap the
    plan's per-stage ``gaps`` entry when it carries one, else the relative
    difference of value and bound. Lexicographic: one row per tier (highest
    first) and ``cost``; weighted: one ``weighted`` row.
    """
    m = plan.metrics or compute_metrics(problem, plan.assignments)
    b = plan.bound or {}
    own = getattr(plan, "gaps", None) or {}
    rows: list[dict[str, Any]] = []

    def gap_for(keys: tuple[str, ...], value: float, bound: float | None) -> float | None:
        for k in keys:
            if isinstance(own, dict) and isinstance(own.get(k), (int, float)):
                return float(own[k])
        return None if bound is None else _rel(value, bound)

    if problem.objective.mode == "weighted":
        value = float(m["placed_value"] - m["cost"])
        bound = b.get("objective")
        rows.append({"stage": "weighted", "sense": "max", "value": value, "bound": bound,
                     "gap": gap_for(("weighted", "objective"), value, bound)})
        return rows
    tiers = b.get("placed_value_by_priority", {}) or {}
    for t in problem.tiers:
        value = float(m["placed_value_by_priority"].get(str(t), 0.0))
        bound = tiers.get(str(t))
        bound = None if bound is None else max(float(bound), value)
        rows.append({"stage": f"tier {t}", "sense": "max", "value": value, "bound": bound,
                     "gap": gap_for((f"tier {t}", str(t)), value, bound)})
    value = float(m["cost"])
    bound = b.get("cost")
    bound = None if bound is None else min(float(bound), value)
    rows.append({"stage": "cost", "sense": "min", "value": value, "bound": bound,
                 "gap": gap_for(("cost",), value, bound)})
    return rows


def moved_jobs(problem: Problem, a: Plan, b: Plan) -> list[dict[str, Any]]:
    """Jobs placed differently in ``b`` than in ``a``: other start or nodes,
    or placed in one plan only. ``{"job", "a", "b"}`` with short descriptions."""
    pa = {x.job: x for x in a.assignments}
    pb = {x.job: x for x in b.assignments}

    def desc(x: Any) -> str:
        return "unplaced" if x is None else f"{x.start}-{x.end} on {', '.join(x.nodes)}"

    out = []
    for j in problem.jobs:
        x, y = pa.get(j.id), pb.get(j.id)
        if x is None and y is None:
            continue
        if x is None or y is None or x.start != y.start or sorted(x.nodes) != sorted(y.nodes):
            out.append({"job": j.id, "a": desc(x), "b": desc(y)})
    return out


def view_data(problem: Problem, plans: list[tuple[str, Plan]]) -> dict[str, Any]:
    """The JSON the page draws from (compact: indices and rounded numbers)."""
    H = problem.horizon.slots
    job_index = {j.id: k for k, j in enumerate(problem.jobs)}
    region_order = {g.id: k for k, g in enumerate(problem.regions)}
    nodes = sorted(((name, n) for n in problem.nodes for name in n.names),
                   key=lambda nn: region_order[nn[1].region])
    node_index = {name: k for k, (name, _) in enumerate(nodes)}
    data: dict[str, Any] = {
        "title": problem.name, "slots": H, "slot_hours": problem.horizon.slot_hours,
        "tiers": list(problem.tiers),
        "regions": [], "plans": [],
        "nodes": [[name, region_order[n.region], n.type,
                   [[s, min(e, H)] for s, e in n.unavailable]] for name, n in nodes],
        "jobs": [[j.id, j.priority, ", ".join(f"{r} {q:g}" for r, q in j.demand.items()),
                  int(j.required), j.replicas, _sig(j.value)] for j in problem.jobs],
    }
    for r in problem.regions:
        data["regions"].append({
            "id": r.id,
            "price": [_sig(v) for v in _series(r.price_per_kwh, H)],
            "carbon": [_sig(v) for v in _series(r.carbon_g_per_kwh, H)],
            "cap": (None if r.power_cap_kw is None
                    else [_sig(v) for v in _series(r.power_cap_kw, H)]),
        })
    for label, plan in plans:
        parts: dict[str, Any] = {}
        metrics = compute_metrics(problem, plan.assignments, _parts=parts)
        figs = job_figures(problem, plan)
        assigned = []
        for a in plan.assignments:
            f = figs.get(a.job, {})
            end = a.start + problem.jobs[job_index[a.job]].duration  # as the rules define it
            assigned.append([job_index[a.job], a.start, end, [node_index[n] for n in a.nodes],
                             _sig(f.get("energy_kwh", 0.0)), _sig(f.get("cost", 0.0)),
                             _sig(f.get("carbon_kg", 0.0))])
        data["plans"].append({
            "label": label, "status": str(plan.status), "solver": plan.solver,
            "fallback": plan.fallback, "seconds": round(plan.solve_seconds, 2),
            "interrupted": bool(getattr(plan, "interrupted", False)),
            "metrics": [[lab, _sig(float(metrics[k])), unit] for k, lab, unit in METRIC_ROWS
                        if k in metrics],
            "by_region": [[g, _sig(e), _sig(metrics["carbon_kg_by_region"][g])]
                          for g, e in metrics["energy_kwh_by_region"].items()],
            "stages": [[s["stage"], _sig(s["value"]),
                        None if s["bound"] is None else _sig(s["bound"]),
                        None if s["gap"] is None else _sig(s["gap"])]
                       for s in stage_rows(problem, plan.replace(metrics=metrics))],
            "assigned": assigned,
            "unplaced": [[job_index[u.job], u.reason] for u in plan.unplaced],
            "power": [[_sig(v) for v in row] for row in parts["power"]],
        })
    if len(plans) == 2:
        data["moved"] = [[job_index[m["job"]], m["a"], m["b"]]
                         for m in moved_jobs(problem, plans[0][1], plans[1][1])]
    return data


def render_html(problem: Problem, plan: Plan, compare: Plan | None = None,
                labels: tuple[str, str] = ("plan", "compare")) -> str:
    """The page as a string (see the module docstring)."""
    check_plan_fits(problem, plan, labels[0])
    plans = [(labels[0], plan)]
    if compare is not None:
        check_plan_fits(problem, compare, labels[1])
        plans.append((labels[1], compare))
    data = json.dumps(view_data(problem, plans), separators=(",", ":"), allow_nan=False)
    data = data.replace("</", "<\\/")
    title = html.escape(f"allocopt plan: {problem.name}")
    script = files(__package__).joinpath("view.js").read_text(encoding="utf-8")
    return _PAGE.replace("{{TITLE}}", title).replace("{{DATA}}", data).replace("{{JS}}", script)


def write_html(problem: Problem, plan: Plan, out: str | Path, compare: Plan | None = None,
               labels: tuple[str, str] = ("plan", "compare")) -> Path:
    """Write :func:`render_html` to ``out`` (UTF-8); returns the path."""
    path = Path(out)
    path.write_text(render_html(problem, plan, compare, labels), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# PNG / SVG with matplotlib
# ---------------------------------------------------------------------------


def _need_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ProblemError(
            ["PNG/SVG output needs matplotlib: pip install 'allocopt[plots]'"]) from None


def write_figure(problem: Problem, plan: Plan, out: str | Path) -> Path:
    """Draw the Gantt chart, regional power against caps, and price and carbon
    curves (shared time axis) into one PNG or SVG file (by ``out``'s suffix)."""
    _need_matplotlib()
    check_plan_fits(problem, plan)
    from matplotlib.figure import Figure

    from allocopt.benchmarks.report import _gantt  # the report's Gantt chart, reused

    path = Path(out)
    H = problem.horizon.slots
    n_nodes = len(problem.node_names())
    gantt_h = min(40.0, max(3.0, 1.2 + 0.22 * n_nodes))
    fig = Figure(figsize=(min(18.0, 9.0 + H / 12), gantt_h + 7.5), layout="constrained", dpi=110)
    axes = fig.subplots(4, 1, sharex=True, height_ratios=[gantt_h, 3.0, 2.0, 2.0])
    _gantt(problem, plan, axes[0])
    parts: dict[str, Any] = {}
    compute_metrics(problem, plan.assignments, _parts=parts)
    edges = np.arange(H + 1)
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    for g, r in enumerate(problem.regions):
        c = cmap(g % 10)
        axes[1].stairs(parts["power"][g], edges, color=c, lw=1.4, baseline=None, label=r.id)
        if r.power_cap_kw is not None:
            axes[1].stairs(_series(r.power_cap_kw, H), edges, color=c, lw=1.0, ls="--",
                           baseline=None)
        axes[2].stairs(_series(r.price_per_kwh, H), edges, color=c, lw=1.2, baseline=None)
        axes[3].stairs(_series(r.carbon_g_per_kwh, H), edges, color=c, lw=1.2, baseline=None)
    axes[1].set_ylabel("facility kW\n(dashed: cap)", fontsize=8)
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.03, 1.0))
    axes[2].set_ylabel("price / kWh", fontsize=8)
    axes[3].set_ylabel("carbon g/kWh", fontsize=8)
    for ax in axes[1:]:
        ax.grid(alpha=0.3)
    axes[3].set_xlabel(f"slot ({problem.horizon.slot_hours:g} h each)")
    axes[0].xaxis.set_tick_params(labelbottom=True)
    fig.savefig(path)
    return path


# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{TITLE}}</title>
<style>
body{font:13px system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px}h2{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:4px 0}
td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}
.cols{display:grid;grid-template-columns:repeat(var(--n),minmax(0,1fr));gap:16px}
svg{width:100%;height:auto;display:block}
.job{stroke:#222;stroke-width:.4}.job.req{stroke-width:1.4}.job.moved{stroke:#d00;stroke-width:1.6}
.job:hover{opacity:.7}
#tip{position:fixed;pointer-events:none;background:#fff;border:1px solid #888;padding:4px 6px;
font-size:12px;display:none;white-space:pre;box-shadow:1px 1px 4px #0003}
.err{color:#b00}.small{color:#666;font-size:12px}
</style></head><body>
<h1>{{TITLE}}</h1><div id="app">rendering...</div><div id="tip"></div>
<script type="application/json" id="data">{{DATA}}</script>
<script>{{JS}}</script></body></html>
"""
