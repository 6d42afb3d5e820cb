"""CLI command ``allocopt view``: a plan as a self-contained HTML page or a PNG/SVG figure.

Registered on :data:`allocopt.cli.app` when the CLI loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli import DebugOption, app, fail, load_plan
from .errors import ProblemError
from .formats import load_problem


@app.command("view")
def view_cmd(
    problem: Annotated[Path, typer.Argument(help="Problem file (.json, .yaml or .yml).")],
    plan: Annotated[Path, typer.Argument(help="Plan file (.json) of that problem.")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="File to write: .html (interactive page, no network needed), "
                            ".png or .svg (static figure; needs the plots extra).")],
    compare: Annotated[Path | None, typer.Option(
        "--compare", help="A second plan of the same problem: side by side, with the moved "
                          "jobs listed (HTML only).")] = None,
    debug: DebugOption = False,
) -> None:
    """Look at a plan: Gantt chart, power against caps, prices, carbon, unplaced jobs, gaps."""
    from .view import check_plan_fits, write_figure, write_html

    errors: list[str] = []
    loaded = got = other = None
    for what, path in (("problem", problem), ("plan", plan), ("compare", compare)):
        if path is None:
            continue
        try:
            if what == "problem":
                loaded = load_problem(path)
            elif what == "plan":
                got = load_plan(path)
            else:
                other = load_plan(path)
        except ProblemError as e:
            errors += [m if what != "compare" else f"--compare: {m}" for m in e.errors]
    kind = out.suffix.lower()
    if kind not in (".html", ".htm", ".png", ".svg"):
        errors.append(f"--out: {str(out)!r} must end in .html, .png or .svg")
    if compare is not None and kind in (".png", ".svg"):
        errors.append("--compare: only with an .html output")
    if out.is_dir() or not out.parent.is_dir():
        errors.append(f"--out: cannot write {str(out)!r} (a directory, or its folder is missing)")
    if loaded is not None:
        for label, p in (("plan", got), ("--compare", other)):
            if p is not None:
                try:
                    where = plan if label == "plan" else compare
                    check_plan_fits(loaded, p, f"{label} {str(where)!r}")
                except ProblemError as e:
                    errors += e.errors
    if errors:
        fail(*errors)
    assert loaded is not None and got is not None
    if kind in (".png", ".svg"):
        write_figure(loaded, got, out)
    else:
        write_html(loaded, got, out, compare=other,
                   labels=(plan.stem, compare.stem if compare is not None else "compare"))
    size = out.stat().st_size
    typer.echo(f"wrote {out} ({size / 1e6:.2f} MB)" if size >= 1e5
               else f"wrote {out} ({size:,} bytes)")
