"""CLI commands around solving: generate, import, export, bench, report.

Registered on :data:`allocopt.cli.app` when the CLI loads. Each one only
parses arguments and calls the library (``benchmarks`` and ``formulations``).
"""

from __future__ import annotations

import importlib.util

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .cli import DebugOption, _option_error, app, fail
from .errors import ProblemError
from .formats import load_problem, save_problem
from .params import SolveParams
from .problem import Problem


def _parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` or ``"0-4"`` or ``"3"`` -> list of ints."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            out += list(range(int(lo), int(hi) + 1)) if sep else [int(part)]
        except ValueError:
            fail(f"--seeds: {part!r} is not a seed, a range a-b or a list a,b,c")
    return out or [0]


@app.command("generate")
def generate_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Problem file to write (.json/.yaml).")],
    size: Annotated[str | None, typer.Option(
        "--size", help="Synthetic size: small, medium, large or xl.")] = None,
    from_trace: Annotated[bool, typer.Option(
        "--from-trace", help="Real data: Alibaba GPU trace jobs on 2023 grid curves.")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", help="Number of jobs.")] = None,
    nodes: Annotated[int | None, typer.Option("--nodes", help="Number of nodes.")] = None,
    regions: Annotated[int | None, typer.Option("--regions", help="Regions (synthetic).")] = None,
    slots: Annotated[int | None, typer.Option("--slots", help="Hourly slots.")] = None,
    zones: Annotated[str | None, typer.Option(
        "--zones", help="Real data: comma-separated GCP regions or grid zones.")] = None,
    start_hour: Annotated[int | None, typer.Option(
        "--start-hour", help="Real data: first hour of 2023 (UTC) of the horizon.")] = None,
    tightness: Annotated[float | None, typer.Option(
        "--tightness", help="Synthetic: demand over capacity (1.0 over-subscribed).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    debug: DebugOption = False,
) -> None:
    """Write a benchmark problem: synthetic (--size) or from real data (--from-trace)."""
    if from_trace == (size is not None):
        fail("generate: give exactly one of --size NAME or --from-trace")
    if not 0 <= seed < 2**63:
        fail(f"--seed: must be in 0..{2**63 - 1}, got {seed}")
    if from_trace:
        from allocopt.benchmarks.realdata import generate_from_trace

        kwargs = {k: v for k, v in dict(n_jobs=jobs, n_nodes=nodes, slots=slots,
                                         start_hour=start_hour).items() if v is not None}
        if zones:
            kwargs["zones"] = [z.strip() for z in zones.split(",") if z.strip()]
        data = generate_from_trace(seed=seed, **kwargs)
    else:
        from allocopt.benchmarks.generators import SIZES, generate_size

        if size not in SIZES:
            fail(f"--size: unknown size {size!r} (sizes: {', '.join(SIZES)})")
        over = {k: v for k, v in dict(num_jobs=jobs, num_nodes=nodes, num_regions=regions,
                                      slots=slots, tightness=tightness).items() if v is not None}
        data = generate_size(size, seed=seed, **over)
    problem = Problem.from_dict(data)
    save_problem(problem, out)
    typer.echo(f"wrote {out}: {len(problem.jobs)} jobs, {len(problem.node_names())} nodes, "
               f"{len(problem.regions)} regions, {problem.horizon.slots} slots")


@app.command("import")
def import_cmd(
    kind: Annotated[str, typer.Argument(help="Source format: bpplib, vbp or psplib.")],
    source: Annotated[Path, typer.Argument(help="Instance file in that format.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Problem file to write.")],
    debug: DebugOption = False,
) -> None:
    """Import a classic instance (bin packing, vector bin packing, RCPSP)."""
    from allocopt.benchmarks.importers import KINDS, import_file, known_optimum

    if kind not in KINDS:
        fail(f"import: unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
    try:
        data = import_file(kind, source)
    except (OSError, ValueError) as e:
        raise ProblemError([f"import {kind}: {e}"]) from None
    problem = Problem.from_dict(data)
    save_problem(problem, out)
    opt = known_optimum(kind, source)
    what = "bins" if kind in ("bpplib", "vbp") else "makespan"
    typer.echo(f"wrote {out}: {len(problem.jobs)} jobs"
               + (f"; published optimum {what} = {opt:g}" if opt is not None else ""))


@app.command("export")
def export_cmd(
    problem: Annotated[Path, typer.Argument(help="Problem file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="mps or lp.")] = "mps",
    stage: Annotated[str | None, typer.Option(
        "--stage", help="Objective stage: 'required', 'tier N', 'cost' or 'weighted' "
                        "[default: the first stage].")] = None,
    debug: DebugOption = False,
) -> None:
    """Export the MILP model (PuLP) as an MPS or LP file for any solver."""
    if fmt not in ("mps", "lp"):
        fail(f"--format: {fmt!r} is not mps or lp")
    from allocopt.formulations.export import export_model

    try:
        info = export_model(load_problem(problem), out, fmt, stage=stage)
    except ValueError as e:
        fail(f"--stage: {e}")
    typer.echo(f"wrote {out} (stage {info['stage']}, {info['variables']} variables, "
               f"{info['constraints']} constraints)")


@app.command("bench")
def bench_cmd(
    suite: Annotated[str, typer.Option(
        "--suite", help="Stored suite (data/bench/NAME or a directory), gen:SIZE, "
                        "or bpplib|vbp|psplib:PATH.")],
    solver_names: Annotated[str, typer.Option(
        "--solvers", help="Comma-separated solver names.")] = "greedy,cpsat",
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds per run.")] = 10.0,
    seeds: Annotated[str, typer.Option("--seeds", help="Seeds: 0,1,2 or 0-4.")] = "0",
    workers: Annotated[int, typer.Option("--workers", help="Solver threads per run.")] = 1,
    jobs: Annotated[int, typer.Option("--jobs", help="Runs in parallel (processes).")] = 1,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Results JSONL [default: results/<suite>.jsonl].")] = None,
    report_after: Annotated[bool, typer.Option(
        "--report/--no-report", help="Print the report tables at the end.")] = True,
    sample: Annotated[int | None, typer.Option(
        "--sample", help="Only the first N instances of the suite (file-name order).")] = None,
    lp_bound: Annotated[bool, typer.Option(
        "--lp-bound", help="Also record each plan's gap to the LP-relaxation bound "
                           "(computed after the run, up to --time-limit more seconds).")] = False,
    engine: Annotated[str, typer.Option(
        "--engine", help="Where rows run: local (process pool) or ray.")] = "local",
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", help="Ray cluster to join (default: start a local Ray).")] = None,
    debug: DebugOption = False,
) -> None:
    """Run every (instance, solver, seed) of a suite; resumable; one row per run."""
    from allocopt.benchmarks.run import run_bench
    from allocopt.solve import solvers

    names = [s.strip() for s in solver_names.split(",") if s.strip()]
    known = solvers()
    bad = [s for s in names if s not in known]
    errors = [f"--solvers: unknown solver {s!r} (known: {', '.join(known)})" for s in bad]
    try:
        seed_list = _parse_seeds(seeds)
        SolveParams(time_limit=time_limit, workers=workers,
                    seed=max(seed_list, key=lambda x: abs(x) + (x < 0))).checked()
    except ProblemError as e:
        errors += [_option_error(m) for m in e.errors]
    if jobs < 1 or jobs > 64:
        errors.append(f"--jobs must be in 1..64, got {jobs}")
    if sample is not None and sample < 1:
        errors.append(f"--sample must be >= 1, got {sample}")
    if engine not in ("local", "ray"):
        errors.append(f"--engine: unknown engine {engine!r} (known: local, ray)")
    elif engine == "ray" and importlib.util.find_spec("ray") is None:
        errors.append("--engine ray: Ray is not installed (pip install 'allocopt[ray]')")
    if errors:
        fail(*errors)
    try:
        path = run_bench(suite, names, time_limit=time_limit, seeds=_parse_seeds(seeds),
                         workers=workers, jobs=jobs, out=out, lp_bound=lp_bound,
                         sample=sample, engine=engine, ray_address=ray_address)
    except ValueError as e:
        fail(str(e))
    Console(highlight=False).print(f"results: {escape(str(path))}")
    if report_after:
        from allocopt.benchmarks.report import report

        typer.echo(report([path], plots=False))


@app.command("report")
def report_cmd(
    results: Annotated[list[Path], typer.Argument(help="Results JSONL files of `allocopt bench`.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Directory for report.md and PNGs.")] = None,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Draw PNG plots.")] = True,
    plan_problem: Annotated[Path | None, typer.Option(
        "--plan-problem", help="Also draw a Gantt chart and power plot of a plan of this problem.")] = None,
    plan: Annotated[Path | None, typer.Option("--plan", help="The plan for --plan-problem.")] = None,
    debug: DebugOption = False,
) -> None:
    """Markdown tables per suite (and PNG plots) from benchmark results."""
    from allocopt.benchmarks.report import plot_plan, report

    missing = [f"results file {str(p)!r} does not exist" for p in results if not p.exists()]
    if (plan_problem is None) != (plan is None):
        missing.append("--plan-problem and --plan go together")
    if missing:
        fail(*missing)
    typer.echo(report(list(results), out_dir=out, plots=plots))
    if plan_problem is not None and plan is not None:
        from .cli import load_plan

        target = out or results[0].with_name(results[0].stem + "-report")
        target.mkdir(parents=True, exist_ok=True)
        plot_plan(load_problem(plan_problem), load_plan(plan), target)
        typer.echo(f"plan plots written to {target}")
