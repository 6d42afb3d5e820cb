"""The ``allocopt`` command line: a thin layer over the library.

It parses arguments, calls :func:`allocopt.solve` / :func:`allocopt.validate`,
prints a short summary with rich and writes the plan. It holds no modelling.

Adding a command is one function::

    @app.command()
    def report(plan: Path) -> None:
        \"\"\"One-line help.\"\"\"
        ...

Bad input is reported by raising :class:`~allocopt.errors.ProblemError`
(or calling :func:`fail`): the app prints every message to stderr and exits
with :data:`EXIT_BAD_INPUT`. Any other exception becomes a one-line error and
:data:`EXIT_ERROR` (the traceback only with ``--debug``). Commands return
their own exit code by raising ``typer.Exit(code)``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from . import hygiene
from .errors import MAX_ERRORS_SHOWN, ProblemError, printable
from .formats import load_problem, read_data, write_json
from .params import SolveParams
from .plan import Plan, SolveStatus, gaps_text
from .problem import Problem
from .solve import solve, solvers
from .validate import RULES, Violation, compute_metrics, is_valid, validate

#: Exit codes (documented in ``--help``).
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3

MAX_UNPLACED_SHOWN = 10
#: Seconds of ``--time-limit`` kept for writing the plan and the summary, and
#: the least time a solve gets when loading took (nearly) all of it.
WRITE_RESERVE_S = 0.1
MIN_SOLVE_S = 0.05
_DEBUG_KEY = "allocopt.debug"

EXIT_CODES_HELP = """\
Exit codes: 0 valid plan, every required job placed; 1 unexpected error, no
valid plan found (status "unknown") or, for validate, a plan that breaks a rule;
2 bad input (problem, plan, params file or option values; every message is
printed to stderr); 3 infeasible: a required job cannot be placed (the plan is
still written; for validate, a plan whose status says "infeasible" and whose
only violations are unplaced required jobs)."""


# ---------------------------------------------------------------------------
# Error handling shared by every command
# ---------------------------------------------------------------------------


class _Group(TyperGroup):
    """Maps exceptions of any command to exit codes, without tracebacks."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProblemError as e:
            _print_errors(e.errors)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except BrokenPipeError:
            # The reader went away (``allocopt solvers | head``): stop quietly,
            # as a Unix filter does; later writes to stdout go nowhere.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except Exception as e:
            # typer's (or click's) own signals: usage errors, Exit, Abort.
            if type(e).__module__.split(".")[0] in ("typer", "click"):
                raise
            if ctx.meta.get(_DEBUG_KEY):
                raise
            text = str(e).strip()
            what = f"{type(e).__name__}: {text.splitlines()[0]}" if text else type(e).__name__
            _err(f"error: {what} (run with --debug for the traceback)")
            raise typer.Exit(EXIT_ERROR) from None


def _set_debug(ctx: typer.Context, value: bool) -> bool:
    # ctx.meta is shared by the group's and every sub-command's context.
    if value:
        ctx.meta[_DEBUG_KEY] = True
    _setup_logging(bool(ctx.meta.get(_DEBUG_KEY)))
    return value


#: ``--debug``: usable as ``allocopt --debug CMD`` and, for commands that
#: declare it, as ``allocopt CMD --debug``.
DebugOption = Annotated[
    bool,
    typer.Option("--debug", help="Show tracebacks and debug logs.", callback=_set_debug),
]


def _err(line: str) -> None:
    """One plain line on stderr (no markup, no wrapping)."""
    print(line, file=sys.stderr)


def _print_errors(messages: Sequence[str]) -> None:
    messages = list(messages) or ["bad input"]
    for m in messages[:MAX_ERRORS_SHOWN]:
        _err("error: " + printable(" ".join(str(m).split())))  # one message, one line
    if len(messages) > MAX_ERRORS_SHOWN:
        _err(f"error: ... and {len(messages) - MAX_ERRORS_SHOWN} more")


def fail(*messages: str) -> NoReturn:
    """Report bad input: every message on stderr, exit :data:`EXIT_BAD_INPUT`."""
    raise ProblemError(list(messages))


