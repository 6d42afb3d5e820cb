"""CLI commands of the re-planning loop: ``advance`` and ``diff``.

Registered on :data:`allocopt.cli.app` when the CLI loads; the logic lives
in :mod:`allocopt.replan` (``allocopt solve --previous`` is an option of
``solve``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .cli import DebugOption, app, fail, load_plan, load_problem_and_plan
from .errors import ProblemError
from .formats import save_problem
from .replan import advance, diff


@app.command("advance")
def advance_cmd(
    problem: Annotated[Path, typer.Argument(help="Problem file the plan was made for.")],
    plan: Annotated[Path, typer.Argument(help="Plan being carried out.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Problem file to write (.json/.yaml).")],
    slots: Annotated[int, typer.Option("--slots", help="Slots that have passed (1 .. H).")] = 1,
    debug: DebugOption = False,
) -> None:
    """Write the problem SLOTS slots later: ended jobs dropped, started ones
    running, the rest planned; series and windows shifted (see docs/PROBLEM.md)."""
    loaded, current, errors = load_problem_and_plan(problem, plan)
    if out.is_dir() or not out.parent.is_dir():
        errors.append(f"--out: {str(out)!r} is a directory or its directory does not exist")
    if errors:
        fail(*errors)
    assert loaded is not None and current is not None
    nxt = advance(loaded, current, slots)
    save_problem(nxt, out)
    running = sum(j.running is not None for j in nxt.jobs)
    planned = sum(j.planned is not None for j in nxt.jobs)
    Console(highlight=False).print(
        f"{len(loaded.jobs) - len(nxt.jobs)} job(s) ended, {running} running, {planned} planned, "
        f"{len(nxt.jobs) - running - planned} other; written to {escape(str(out))}",
        soft_wrap=True)


def _num(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:,.3f}".rstrip("0").rstrip(".") if x == x else "nan"
    return f"{x:,}" if isinstance(x, int) else str(x)


@app.command("diff")
def diff_cmd(
    plan_a: Annotated[Path, typer.Argument(help="The earlier plan.")],
    plan_b: Annotated[Path, typer.Argument(help="The later plan.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
    shift: Annotated[int, typer.Option(
        "--shift", help="PLAN_B is for the problem `advance --slots SHIFT` made: read "
                        "PLAN_A's starts SHIFT slots earlier.")] = 0,
    debug: DebugOption = False,
) -> None:
    """Compare two plans: moved, kept, added and dropped jobs, and the change of each metric."""
    errors: list[str] = []
    plans = []
    for path in (plan_a, plan_b):
        try:
            plans.append(load_plan(path))
        except ProblemError as e:
            errors += e.errors
    if errors:
        fail(*errors)
    if shift < 0:
        fail(f"--shift: must be >= 0, got {shift}")
    d = diff(*plans, shift=shift)
    if as_json:
        typer.echo(json.dumps(d, indent=1))
        return
    console = Console(highlight=False)
    console.print(f"kept {len(d['kept'])}, moved {len(d['moved'])}, added {len(d['added'])}, "
                  f"dropped {len(d['dropped'])}, ended {len(d['ended'])}")
    if d["moved"]:
        t = Table(title="moved jobs")
        for col in ("job", "start", "nodes"):
            t.add_column(col)
        for mv in d["moved"]:
            a, b = mv["from"], mv["to"]
            t.add_row(escape(mv["job"]), f"{a['start']} -> {b['start']}",
                      escape(f"{', '.join(a['nodes'])} -> {', '.join(b['nodes'])}"))
        console.print(t)
    for key in ("added", "dropped"):
        if d[key]:
            console.print(f"{key}: " + escape(", ".join(d[key])), soft_wrap=True)
    t = Table(title="metrics")
    for col, just in (("metric", "left"), ("A", "right"), ("B", "right"), ("change", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for name, m in d["metrics"].items():
        ch = m["change"]
        t.add_row(name, _num(m["a"]), _num(m["b"]), ("+" if ch > 0 else "") + _num(ch))
    console.print(t)
