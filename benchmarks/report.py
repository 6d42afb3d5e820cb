"""Benchmark reports: markdown tables and PNG plots from runner results.

:func:`report` reads the JSONL files written by :func:`allocopt.benchmarks.run.run_bench`
and returns a markdown report, one section per suite (and per time limit
when a suite was run with several), with three tables:

1. **Per solver**, over instances and seeds: runs, valid runs, statuses,
   runs that hit the time limit, each tier's placed value relative to the best
   solver on the same (instance, seed), wins, mean cost, mean gap to the
   solver's bound, carbon and cost saved against ``carbon-agnostic`` on the
   same (instance, seed), seconds and peak memory. Errors and invalid plans
   are listed one by one under the table.
2. **Per instance**: each solver's placed value and cost, the best in bold.
3. **Classic instances** (rows with a published optimum): gap to it.

It also draws (with matplotlib's Agg canvas, no display) the quality of each
solver against the time limit, and the per-region carbon and energy saved
against ``carbon-agnostic``. :func:`plot_plan` draws one plan: a Gantt chart
by node and each region's facility power against its cap.

"Best" is the lexicographic objective of :func:`allocopt.validate.better`,
applied to result rows by :func:`compare`: required jobs placed, then each
tier's placed value from the highest tier, then ``-cost``. Only valid plans
compete; the means of table 1 are over valid runs, and failures are counted
in their own columns.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from allocopt.benchmarks import savings as savings_mod
from allocopt.benchmarks.run import read_rows

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from allocopt import Plan, Problem

#: The reference solver for the savings columns.
REFERENCE = "carbon-agnostic"
#: Statuses counted in table 1, in this order (PLAN.md's, plus the runner's).
STATUSES = ("optimal", "feasible", "infeasible", "unknown", "error")
#: A run that used at least this share of its time limit without proving
#: optimality is reported as having hit the limit.
TIMEOUT_SHARE = 0.95
#: Relative tolerance of comparisons (as in :func:`allocopt.validate.better`).
REL_TOL = 1e-9

_RUN_KEY = ("suite", "instance", "solver", "seed", "time_limit", "workers")


# ---------------------------------------------------------------------------
# Comparing rows
# ---------------------------------------------------------------------------


def _tier_sort(tiers: Iterable[str]) -> list[str]:
    """Tier names, highest first (numerically when they are numbers)."""

    def key(t: str) -> tuple[int, float, str]:
        try:
            return (0, -float(t), t)
        except ValueError:
            return (1, 0.0, t)

    return sorted(set(tiers), key=key)


def _has_plan(row: dict[str, Any]) -> bool:
    return row.get("status") != "error" and isinstance(row.get("placed_value_by_priority"), dict) \
        and isinstance(row.get("cost"), (int, float))


def _weighted(row: dict[str, Any]) -> bool:
    """Whether a row's problem uses the weighted objective (best guess).

    Rows do not record the objective mode; a weighted problem is recognised by
    an ``objective_mode`` field, if a runner adds one, or by a bound of the
    form ``{"objective": x}`` (PLAN.md: the bound has the objective's keys).
    """
    if row.get("objective_mode") is not None:
        return row["objective_mode"] == "weighted"
    bound = row.get("bound")
    return isinstance(bound, dict) and "objective" in bound


def _carbon_mode(row: dict[str, Any]) -> bool:
    """Whether a row's problem uses ``objective.mode: "carbon"``: an
    ``objective_mode`` field, or a bound with a ``carbon_kg`` key."""
    if row.get("objective_mode") is not None:
        return row["objective_mode"] == "carbon"
    bound = row.get("bound")
    return isinstance(bound, dict) and "carbon_kg" in bound


def row_key(row: dict[str, Any], tiers: Sequence[str] | None = None, *,
            weighted: bool = False, carbon: bool = False) -> tuple[float, ...]:
    """The objective of a result row as a tuple to maximise.

    Parameters
    ----------
    row
        A result row with ``placed_value_by_priority``, ``cost`` and
        (optionally) ``required_placed``.
    tiers
        Tier names to compare, highest first (default: the row's own).
        Tiers missing from the row count as 0.
    weighted
        Use the weighted objective ``placed_value - cost`` instead of the
        lexicographic one.

    Returns
    -------
    tuple of float
        ``(required_placed, value of each tier from the highest, -cost)``,
        or ``(required_placed, placed_value - cost)`` if ``weighted``; the
        same as :func:`allocopt.validate.lex_key` (a row with
        ``stability_tier`` has ``-move_cost`` right below that tier).
    """
    pv = row.get("placed_value_by_priority") or {}
    req = float(row.get("required_placed") or 0)
    cost = float(row["cost"])
    if weighted:
        value = row.get("placed_value")
        value = float(sum(pv.values()) if value is None else value)
        return (req, value - cost)
    tiers = _tier_sort(pv) if tiers is None else tiers
    values = [float(pv.get(t, 0.0)) for t in tiers]
    stab = row.get("stability_tier")
    if isinstance(stab, int):  # objective.stability_tier: -move_cost right below tier stab
        k = sum(1 for t in tiers if str(t).lstrip("-").isdigit() and int(t) >= stab)
        values.insert(k, -float(row.get("move_cost") or 0.0))
    if carbon:  # carbon mode: -carbon before -cost
        return (req, *values, -float(row.get("carbon_kg") or 0.0), -cost)
    return (req, *values, -cost)


def compare(a: dict[str, Any], b: dict[str, Any], *, tiers: Sequence[str] | None = None,
            weighted: bool = False, rel: float = REL_TOL, carbon: bool = False) -> int:
    """Compare two result rows by the objective: 1 if ``a`` is better, -1 if worse, 0 if tied.

    Parameters
    ----------
    a, b
        Result rows with a plan (``placed_value_by_priority`` and ``cost``).
    tiers
        Tier names, highest first; default: every tier of either row.
    weighted
        Compare by ``placed_value - cost`` (the weighted objective).
    rel
        Relative tolerance under which two figures are equal.

    Returns
    -------
    int
        The sign of ``a - b`` in the order of :func:`allocopt.validate.better`.

    Examples
    --------
    >>> a = {"placed_value_by_priority": {"2": 10.0, "0": 6.0}, "cost": 30.0}
    >>> b = {"placed_value_by_priority": {"2": 10.0, "0": 5.0}, "cost": 20.0}
    >>> compare(a, b), compare(b, a), compare(a, dict(a))
    (1, -1, 0)
    """
    if tiers is None:
        tiers = _tier_sort([*(a.get("placed_value_by_priority") or {}),
                            *(b.get("placed_value_by_priority") or {})])
    for x, y in zip(row_key(a, tiers, weighted=weighted, carbon=carbon),
                    row_key(b, tiers, weighted=weighted, carbon=carbon), strict=True):
        if abs(x - y) > rel * max(1.0, abs(x), abs(y)):
            return 1 if x > y else -1
    return 0


def best_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows tied for best among the valid plans of one (instance, seed).

    Parameters
    ----------
    rows
        Result rows of the same instance and seed (typically one per solver).
        Rows without a valid plan never count as best.

    Returns
    -------
    list of dict
        The best row and every row tied with it; empty if no row has a
        valid plan.
    """
    cands = [r for r in rows if r.get("valid") and _has_plan(r)]
    if not cands:
        return []
    tiers = _tier_sort(t for r in cands for t in r["placed_value_by_priority"])
    weighted = any(_weighted(r) for r in cands)
    carbon = not weighted and any(_carbon_mode(r) for r in cands)
    best = cands[0]
    for r in cands[1:]:
        if compare(r, best, tiers=tiers, weighted=weighted, carbon=carbon) > 0:
            best = r
    return [r for r in cands if compare(r, best, tiers=tiers, weighted=weighted,
                                        carbon=carbon) == 0]


# ---------------------------------------------------------------------------
# Loading and grouping
# ---------------------------------------------------------------------------


def load_results(results_paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """All rows of some JSONL results files, one per run.

    A run (suite, instance, solver, seed, time limit, workers) that appears
    more than once keeps its last row, so files can be given in the order
    they were written.

    Raises
    ------
    FileNotFoundError
        If a results file does not exist.
    """
    rows: dict[tuple, dict[str, Any]] = {}
    for p in results_paths:
        path = Path(p)
        if not path.is_file():
            raise FileNotFoundError(f"results file not found: {path}")
        for row in read_rows(path):
            if isinstance(row, dict):
                key = tuple(row.get(k) for k in _RUN_KEY)
                rows.pop(key, None)  # the last row of a run wins, in its new position
                rows[key] = row
    return list(rows.values())


@dataclass
class _Context:
    """The rows of one (instance, seed) in a group, and the best among them."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # by solver
    best: list[dict[str, Any]] = field(default_factory=list)

    def best_row(self) -> dict[str, Any] | None:
        return self.best[0] if self.best else None

    def is_best(self, row: dict[str, Any]) -> bool:
        return any(row is b for b in self.best)


def _contexts(rows: list[dict[str, Any]]) -> dict[tuple, _Context]:
    ctx: dict[tuple, _Context] = defaultdict(_Context)
    for r in rows:
        ctx[(r.get("instance"), r.get("seed"))].rows[str(r.get("solver"))] = r
    for c in ctx.values():
        c.best = best_rows(c.rows.values())
    return dict(ctx)


def _solvers_in(rows: list[dict[str, Any]]) -> list[str]:
    """Solver names in order of first appearance, ``carbon-agnostic`` last."""
    names = list(dict.fromkeys(str(r.get("solver")) for r in rows))
    if REFERENCE in names:
        names.remove(REFERENCE)
        names.append(REFERENCE)
    return names


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------


def _num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.1f}"
    if a >= 1 or a == 0:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _val(x: float | None) -> str:
    """A placed value: integers without decimals."""
    if x is None:
        return "–"
    return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else _num(x)


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:+.1f}%" if signed else f"{x:.1f}%"


def _mean(xs: Sequence[float]) -> float | None:
    return float(np.mean(xs)) if xs else None


def _cell(text: Any) -> str:
    return str(text).replace("|", r"\|").replace("\n", " ")


def _table(headers: Sequence[str], body: Sequence[Sequence[Any]], left: int = 1) -> str:
    """A markdown table; the first ``left`` columns align left, the rest right."""
    out = ["| " + " | ".join(_cell(h) for h in headers) + " |",
           "|" + "|".join(":---" if i < left else "---:" for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in body]
    return "\n".join(out)


def _seconds(x: Any) -> str:
    return f"{x:g} s" if isinstance(x, (int, float)) else str(x)


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    return s[:80] or "suite"


# ---------------------------------------------------------------------------
# Table 1: per solver
# ---------------------------------------------------------------------------


def _hit_limit(row: dict[str, Any]) -> bool:
    tl, sec = row.get("time_limit"), row.get("seconds")
    if row.get("status") in ("optimal", "error") or not isinstance(tl, (int, float)) \
            or not isinstance(sec, (int, float)) or tl <= 0:
        return False
    return sec >= TIMEOUT_SHARE * tl


def _ratio(v: float, b: float) -> float | None:
    """``v / b`` for a placed value against the best's; None when undefined."""
    if abs(b) < 1e-12:
        return 1.0 if abs(v) < 1e-12 else None
    return v / b


def _saving(ref: float | None, x: float | None) -> float | None:
    """Percent saved by ``x`` against ``ref``; None when ``ref`` is 0."""
    if ref is None or x is None or abs(ref) < 1e-12:
        return None
    return 100.0 * (ref - x) / abs(ref)


def solver_stats(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The figures of table 1 for the rows of one group (one suite and time limit).

    Parameters
    ----------
    rows
        Result rows of one suite, time limit and worker count.

    Returns
    -------
    dict
        By solver name: ``runs``, ``valid``, ``status`` (counts by status),
        ``hit_limit``, ``fallback`` (plans from the greedy fallback),
        ``rel_by_tier`` (tier -> mean placed value relative to
        the best of the same (instance, seed), over valid runs), ``rel_value``
        (the same for the total placed value), ``wins``, ``contexts`` (how
        many (instance, seed) it ran), ``mean_cost``, ``mean_gap`` (and ``gaps``, how
        many runs had one),
        ``carbon_saved_pct`` and ``cost_saved_pct`` (mean over (instance,
        seed) with a valid plan of both, None without ``carbon-agnostic``),
        ``mean_seconds``, ``max_seconds`` and ``peak_mb``.
    """
    ctxs = _contexts(rows)
    tiers = _tier_sort(t for r in rows if _has_plan(r) for t in r["placed_value_by_priority"])
    stats: dict[str, dict[str, Any]] = {}
    for name in _solvers_in(rows):
        mine = [(c, c.rows[name]) for c in ctxs.values() if name in c.rows]
        runs = [r for _, r in mine]
        good = [(c, r) for c, r in mine if r.get("valid") and _has_plan(r)]
        rel: dict[str, list[float]] = {t: [] for t in tiers}
        rel_total: list[float] = []
        carbon_saved: list[float] = []
        cost_saved: list[float] = []
        for c, r in good:
            b = c.best_row()
            if b is not None:
                for t in tiers:
                    q = _ratio(float(r["placed_value_by_priority"].get(t, 0.0)),
                               float(b["placed_value_by_priority"].get(t, 0.0)))
                    if q is not None:
                        rel[t].append(q)
                q = _ratio(float(r.get("placed_value") or 0.0), float(b.get("placed_value") or 0.0))
                if q is not None:
                    rel_total.append(q)
            ref = c.rows.get(REFERENCE)
            if name != REFERENCE and ref is not None and ref.get("valid") and _has_plan(ref):
                s = _saving(ref.get("carbon_kg"), r.get("carbon_kg"))
                if s is not None:
                    carbon_saved.append(s)
                s = _saving(ref.get("cost"), r.get("cost"))
                if s is not None:
                    cost_saved.append(s)
        status = {s: 0 for s in STATUSES}
        for r in runs:
            st = str(r.get("status", "unknown"))
            status[st] = status.get(st, 0) + 1
        secs = [float(r["seconds"]) for r in runs if isinstance(r.get("seconds"), (int, float))]
        mbs = [float(r["peak_mb"]) for r in runs if isinstance(r.get("peak_mb"), (int, float))]
        gaps = [float(r["gap"]) for _, r in good if isinstance(r.get("gap"), (int, float))]
        stats[name] = {
            "runs": len(runs),
            "valid": len(good),
            "status": status,
            "hit_limit": sum(_hit_limit(r) for r in runs),
            "fallback": sum(bool(r.get("fallback")) for r in runs),
            "rel_by_tier": {t: _mean(v) for t, v in rel.items()},
            "rel_value": _mean(rel_total),
            "wins": sum(c.is_best(r) for c, r in good),
            "contexts": len(mine),
            "mean_cost": _mean([float(r["cost"]) for _, r in good]),
            "mean_gap": _mean(gaps),
            "gaps": len(gaps),
            **_stage_gap_stats([r for _, r in good]),
            "g_per_kwh": _mean([1000 * float(r["carbon_kg"]) / float(r["energy_kwh"])
                                for _, r in good if float(r.get("energy_kwh") or 0) > 0]),
            "moves_pct": _mean([100.0 * float(r["moves"]) / float(r["planned_jobs"]) for _, r in good
                                if r.get("planned_jobs")]),
            "mean_lp_gap": _mean([float(r["lp_gap"]) for _, r in good
                                  if isinstance(r.get("lp_gap"), (int, float))]),
            "carbon_saved_pct": _mean(carbon_saved) if name != REFERENCE else None,
            "cost_saved_pct": _mean(cost_saved) if name != REFERENCE else None,
            "mean_seconds": _mean(secs),
            "max_seconds": max(secs) if secs else None,
            "peak_mb": max(mbs) if mbs else None,
        }
    return stats


def _stage_gap_stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """From the rows' per-entry ``gaps``: ``tiers_proven`` (runs whose every
    tier gap is 0), ``with_gaps`` (runs that have ``gaps``) and
    ``mean_cost_gap`` (mean cost gap over the runs that have one)."""
    with_gaps = [r["gaps"] for r in rows if isinstance(r.get("gaps"), dict)]
    cost = [float(g["cost"]) for g in with_gaps if isinstance(g.get("cost"), (int, float))]
    proven = sum(1 for g in with_gaps
                 if all(v == 0 for v in (g.get("placed_value_by_priority") or {}).values()))
    return {"tiers_proven": proven, "with_gaps": len(with_gaps), "mean_cost_gap": _mean(cost)}


def _solver_table(rows: list[dict[str, Any]]) -> str:
    stats = solver_stats(rows)
    tiers = _tier_sort(t for r in rows if _has_plan(r) for t in r["placed_value_by_priority"])
    has_ref = any(r.get("solver") == REFERENCE for r in rows)
    others = sorted({s for st in stats.values() for s in st["status"]} - set(STATUSES))
    headers = ["solver", "runs", "valid", *STATUSES, *others, "hit limit", "fallback",
               *(f"p{t} vs best" for t in tiers), "wins", "mean cost", "mean gap"]
    has_stage_gaps = any(isinstance(r.get("gaps"), dict) for r in rows)
    if has_stage_gaps:
        headers += ["tiers proven", "cost gap"]
    has_lp = any(isinstance(r.get("lp_gap"), (int, float)) for r in rows)
    if has_lp:
        headers += ["gap to LP"]
    has_moves = any(r.get("planned_jobs") for r in rows)
    if has_moves:
        headers += ["moves"]
    if has_ref:
        headers += ["carbon saved", "cost saved"]
    headers += ["g/kWh", "mean s", "max s", "peak MB"]
    body = []
    for name, st in stats.items():
        line = [name, st["runs"], st["valid"], *(st["status"].get(s, 0) for s in STATUSES),
                *(st["status"].get(s, 0) for s in others), st["hit_limit"], st["fallback"],
                *(_pct(None if st["rel_by_tier"][t] is None else 100 * st["rel_by_tier"][t])
                  for t in tiers),
                f"{st['wins']}/{st['contexts']}", _num(st["mean_cost"]),
                _pct(None if st["mean_gap"] is None else 100 * st["mean_gap"])]
        if has_stage_gaps:
            line += [f"{st['tiers_proven']}/{st['with_gaps']}" if st["with_gaps"] else "-",
                     _pct(None if st["mean_cost_gap"] is None else 100 * st["mean_cost_gap"])]
        if has_lp:
            line += [_pct(None if st["mean_lp_gap"] is None else 100 * st["mean_lp_gap"])]
        if has_moves:
            line += [_pct(st["moves_pct"])]
        if has_ref:
            line += ["ref." if name == REFERENCE else _pct(st["carbon_saved_pct"], signed=True),
                     "ref." if name == REFERENCE else _pct(st["cost_saved_pct"], signed=True)]
        line += [_num(st["g_per_kwh"]), _num(st["mean_seconds"]), _num(st["max_seconds"]),
                 _num(st["peak_mb"])]
        body.append(line)
    notes = [
        "*p&lt;tier&gt; vs best*: the tier's placed value relative to the best solver on the same "
        "(instance, seed) (best = lexicographic objective: required jobs, tiers from the highest, "
        "then lowest cost), mean over valid runs. *wins*: best or tied, out of the (instance, "
        f"seed) run. *hit limit*: used at least {TIMEOUT_SHARE:.0%} of the time limit without "
        "proving optimality. *fallback*: plans from the greedy fallback. *mean gap*: over "
        "valid runs with a bound.",
    ]
    if has_stage_gaps:
        notes.append("*tiers proven*: runs whose every tier gap (plan `gaps`) is 0, out of the "
                     "runs with gaps. *cost gap*: the plan's cost against its cost bound, mean "
                     "over runs with one.")
    notes.append("*g/kWh*: carbon per kWh of the energy the plan uses (its carbon over its "
                 "energy), mean over valid runs with energy.")
    if has_lp:
        notes.append("*gap to LP*: the plan against the LP-relaxation bound (`bench --lp-bound`), "
                     "mean over valid runs.")
    if has_moves:
        notes.append("*moves*: re-planning problems (`planned` jobs): moved planned jobs out of "
                     "the planned ones, mean over valid runs. The planners built on the greedy engine "
                     "(`greedy` and the list-scheduling baselines) keep valid previous placements "
                     "first; the exact solvers price moves with `move_cost` (PROBLEM.md "
                     "Re-planning); rows with `objective.stability_tier` rank moves below that "
                     "tier.")
    if has_ref:
        notes.append(f"*carbon / cost saved*: against `{REFERENCE}` on the same (instance, seed), "
                     "mean of the per-run percentages (positive = less); a planner that places "
                     "more work can save nothing here and still run it cleaner, see *g/kWh*.")
    else:
        notes.append(f"No `{REFERENCE}` runs: savings columns left out.")
    return _table(headers, body) + "\n\n" + " ".join(notes)


def _failures(rows: list[dict[str, Any]]) -> str:
    """Errors and invalid plans, one bullet each."""
    lines = []
    for r in rows:
        where = f"`{r.get('solver')}` on `{r.get('instance')}` (seed {r.get('seed')})"
        if r.get("status") == "error":
            msg = str(r.get("error") or "no message")
            msg = msg if len(msg) <= 300 else msg[:297] + "..."
            lines.append(f"- **error**: {where}: {msg.replace(chr(10), ' ')}")
        elif not r.get("valid"):
            lines.append(f"- **invalid plan**: {where}: {r.get('violations', '?')} violation(s), "
                         f"status {r.get('status')}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Table 2: per instance
# ---------------------------------------------------------------------------


def _instance_table(rows: list[dict[str, Any]]) -> str:
    ctxs = _contexts(rows)
    solvers = _solvers_in(rows)
    by_inst: dict[Any, list[_Context]] = defaultdict(list)
    for (inst, _seed), c in ctxs.items():
        by_inst[inst].append(c)
    multi_seed = any(len(cs) > 1 for cs in by_inst.values())
    body = []
    for inst, cs in by_inst.items():
        size = next((r for c in cs for r in c.rows.values() if r.get("jobs") is not None), None)
        size_txt = f"{size['jobs']} / {size['nodes']} / {size['slots']}" if size else "–"
        wins = {s: sum(1 for c in cs if s in c.rows and c.is_best(c.rows[s])) for s in solvers}
        top = max(wins.values(), default=0)
        cells = []
        for s in solvers:
            mine = [c.rows[s] for c in cs if s in c.rows]
            good = [r for r in mine if r.get("valid") and _has_plan(r)]
            errors = sum(r.get("status") == "error" for r in mine)
            if not mine:
                cells.append("")
                continue
            if not good:
                cells.append("error" if errors == len(mine) else "invalid")
                continue
            text = (f"{_val(_mean([float(r.get('placed_value') or 0) for r in good]))} / "
                    f"{_num(_mean([float(r['cost']) for r in good]))}")
            if top > 0 and wins[s] == top:
                text = f"**{text}**"
            extra = []
            if multi_seed:
                extra.append(f"{wins[s]}/{len(mine)} best")
            if errors:
                extra.append(f"{errors} error")
            if len(good) + errors < len(mine):
                extra.append(f"{len(mine) - len(good) - errors} invalid")
            cells.append(text + (f" ({', '.join(extra)})" if extra else ""))
        body.append([inst, size_txt, *cells])
    note = ("Cells: placed value / cost" + (" (means over seeds)" if multi_seed else "")
            + "; **bold** = best by the lexicographic objective"
            + (" on the most seeds" if multi_seed else "") + ". Size: jobs / nodes / slots.")
    return _table(["instance", "size", *solvers], body, left=2) + "\n\n" + note


# ---------------------------------------------------------------------------
# Table 3: classic instances
# ---------------------------------------------------------------------------


def _classic_table(rows: list[dict[str, Any]]) -> str | None:
    classic = [r for r in rows if r.get("known_optimum") is not None]
    if not classic:
        return None
    body = []
    for name in _solvers_in(classic):
        mine = [r for r in classic if str(r.get("solver")) == name]
        gaps = [float(r["gap_to_optimum"]) for r in mine
                if r.get("valid") and isinstance(r.get("gap_to_optimum"), (int, float))]
        at_opt = sum(g <= REL_TOL for g in gaps)
        body.append([name, len(mine), len(gaps), _pct(None if not gaps else 100 * _mean(gaps)),
                     _pct(None if not gaps else 100 * max(gaps)), f"{at_opt}/{len(mine)}",
                     sum(r.get("status") == "error" for r in mine)])
    note = ("Gap to the published optimum, (objective - optimum) / optimum, over valid runs; "
            "*at optimum*: runs that reached it. A run without a gap left an item or activity "
            "(a required job) unplaced, so its plan has no objective in the source's terms.")
    return _table(["solver", "runs", "with gap", "mean gap", "max gap", "at optimum", "errors"],
                  body) + "\n\n" + note


# ---------------------------------------------------------------------------
# Plots from results
# ---------------------------------------------------------------------------


def _figure(width: float, height: float) -> Any:
    # The object-oriented API: an Agg canvas, no pyplot state, no display.
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plots need matplotlib, an optional part: "
                          "pip install 'allocopt[plots]' (or report --no-plots)") from None

    return Figure(figsize=(width, height), layout="constrained", dpi=110)


def _colors(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def plot_time_limits(rows: list[dict[str, Any]], path: Path, title: str = "") -> Path | None:
    """Plot quality against the time limit for one suite run with several limits.

    Parameters
    ----------
    rows
        Result rows of one suite (any time limits).
    path
        The PNG file to write.
    title
        A title for the figure.

    Returns
    -------
    Path or None
        ``path``, or None if there are fewer than two time limits.

    Notes
    -----
    The reference of each (instance, seed) is the best valid plan over every
    solver *and time limit*, so each line shows how close a solver gets as it
    is given more time. Left: total placed value / the best's; right: cost /
    the best's (where the best's cost is positive).
    """
    limits = sorted({float(r["time_limit"]) for r in rows
                     if isinstance(r.get("time_limit"), (int, float))})
    if len(limits) < 2:
        return None
    by_ctx: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_ctx[(r.get("instance"), r.get("seed"))].append(r)
    ref = {k: (best_rows(v) or [None])[0] for k, v in by_ctx.items()}
    solvers = _solvers_in(rows)
    fig = _figure(11, 4.2)
    ax_v, ax_c = fig.subplots(1, 2)
    markers = "osD^vPX*<>"
    for i, (name, color) in enumerate(zip(solvers, _colors(len(solvers)), strict=True)):
        # Solvers often coincide (a fallback is the greedy plan): earlier lines
        # are drawn wider and with larger markers so later ones stay visible.
        style = dict(marker=markers[i % len(markers)], color=color, label=name,
                     lw=max(1.0, 3.2 - 0.4 * i), ms=max(4.0, 10.0 - 1.2 * i), alpha=0.85)
        v_line, c_line = [], []
        for tl in limits:
            vs, cs = [], []
            for r in rows:
                b = ref[(r.get("instance"), r.get("seed"))]
                if r.get("solver") != name or r.get("time_limit") != tl or b is None \
                        or not (r.get("valid") and _has_plan(r)):
                    continue
                q = _ratio(float(r.get("placed_value") or 0), float(b.get("placed_value") or 0))
                if q is not None:
                    vs.append(q)
                if float(b["cost"]) > 1e-12:
                    cs.append(float(r["cost"]) / float(b["cost"]))
            v_line.append(_mean(vs) if vs else np.nan)
            c_line.append(_mean(cs) if cs else np.nan)
        ax_v.plot(limits, v_line, **style)
        ax_c.plot(limits, c_line, **style)
    for ax, ylabel in ((ax_v, "placed value / best"), (ax_c, "cost / best")):
        ax.set_xlabel("time limit (s)")
        ax.set_ylabel(ylabel)
        ax.axhline(1.0, color="grey", lw=0.8, ls=":")
        ax.grid(alpha=0.3)
        if limits[-1] / max(limits[0], 1e-9) >= 10:
            ax.set_xscale("log")
    ax_v.set_title("placed value relative to best (higher is better)", fontsize=10)
    ax_c.set_title("cost relative to best (lower is better)", fontsize=10)
    ax_c.legend(fontsize=8, loc="best")
    if title:
        fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def savings_by_region(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Carbon and energy saved per region against ``carbon-agnostic``.

    Parameters
    ----------
    rows
        Result rows of one group (one suite and time limit).

    Returns
    -------
    dict
        By solver (``carbon-agnostic`` excluded): ``pairs`` (the (instance,
        seed) where both have a valid plan), ``carbon_kg`` and ``energy_kwh``
        (region -> reference minus solver, summed over the pairs; positive =
        saved), ``carbon_pct`` and ``cost_pct`` (total saved in % of the
        reference's sums over the same pairs). Empty without the reference.
    """
    out: dict[str, dict[str, Any]] = {}
    for name in _solvers_in(rows):
        if name == REFERENCE:
            continue
        carbon: dict[str, float] = defaultdict(float)
        energy: dict[str, float] = defaultdict(float)
        tot = {"ref_carbon": 0.0, "carbon": 0.0, "ref_cost": 0.0, "cost": 0.0}
        pairs = 0
        for c in _contexts(rows).values():
            r, ref = c.rows.get(name), c.rows.get(REFERENCE)
            if r is None or ref is None \
                    or not all(x.get("valid") and _has_plan(x) for x in (r, ref)):
                continue
            pairs += 1
            for key, acc in (("carbon_kg_by_region", carbon), ("energy_kwh_by_region", energy)):
                mine, theirs = r.get(key) or {}, ref.get(key) or {}
                for g in {*mine, *theirs}:
                    acc[g] += float(theirs.get(g, 0.0)) - float(mine.get(g, 0.0))
            tot["ref_carbon"] += float(ref.get("carbon_kg") or 0)
            tot["carbon"] += float(r.get("carbon_kg") or 0)
            tot["ref_cost"] += float(ref["cost"])
            tot["cost"] += float(r["cost"])
        if pairs:
            out[name] = {"pairs": pairs, "carbon_kg": dict(carbon), "energy_kwh": dict(energy),
                         "carbon_pct": _saving(tot["ref_carbon"], tot["carbon"]),
                         "cost_pct": _saving(tot["ref_cost"], tot["cost"])}
    return out


def plot_savings(rows: list[dict[str, Any]], path: Path, title: str = "") -> Path | None:
    """Bar charts of what each solver saves against ``carbon-agnostic``, by region.

    Three panels: carbon saved per region (kg), energy saved per region
    (kWh), and the total carbon and cost saved (%) per solver. Results rows
    break energy and carbon down by region but not cost, hence the total.

    Parameters
    ----------
    rows
        Result rows of one group (one suite and time limit).
    path
        The PNG file to write.
    title
        A title for the figure.

    Returns
    -------
    Path or None
        ``path``, or None if no solver could be paired with ``carbon-agnostic``.
    """
    sav = savings_by_region(rows)
    if not sav:
        return None
    solvers = list(sav)
    regions = sorted({g for s in sav.values() for g in (*s["carbon_kg"], *s["energy_kwh"])})
    colors = _colors(len(solvers))
    fig = _figure(max(10.0, 1.0 + 0.35 * len(regions) * max(1, len(solvers)) * 0.6 + 4), 4.4)
    axes = fig.subplots(1, 3, width_ratios=[max(2, len(regions)), max(2, len(regions)),
                                             max(2, len(solvers) * 0.8)])
    width = 0.8 / len(solvers)
    x = np.arange(len(regions))
    for ax, key, unit in ((axes[0], "carbon_kg", "carbon saved (kg)"),
                          (axes[1], "energy_kwh", "energy saved (kWh)")):
        for i, (name, color) in enumerate(zip(solvers, colors, strict=True)):
            ax.bar(x + (i - (len(solvers) - 1) / 2) * width,
                   [sav[name][key].get(g, 0.0) for g in regions], width, color=color, label=name)
        ax.set_xticks(x, regions, rotation=30 if len(regions) > 4 else 0, ha="right"
                      if len(regions) > 4 else "center", fontsize=8)
        ax.set_ylabel(unit)
        ax.axhline(0, color="black", lw=0.8)
        ax.grid(axis="y", alpha=0.3)
        ax.set_title(f"{unit.split(' (')[0]} by region", fontsize=10)
    ax = axes[2]
    xs = np.arange(len(solvers))
    ax.bar(xs - 0.2, [sav[s]["carbon_pct"] or 0.0 for s in solvers], 0.4, color="#2a9d8f",
           label="carbon")
    ax.bar(xs + 0.2, [sav[s]["cost_pct"] or 0.0 for s in solvers], 0.4, color="#e9c46a",
           label="cost")
    ax.set_xticks(xs, solvers, rotation=30 if len(solvers) > 2 else 0,
                  ha="right" if len(solvers) > 2 else "center", fontsize=8)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("saved (%)")
    ax.set_title("total saved", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    axes[0].legend(fontsize=8)
    n = max(s["pairs"] for s in sav.values())
    fig.suptitle((title + ": " if title else "") + f"saved vs {REFERENCE} "
                 f"(sums over up to {n} paired runs; negative = more)", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------


def _protocol(rows: list[dict[str, Any]]) -> str:
    """One line of protocol: instances, seeds, limits, workers, machine, version."""

    def values(key: str) -> str:
        vals = list(dict.fromkeys(r.get(key) for r in rows if r.get(key) is not None))
        return ", ".join(str(v) for v in vals) if vals else "–"

    limits = sorted({r["time_limit"] for r in rows
                     if isinstance(r.get("time_limit"), (int, float))})
    return (f"{len({r.get('instance') for r in rows})} instance(s), {len(rows)} run(s); "
            f"seeds {values('seed')}; time limit {', '.join(map(_seconds, limits)) or '–'}; "
            f"workers {values('workers')}; CPUs {values('cpus')}; "
            f"allocopt {values('version')} (git {values('git')}); Python {values('python')}.")


def report(results_paths: list[Path], out_dir: Path | None = None, plots: bool = True) -> str:
    """A markdown report of benchmark results, with PNG plots.

    Parameters
    ----------
    results_paths
        JSONL results files of :func:`allocopt.benchmarks.run.run_bench`. A run found
        in several files keeps its last row.
    out_dir
        Where ``report.md`` and the plots go (created if needed). Default:
        ``<stem>-report/`` next to the first results file.
    plots
        Draw the PNG plots (quality against time limit for suites run with
        several limits, savings by region against ``carbon-agnostic``).

    Returns
    -------
    str
        The markdown, also written to ``out_dir / "report.md"``; plots are
        linked from it by file name.

    Raises
    ------
    ValueError
        If no results file is given.
    FileNotFoundError
        If a results file does not exist.

    Examples
    --------
    >>> md = report([Path("results/small.jsonl")], plots=False)  # doctest: +SKIP
    """
    paths = [Path(p) for p in results_paths]
    if not paths:
        raise ValueError("report needs at least one results file")
    rows = load_results(paths)
    out = Path(out_dir) if out_dir is not None else paths[0].with_name(f"{paths[0].stem}-report")
    out.mkdir(parents=True, exist_ok=True)
    md = ["# Benchmark report", "",
          "Results: " + ", ".join(f"`{p}`" for p in paths) + f" ({len(rows)} runs).", ""]
    if not rows:
        md += ["No results.", ""]
    suites: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        suites[str(r.get("suite", "?"))].append(r)
    for suite, srows in suites.items():
        md += [f"## Suite `{suite}`", "", _protocol(srows), ""]
        groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
        for r in srows:
            groups[(r.get("time_limit"), r.get("workers"))].append(r)
        several_workers = len({w for _, w in groups}) > 1
        for (tl, workers), grows in sorted(groups.items(), key=lambda kv: (
                float(kv[0][0]) if isinstance(kv[0][0], (int, float)) else math.inf,
                kv[0][1] if isinstance(kv[0][1], int) else 0)):
            label = ""
            if len(groups) > 1:
                label = f"time limit {_seconds(tl)}" + (f", {workers} worker(s)"
                                                        if several_workers else "")
                md += [f"### {label}", ""]
            h = "####" if label else "###"
            md += [f"{h} Solvers", "", _solver_table(grows), ""]
            fails = _failures(grows)
            n_err = sum(r.get("status") == "error" for r in grows)
            md += [f"Errors: {n_err}; invalid plans: "
                   f"{sum(r.get('status') != 'error' and not r.get('valid') for r in grows)}; "
                   f"runs that hit the time limit: {sum(_hit_limit(r) for r in grows)}.", ""]
            if fails:
                md += [fails, ""]
            md += [f"{h} Instances", "", _instance_table(grows), ""]
            classic = _classic_table(grows)
            if classic:
                md += [f"{h} Classic instances: gap to the published optimum", "", classic, ""]
            bounds = savings_mod.bounds_for(grows)
            saved = savings_mod.section(grows, bounds, heading=h)
            if saved:
                md += [saved, ""]
            if plots:
                name = _slug(suite) + (f"-t{tl:g}" if len(groups) > 1 and isinstance(
                    tl, (int, float)) else "") + (f"-w{workers}" if several_workers else "")
                png = savings_mod.plot_slack(grows, out / f"{name}-slack.png", bounds,
                                             title=f"{suite}: carbon saved at equal work")
                if png:
                    md += [f"![carbon saved against slack]({png.name})", ""]
                png = plot_savings(grows, out / f"{name}-savings.png",
                                   title=f"{suite}" + (f", {label}" if label else ""))
                if png:
                    md += [f"![savings against {REFERENCE}]({png.name})", ""]
        if plots:
            png = plot_time_limits(srows, out / f"{_slug(suite)}-time-limits.png", title=suite)
            if png:
                md += ["### Quality against time limit", "",
                       f"![quality against time limit]({png.name})", ""]
    text = "\n".join(md).rstrip() + "\n"
    (out / "report.md").write_text(text, encoding="utf-8")
    return text


# ---------------------------------------------------------------------------
# One plan: Gantt chart and power against caps
# ---------------------------------------------------------------------------


def _tier_colors(tiers: list[int]) -> dict[int, Any]:
    """Highest tier first: a warm-to-cool scale, distinct for few tiers."""
    if len(tiers) <= 10:
        return dict(zip(tiers, _colors(len(tiers)), strict=True))
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return {t: cmap(i / max(1, len(tiers) - 1)) for i, t in enumerate(tiers)}


def _gantt(problem: Problem, plan: Plan, ax: Axes) -> None:
    from matplotlib.patches import Patch

    H = problem.horizon.slots
    region_order = {g.id: k for k, g in enumerate(problem.regions)}
    nodes = sorted(((n, name) for n in problem.nodes for name in n.names),
                   key=lambda nn: region_order.get(nn[0].region, 0))  # stable: file order kept
    y_of = {name: i for i, (_, name) in enumerate(nodes)}
    jobs = {j.id: j for j in problem.jobs}
    tiers = problem.tiers
    colors = _tier_colors(tiers)
    # maintenance windows
    for i, (node, _) in enumerate(nodes):
        for s, e in node.unavailable:
            ax.barh(i, min(e, H) - s, left=s, height=0.8, color="#dddddd", hatch="//",
                    edgecolor="#999999", lw=0)
    # Jobs sharing a node at the same time go in lanes of the node's row.
    spans: dict[str, list[tuple[int, int, Any]]] = defaultdict(list)
    for a in plan.assignments:
        job = jobs.get(a.job)
        if job is None:
            continue
        for name in a.nodes:
            if name in y_of:
                spans[name].append((a.start, a.start + job.duration, job))
    bars: dict[int, list[tuple[float, float, int, float, Any]]] = {t: [] for t in tiers}
    for name, items in spans.items():
        items.sort(key=lambda it: (it[0], it[1]))
        lane_end: list[int] = []  # per lane, the end of its last bar
        lanes = []
        for start, end, _ in items:
            k = next((i for i, e in enumerate(lane_end) if e <= start), len(lane_end))
            if k == len(lane_end):
                lane_end.append(end)
            lane_end[k] = end
            lanes.append(k)
        height = 0.8 / len(lane_end)
        for (start, end, job), k in zip(items, lanes, strict=True):
            y = y_of[name] - 0.4 + (k + 0.5) * height
            bars[job.priority].append((y, height * 0.9, start, end - start, job))
    label = len(plan.assignments) <= 40
    for t in tiers:
        if not bars[t]:
            continue
        ys, hs, lefts, widths, js = zip(*bars[t], strict=True)
        cont = ax.barh(ys, widths, left=lefts, height=hs, color=colors[t], edgecolor="black",
                       linewidth=[1.6 if j.required else 0.5 for j in js], alpha=0.85)
        if not label:
            continue
        for patch, y, h, left, width, job in zip(cont.patches, ys, hs, lefts, widths, js,
                                                 strict=True):
            text = ax.text(left + width / 2, y, job.id, ha="center", va="center",
                           fontsize=7 if h > 0.3 else 6)
            text.set_clip_path(patch)  # a long name is cut at its bar's edges
    # region bands: a rule between regions, the region's name on the right
    k = 0
    while k < len(nodes):
        end = k
        while end < len(nodes) and nodes[end][0].region == nodes[k][0].region:
            end += 1
        ax.text(1.005, (k + end - 1) / 2, nodes[k][0].region, transform=ax.get_yaxis_transform(),
                rotation=-90, va="center", ha="left", fontsize=8)
        if k > 0:
            ax.axhline(k - 0.5, color="grey", lw=0.8)
        k = end
    ax.set_xlim(0, H)
    ax.set_ylim(len(nodes) - 0.5, -0.5)
    if len(nodes) <= 60:
        ax.set_yticks(range(len(nodes)), [name for _, name in nodes], fontsize=7)
    else:
        step = math.ceil(len(nodes) / 60)
        ax.set_yticks(range(0, len(nodes), step), [nodes[i][1] for i in range(0, len(nodes), step)],
                      fontsize=6)
    ax.set_xlabel(f"slot ({problem.horizon.slot_hours:g} h each)")
    ax.grid(axis="x", alpha=0.3)
    handles = [Patch(color=colors[t], label=f"priority {t}") for t in tiers]
    if any(j.required for j in problem.jobs):
        handles.append(Patch(facecolor="white", edgecolor="black", lw=1.6, label="required"))
    if any(n.unavailable for n in problem.nodes):
        handles.append(Patch(facecolor="#dddddd", hatch="//", edgecolor="#999999",
                             label="unavailable"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.03, 1.0))
    ax.set_title(f"{problem.name}: {plan.solver}, {plan.status}; {len(plan.assignments)} placed, "
                 f"{len(plan.unplaced)} unplaced", fontsize=10)


def _series(val: Any, H: int) -> np.ndarray:
    if isinstance(val, (int, float)):
        return np.full(H, float(val))
    return np.asarray(val, dtype=float)


def plot_plan(problem: Problem, plan: Plan, out_dir: Path) -> dict[str, Path]:
    """Draw one plan: a Gantt chart by node and each region's power against its cap.

    Parameters
    ----------
    problem
        The problem the plan solves.
    plan
        A plan of ``problem`` (e.g. from :func:`allocopt.solve` or
        :meth:`allocopt.Plan.from_dict`).
    out_dir
        Directory for the PNG files (created if needed).

    Returns
    -------
    dict
        ``{"gantt": path, "power": path}``: ``<problem>-gantt.png`` (nodes on
        y grouped by region, slots on x, one bar per replica coloured by
        priority tier, required jobs with a thick edge, maintenance hatched,
        job labels when there are at most 40 jobs placed) and
        ``<problem>-power.png`` (one panel per region: facility power per slot,
        recomputed by :func:`allocopt.validate.compute_metrics`, and the
        ``power_cap_kw`` step line where the region has one; slots over the
        cap are shaded red).
    """
    from allocopt.validate import compute_metrics

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = _slug(problem.name or "plan")
    H = problem.horizon.slots
    n_nodes = len(problem.node_names())

    fig = _figure(min(18.0, 8.0 + H / 12), min(60.0, max(3.0, 1.6 + 0.28 * n_nodes)))
    _gantt(problem, plan, fig.add_subplot())
    gantt = out / f"{stem}-gantt.png"
    fig.savefig(gantt)

    parts: dict[str, Any] = {}
    metrics = compute_metrics(problem, plan.assignments, _parts=parts)
    power = parts["power"]
    G = len(problem.regions)
    ncols = 1 if G <= 4 else (2 if G <= 8 else 3)
    nrows = math.ceil(G / ncols)
    fig = _figure(min(18.0, 7.0 + H / 16) * (1 if ncols == 1 else 0.75 * ncols), 2.1 * nrows + 0.6)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
    edges = np.arange(H + 1)
    for g, region in enumerate(problem.regions):
        ax = axes[g]
        ax.stairs(power[g], edges, fill=True, color="#4c78a8", alpha=0.35)
        ax.stairs(power[g], edges, color="#4c78a8", lw=1.4, baseline=None, label="power")
        title = f"{region.id}: {metrics['energy_kwh_by_region'][region.id]:.1f} kWh"
        if region.energy_budget_kwh is not None:
            title += f" (budget {region.energy_budget_kwh:g})"
        top = float(power[g].max(initial=0.0))
        if region.power_cap_kw is not None:
            cap = _series(region.power_cap_kw, H)
            ax.stairs(cap, edges, color="#d62728", lw=1.4, ls="--", baseline=None, label="cap")
            over = power[g] > cap + 1e-6 * np.maximum(1.0, cap)
            for t in np.nonzero(over)[0]:
                ax.axvspan(t, t + 1, color="#d62728", alpha=0.2, lw=0)
            top = max(top, float(cap.max(initial=0.0)))
        ax.set_ylim(0, top * 1.12 if top > 0 else 1.0)
        ax.set_xlim(0, H)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("kW", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[G:]:
        ax.set_visible(False)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="#4c78a8", lw=1.4, label="facility power")]
    if any(r.power_cap_kw is not None for r in problem.regions):
        handles.append(Line2D([], [], color="#d62728", lw=1.4, ls="--", label="power_cap_kw"))
    fig.legend(handles=handles, loc="outside upper right", fontsize=8, ncols=len(handles))
    for ax in axes[max(0, G - ncols):G]:  # the lowest panel of each column
        ax.xaxis.set_tick_params(labelbottom=True)
        ax.set_xlabel(f"slot ({problem.horizon.slot_hours:g} h each)")
    fig.suptitle(f"{problem.name}: facility power by region ({plan.solver})", fontsize=11)
    power_png = out / f"{stem}-power.png"
    fig.savefig(power_png)
    return {"gantt": gantt, "power": power_png}