class _FirstLineFormatter(logging.Formatter):
    """Log records as one line: tracebacks stay out unless ``--debug``."""

    def __init__(self, debug: bool):
        super().__init__("%(levelname)s: %(name)s: %(message)s")
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if self.debug else text.splitlines()[0]

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return super().formatException(ei) if self.debug else ""


class _StderrHandler(logging.Handler):
    """Writes to the *current* ``sys.stderr`` (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr)
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


def _setup_logging(debug: bool) -> None:
    root = logging.getLogger()
    mine = [h for h in root.handlers if isinstance(h, _StderrHandler)]
    if root.handlers and not mine:
        return  # someone (an embedding program, pytest) configured logging
    handler = mine[0] if mine else _StderrHandler()
    handler.setFormatter(_FirstLineFormatter(debug))
    if not mine:
        root.addHandler(handler)
    for name in ("allocopt",):
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)


app = typer.Typer(
    cls=_Group,
    name="allocopt",
    help="Plan where and when AI compute jobs run (regions, nodes, time slots, energy).\n\n"
    + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            text = version("allocopt")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            text = "unknown"
        typer.echo(f"allocopt {text}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    debug: DebugOption = False,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_version,
                     is_eager=True),
    ] = False,
) -> None:
    """Plan where and when AI compute jobs run."""


# ---------------------------------------------------------------------------
# solve
# ---------------------------------------------------------------------------


@app.command("solve", epilog=EXIT_CODES_HELP)
def solve_cmd(
    problem: Annotated[Path, typer.Argument(help="Problem file (.json, .yaml or .yml).")],
    solver: Annotated[
        str, typer.Option("--solver", help="Planner name; see `allocopt solvers`.")
    ] = "cpsat",
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Seconds for the whole solve (> 0).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Solver threads (>= 1).")] = None,
    params: Annotated[
        Path | None,
        typer.Option("--params", help="TOML file with solver parameters ([solve] table)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o",
                     help="Where to write the plan JSON [default: ./<problem stem>.plan.json]."),
    ] = None,
    bound: Annotated[
        str | None,
        typer.Option("--bound", help="'lp': when the plan has no proof, attach the LP-relaxation "
                                     "bound (up to --time-limit more seconds)."),
    ] = None,
    parts: Annotated[
        int | None,
        typer.Option("--parts", help="cpsat: solve in K parts (POP decomposition); "
                                     "default: chosen from the model size, 1: off."),
    ] = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="Where parts run: local (default) or ray.")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Ray cluster to join (default: start a local Ray)."),
    ] = None,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Print no progress and no summary.")] = False,
    solver_log: Annotated[bool, typer.Option(
        "--log", help="Print the raw solver log (stderr), each line labelled with its stage.")
    ] = False,
    fmt: Annotated[str, typer.Option(
        "--format", help="json (the plan) or csv (one row per replica with energy, cost and "
                         "carbon attributed; for spreadsheets).")] = "json",
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="Previous plan (re-planning): jobs keep its placements "
                                        "as `planned`; moves are counted against it."),
    ] = None,
    move_cost: Annotated[float | None, typer.Option(
        "--move-cost", help="Set objective.move_cost (re-planning: what moving a planned job "
                            "costs, inside cost).")] = None,
    stability_tier: Annotated[int | None, typer.Option(
        "--stability-tier", help="Set objective.stability_tier (extension): rank moves right "
                                 "below this tier, above the lower tiers.")] = None,
    debug: DebugOption = False,
) -> None:
    """Solve a problem and write the plan as JSON (or CSV).

    Shows one live progress line per stage on stderr (off with --quiet).
    Ctrl-C stops the search and writes the best plan so far (exit 130);
    a second Ctrl-C quits at once."""
    began = time.monotonic()
    errors: list[str] = []
    loaded: Problem | None = None
    try:
        loaded = load_problem(problem)
    except ProblemError as e:
        errors += e.errors
    if loaded is not None and (move_cost is not None or stability_tier is not None):
        obj = {**loaded.objective.model_dump(mode="python"),
               **({"move_cost": move_cost} if move_cost is not None else {}),
               **({"stability_tier": stability_tier} if stability_tier is not None else {})}
        try:
            loaded = loaded.replace(objective=obj)
        except ProblemError as e:
            loaded = None
            errors += e.errors
    prev_plan: Plan | None = None
    if previous is not None:
        try:
            prev_plan = load_plan(previous)
        except ProblemError as e:
            errors += [f"--previous: {m}" for m in e.errors]
    try:
        base = SolveParams.from_file(params) if params is not None else SolveParams()
        overrides = {"time_limit": time_limit, "seed": seed, "workers": workers,
                     "parts": parts, "engine": engine, "ray_address": ray_address}
        solve_params = SolveParams(
            **{**base.__dict__, **{k: v for k, v in overrides.items() if v is not None}}
        ).checked()
    except ProblemError as e:
        errors += [_option_error(m) for m in e.errors]
    known = solvers()
    if solver not in known:
        errors.append(f"--solver: unknown solver {solver!r} (known: {', '.join(known)})")
    if fmt not in ("json", "csv"):
        errors.append(f"--format: {fmt!r} is not json or csv")
    out_path = out if out is not None else Path.cwd() / f"{problem.stem}.plan.{fmt}"
    if engine == "ray" and importlib.util.find_spec("ray") is None:
        errors.append("--engine ray: Ray is not installed (pip install 'allocopt[ray]')")
    if bound not in (None, "lp"):
        errors.append(f"--bound: unknown bound {bound!r} (known: lp)")
    if out_path.is_dir():
        errors.append(f"--out: {str(out_path)!r} is a directory")
    elif not out_path.parent.is_dir():
        errors.append(f"--out: directory {str(out_path.parent)!r} does not exist")
    if errors:
        fail(*errors)
    assert loaded is not None

    from .cli_progress import EXIT_INTERRUPTED, LiveProgress, interrupt_handler

    # The time limit covers start-up, loading and validation too.
    solve_params = dataclasses.replace(solve_params, log=solve_params.log or solver_log,
                                       time_limit=max(MIN_SOLVE_S, solve_params.time_limit
                                                      - hygiene.elapsed(began) - WRITE_RESERVE_S))
    shown = LiveProgress()
    with interrupt_handler(quiet), (shown if not quiet else contextlib.nullcontext()):
        # Quiet still passes a callback: it makes the solve stoppable by Ctrl-C
        # within a second even while a model is being built.
        plan = solve(loaded, solver=solver, params=solve_params, bound=bound,
                     previous=prev_plan, on_progress=(lambda ev: None) if quiet else shown)
    if fmt == "csv":
        from .records import records_csv

        out_path.write_text(records_csv(loaded, plan), encoding="utf-8")
    else:
        write_json(plan.to_dict(), out_path)

    if not quiet:
        console = Console(highlight=False)
        print_summary(console, loaded, plan, greedy=shown.greedy)
        if prev_plan is not None or any(j.running or j.planned for j in loaded.jobs):
            console.print(f"re-planning: {plan.metrics.get('moves', 0)} planned job(s) moved, "
                          f"move cost {_fmt(plan.metrics.get('move_cost', 0.0))}")
        console.print(f"Plan written to {escape(str(out_path))}", soft_wrap=True)
    if plan.interrupted:
        _err("interrupted: the plan is the best found before Ctrl-C (valid, not searched to "
             "the limit)")
        raise typer.Exit(EXIT_INTERRUPTED)

    if plan.status == SolveStatus.INFEASIBLE:
        if not quiet:
            _err("infeasible: a required job cannot be placed (see the unplaced reasons)")
        raise typer.Exit(EXIT_INFEASIBLE)
    if plan.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        _err(f"no valid plan found (status {plan.status})")
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(EXIT_OK)


def _option_error(message: str) -> str:
    """A parameter check's message, named by its CLI option where it has one."""
    if message.startswith(("params", "--")):
        return message
    name = message.split(" ", 1)[0]
    if name in ("time_limit", "seed", "workers"):
        return f"--{name.replace('_', '-')}: {message}"
    return f"solve parameters: {message}"


