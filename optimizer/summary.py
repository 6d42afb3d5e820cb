"""Parts of the CLI's plan summary: bound and gap per stage, energy and carbon
per region, and what the solver gained over the greedy plan."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .plan import Plan
from .problem import Problem
from .view import stage_rows


def num(x: Any) -> str:
    """A rounded number for people: thousands separators, 3-4 significant digits."""
    if x is None:
        return "-"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    a = abs(x)
    if float(x).is_integer() and a < 1e15:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:,.1f}"
    if a >= 1:
        return f"{x:,.2f}"
    return f"{x:.3g}"


def _signed(d: float, base: float) -> str:
    pct = f" ({d / abs(base):+.1%})" if abs(base) > 1e-12 else ""
    return ("+" if d > 0 else "") + num(d) + pct


def print_details(console: Console, problem: Problem, plan: Plan,
                  greedy: dict[str, Any] | None = None) -> None:
    """Stage bounds and gaps, per-region energy and carbon, gain over greedy."""
    m = plan.metrics
    if not m:
        return
    rows = stage_rows(problem, plan)
    if any(r["bound"] is not None for r in rows):
        t = Table(title="Bound and gap per objective stage", title_justify="left")
        for col in ("stage", "plan", "bound", "gap"):
            t.add_column(col, justify="right")
        for r in rows:
            what = "max" if r["sense"] == "max" else "min"
            t.add_row(f"{r['stage']} ({what})", num(r["value"]), num(r["bound"]),
                      "-" if r["gap"] is None else f"{r['gap']:.2%}")
        console.print(t)
    by_e, by_c = m.get("energy_kwh_by_region") or {}, m.get("carbon_kg_by_region") or {}
    if by_e:
        t = Table(title="Energy and carbon by region", title_justify="left")
        for col in ("region", "energy kWh", "carbon kg CO2e", "g CO2e/kWh"):
            t.add_column(col, justify="right")
        for g, e in by_e.items():
            c = by_c.get(g, 0.0)
            t.add_row(escape(g), num(e), num(c), num(1000 * c / e) if e > 1e-12 else "-")
        console.print(t)
    if greedy and plan.solver != "greedy":
        t = Table(title="Gain over the greedy plan", title_justify="left")
        for col in ("", "greedy", "this plan", "change"):
            t.add_column(col, justify="right")
        for tier in problem.tiers:
            a = float(greedy["placed_value_by_priority"].get(str(tier), 0.0))
            b = float(m["placed_value_by_priority"].get(str(tier), 0.0))
            t.add_row(f"placed value, tier {tier}", num(a), num(b), _signed(b - a, a))
        for key, label in (("placed_jobs", "placed jobs"), ("energy_kwh", "energy kWh"),
                           ("carbon_kg", "carbon kg CO2e"), ("cost", "cost")):
            if key in greedy and key in m:
                a, b = float(greedy[key]), float(m[key])
                t.add_row(label, num(a), num(b), _signed(b - a, a))
        console.print(t)