def _fmt(x: Any) -> str:
    """A number for humans: thousands separators, a few decimals."""
    if x is None:
        return "-"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, int) or float(x).is_integer():
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.1f}"
    if abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.4g}"


def tier_rows(problem: Problem, plan: Plan) -> list[tuple[int, int, int, float, float]]:
    """Per priority tier, highest first: (tier, placed, unplaced, placed value, total value)."""
    placed = plan.placed_ids
    rows = []
    for tier in problem.tiers:
        jobs = [j for j in problem.jobs if j.priority == tier]
        done = [j for j in jobs if j.id in placed]
        rows.append((tier, len(done), len(jobs) - len(done),
                     float(sum(j.value for j in done)), float(sum(j.value for j in jobs))))
    return rows


def print_summary(console: Console, problem: Problem, plan: Plan,
                  metrics: dict[str, Any] | None = None,
                  greedy: dict[str, Any] | None = None) -> None:
    """The human summary of a plan: status, tiers, energy and cost, bound and
    gap per stage, energy and carbon per region, the gain over the greedy
    plan (given its metrics as ``greedy``), unplaced jobs."""
    m = plan.metrics if metrics is None else metrics
    console.print(
        f"[bold]{escape(printable(plan.problem or problem.name))}[/]: status [bold]{plan.status}[/], "
        f"solver {escape(printable(plan.solver))}", soft_wrap=True)
    if plan.fallback:
        console.print(f"fallback: {escape(printable(plan.fallback))}", soft_wrap=True)

    tiers = Table(title="Jobs by priority tier", title_justify="left")
    for col in ("tier", "placed", "unplaced", "placed value", "total value"):
        tiers.add_column(col, justify="right")
    for tier, n_in, n_out, v_in, v_tot in tier_rows(problem, plan):
        tiers.add_row(str(tier), str(n_in), str(n_out), _fmt(v_in), _fmt(v_tot))
    console.print(tiers)
    required = [j.id for j in problem.jobs if j.required]
    if required:
        n_req = len(set(required) & plan.placed_ids)
        console.print(f"required jobs placed: {n_req} of {len(required)}")

    figures = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    figures.add_column(justify="left")
    figures.add_column(justify="right")
    for label, key in (("energy kWh", "energy_kwh"), ("energy cost", "energy_cost"),
                       ("carbon kg", "carbon_kg"), ("carbon cost", "carbon_cost"),
                       ("tardiness", "tardiness"), ("node cost", "node_cost"),
                       ("cost", "cost")):
        if key in m:
            figures.add_row(label, _fmt(m[key]))
    if isinstance(m.get("objective"), (int, float)):
        figures.add_row("objective (value - cost)", _fmt(m["objective"]))
    if plan.gap is not None:
        figures.add_row("gap (largest over the stages)", f"{plan.gap:.2%}")
    if plan.gaps:
        figures.add_row("gaps", gaps_text(plan.gaps))
    figures.add_row("seconds", f"{plan.solve_seconds:.2f}")
    console.print(figures)
    from .summary import print_details

    print_details(console, problem, plan.replace(metrics=m) if m else plan, greedy)

    if plan.unplaced:
        console.print(f"[bold]unplaced jobs ({len(plan.unplaced)}):[/]")
        for u in plan.unplaced[:MAX_UNPLACED_SHOWN]:
            console.print(f"  {escape(printable(u.job))}: {escape(printable(u.reason))}", soft_wrap=True)
        if len(plan.unplaced) > MAX_UNPLACED_SHOWN:
            console.print(f"  ... and {len(plan.unplaced) - MAX_UNPLACED_SHOWN} more")


# ---------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------


def load_plan(path: Path) -> Plan:
    """Read a plan file; a malformed one raises :class:`ProblemError`."""
    return Plan.from_dict(read_data(path, "plan"))


def load_problem_and_plan(problem: Path, plan: Path
                          ) -> tuple[Problem | None, Plan | None, list[str]]:
    """Both files, and every error of both (None for a file that failed)."""
    errors: list[str] = []
    loaded: Problem | None = None
    got: Plan | None = None
    try:
        loaded = load_problem(problem)
    except ProblemError as e:
        errors += e.errors
    try:
        got = load_plan(plan)
    except ProblemError as e:
        errors += e.errors
    return loaded, got, errors


@app.command("validate", epilog=EXIT_CODES_HELP)
def validate_cmd(
    problem: Annotated[Path, typer.Argument(help="Problem file (.json, .yaml or .yml).")],
    plan: Annotated[Path, typer.Argument(help="Plan file (.json).")],
    debug: DebugOption = False,
) -> None:
    """Check a plan against a problem; print violations and recomputed metrics."""
    loaded, got, errors = load_problem_and_plan(problem, plan)
    if errors:
        fail(*errors)
    assert loaded is not None and got is not None

    violations = validate(loaded, got)
    metrics = compute_metrics(loaded, got.assignments)
    console = Console(highlight=False)
    if got.problem and got.problem != loaded.name:
        _err(f"warning: the plan names problem {got.problem!r}, the problem file is "
             f"{loaded.name!r}")
    print_violations(console, violations)
    console.print("recomputed metrics:")
    print_summary(console, loaded, got.replace(metrics=metrics))
    raise typer.Exit(validate_exit_code(got, violations))


def validate_exit_code(plan: Plan, violations: list[Violation]) -> int:
    """0 valid; 3 only unplaced required jobs in an ``infeasible`` plan; 1 otherwise."""
    if not violations:
        return EXIT_OK
    if is_valid(plan, violations):
        return EXIT_INFEASIBLE
    return EXIT_ERROR


def print_violations(console: Console, violations: list[Violation]) -> None:
    """Violations grouped by rule, in :data:`RULES` order."""
    if not violations:
        console.print("[bold green]valid[/]: no rule is broken")
        return
    console.print(f"[bold red]{len(violations)} violation(s)[/]")
    order = {r: k for k, r in enumerate(RULES)}
    rules = sorted({v.rule for v in violations}, key=lambda r: (order.get(r, len(RULES)), r))
    for rule in rules:
        group = [v for v in violations if v.rule == rule]
        console.print(f"[bold]{escape(rule)}[/] ({len(group)}):")
        for v in group:
            console.print(f"  {escape(printable(v.message))}", soft_wrap=True)


# ---------------------------------------------------------------------------
# schema, solvers
# ---------------------------------------------------------------------------


def plan_json_schema() -> dict[str, Any]:
    """JSON Schema of the plan format (PLAN.md), from the plan parser's model."""
    from .plan import _PlanIn  # the parser's input model is the format's one source

    schema = _PlanIn.model_json_schema()
    schema["title"] = "Plan"
    schema["properties"]["status"]["enum"] = [s.value for s in SolveStatus]
    return schema


@app.command()
def schema(
    plan: Annotated[bool, typer.Option("--plan", help="The plan format instead.")] = False,
) -> None:
    """Print the JSON Schema of the problem format (or, with --plan, of plans)."""
    data = plan_json_schema() if plan else Problem.model_json_schema()
    typer.echo(json.dumps(data, indent=2))


@app.command("solvers")
def solvers_cmd() -> None:
    """List the names --solver accepts: one per line, name first."""
    table = solvers()
    width = max((len(n) for n in table), default=0) + 2
    for name, info in table.items():
        note = "" if info.available() else " (not installed)"
        typer.echo(f"{name:<{width}}{info.kind:<11}{info.description}{note}")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``allocopt`` and ``python -m allocopt`` (exits the process).

    Called without ``argv`` (as the process's own command) the time limit
    counts from the process start, SIGTERM exits cleanly and the process ends
    without the interpreter's teardown. Called with ``argv`` from a program
    (tests, a notebook), it only raises ``SystemExit`` with the exit code.
    """
    own_process = argv is None
    if own_process:
        hygiene.mark_start()
        hygiene.exit_on_sigterm()
    try:
        app(args=list(argv) if argv is not None else None, prog_name="allocopt")
    except SystemExit as e:
        if own_process:
            hygiene.quick_exit(e.code)
        raise


# More commands (generate, import, export, bench, report) live in their own
# module; importing it registers them on ``app``.
from . import cli_tools as _cli_tools  # noqa: E402, F401
from . import cli_view as _cli_view  # noqa: E402, F401
from . import cli_replan as _cli_replan  # noqa: E402, F401
