"""The benchmark runner: one row per (instance, solver, seed), resumable.

Instances come from a *suite*:

* a stored suite: every ``*.json`` under ``data/bench/<suite>/`` (or any
  directory given as the suite);
* a generated size: ``gen:<size>`` (sizes of :data:`allocopt.benchmarks.generators.SIZES`),
  one instance per seed, generated in the worker (nothing stored);
* a classic set with known optima: ``bpplib:<dir-or-file>``,
  ``vbp:<dir-or-file>``, ``psplib:<dir-or-file>``, imported on the fly with
  :mod:`allocopt.benchmarks.importers` (the files stay where their license keeps them).

Every run happens in a fresh worker process (so its peak memory is its
own), independent rows run in parallel (``jobs``), a progress bar shows the
advance, and each finished row is appended at once to a JSONL file; rows
already in the file are skipped, so an interrupted run resumes where it
stopped. A CSV copy is written next to it at the end.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import resource
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .datafiles import data_path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = data_path("bench")
CLASSIC = ("bpplib", "vbp", "psplib")
_CLASSIC_EXT = {"bpplib": (".txt", ".bpp"), "vbp": (".vbp",), "psplib": (".sm",)}


@dataclass(frozen=True)
class Task:
    suite: str
    instance: str  # display name
    source: str  # path, or "gen:<size>"
    kind: str  # "file", "gen" or a classic kind
    solver: str
    seed: int
    time_limit: float
    workers: int
    lp_bound: bool = False

    @property
    def key(self) -> tuple:
        return (self.suite, self.instance, self.solver, self.seed, self.time_limit, self.workers)


def git_revision() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=5, check=False)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def instances(suite: str, seeds: list[int]) -> list[tuple[str, str, str, int | None]]:
    """(instance name, source, kind, fixed seed or None) for a suite."""
    if suite.startswith("gen:"):
        size = suite.split(":", 1)[1]
        return [(f"{size}-s{s}", suite, "gen", s) for s in seeds]
    kind, _, where = suite.partition(":")
    if kind in CLASSIC and where:
        path = Path(where)
        files = [path] if path.is_file() else sorted(
            f for f in path.rglob("*") if f.suffix.lower() in _CLASSIC_EXT[kind])
        return [(f.stem, str(f), kind, None) for f in files]
    path = Path(suite)
    if not path.is_dir():
        path = BENCH_DIR / suite
    if not path.is_dir():
        known = sorted(p.name for p in BENCH_DIR.iterdir() if p.is_dir()) if BENCH_DIR.is_dir() else []
        raise ValueError(f"unknown suite {suite!r}: not a directory, not gen:<size> or "
                         f"<bpplib|vbp|psplib>:<path>; stored suites: {', '.join(known)}")
    files = sorted(path.glob("*.json")) + sorted(path.glob("*.yaml"))
    return [(f.stem, str(f), "file", None) for f in files]


def load(task: Task) -> Any:
    from allocopt import Problem, load_problem

    if task.kind == "gen":
        from allocopt.benchmarks.generators import generate_size

        return Problem.from_dict(generate_size(task.source.split(":", 1)[1], seed=task.seed))
    if task.kind in CLASSIC:
        from allocopt.benchmarks.importers import import_file

        return Problem.from_dict(import_file(task.kind, task.source))
    return load_problem(task.source)


def run_task(task: Task) -> dict[str, Any]:
    """Run one row (in a worker process) and return it."""
    from allocopt import SolveParams, __version__, solve
    from allocopt.validate import is_valid, validate

    row: dict[str, Any] = {
        "suite": task.suite, "instance": task.instance, "solver": task.solver, "seed": task.seed,
        "time_limit": task.time_limit, "workers": task.workers,
    }
    t0 = time.perf_counter()
    try:
        problem = load(task)
        row.update(jobs=len(problem.jobs), nodes=len(problem.node_names()),
                   slots=problem.horizon.slots, objective_mode=problem.objective.mode)
        t0 = time.perf_counter()
        plan = solve(problem, solver=task.solver, params=SolveParams(
            time_limit=task.time_limit, seed=task.seed, workers=task.workers))
        seconds = time.perf_counter() - t0
        violations = validate(problem, plan)
        m = plan.metrics
        row.update(
            status=str(plan.status), plan_solver=plan.solver, fallback=plan.fallback,
            seeded_by=plan.seeded_by,
            placed_value_by_priority=m["placed_value_by_priority"],
            placed_value=m["placed_value"], placed_jobs=m["placed_jobs"],
            unplaced_jobs=m["unplaced_jobs"], required_placed=m["required_placed"],
            energy_kwh=m["energy_kwh"], energy_cost=m["energy_cost"], carbon_kg=m["carbon_kg"],
            carbon_cost=m["carbon_cost"], tardiness=m["tardiness"], node_cost=m["node_cost"],
            cost=m["cost"], energy_kwh_by_region=m["energy_kwh_by_region"],
            carbon_kg_by_region=m["carbon_kg_by_region"], bound=plan.bound, gap=plan.gap,
            gaps=plan.gaps,
            seconds=round(seconds, 3), valid=is_valid(plan, violations),
            violations=len(violations),
        )
        planned = sum(j.planned is not None for j in problem.jobs)
        if planned:  # re-planning (the `replan` suite): moves against the previous plan
            row.update(planned_jobs=planned, moves=m.get("moves", 0),
                       move_cost=m.get("move_cost", 0.0),
                       stability_tier=problem.objective.stability_tier)
        if task.lp_bound:
            row.update(_lp_columns(problem, plan, task.time_limit))
        if task.kind in CLASSIC:
            from allocopt.benchmarks.importers import known_optimum, objective_from_plan

            opt = known_optimum(task.kind, task.source)
            row.update(known_optimum=opt, classic_objective=None, gap_to_optimum=None)
            if m["required_placed"] < m["required_jobs"]:
                # A valid plan that could not place every item / activity:
                # it has no objective in the source's terms.
                row["classic_note"] = (f"{m['required_jobs'] - m['required_placed']} required "
                                       "job(s) unplaced: no objective")
            else:
                obj = objective_from_plan(task.kind, m)
                row.update(classic_objective=obj,
                           gap_to_optimum=None if not opt else (obj - opt) / opt)
    except Exception as e:  # a row records the failure; the run goes on
        row.update(status="error", error=f"{type(e).__name__}: {e}",
                   seconds=round(time.perf_counter() - t0, 3), valid=False)
    row.update(
        peak_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        version=__import__("allocopt").__version__, git=git_revision(),
        cpus=os.cpu_count(), python=platform.python_version(),
        command=" ".join(sys.argv[:1] + sys.argv[1:]) or "python",
    )
    return row


def read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by an interruption
    return rows


def _key(row: dict[str, Any]) -> tuple:
    return (row.get("suite"), row.get("instance"), row.get("solver"), row.get("seed"),
            row.get("time_limit"), row.get("workers"))


def run_bench(
    suite: str,
    solvers: list[str],
    *,
    time_limit: float = 10.0,
    seeds: list[int] | None = None,
    workers: int = 1,
    jobs: int = 1,
    out: str | Path | None = None,
    progress: bool = True,
    lp_bound: bool = False,
    sample: int | None = None,
    engine: str = "local",
    ray_address: str | None = None,
) -> Path:
    """Run a suite; returns the JSONL results path (rows appended, resumable).

    Parameters
    ----------
    suite
        A stored suite name or directory, ``gen:<size>``, or
        ``bpplib|vbp|psplib:<path>``.
    solvers
        Solver names (see ``allocopt solvers``).
    time_limit, workers
        Per-run limit and solver threads.
    seeds
        Seeds to run each (instance, solver) with (default ``[0]``).
    jobs
        Rows run in parallel (processes). Keep ``jobs * workers`` at or
        below the core count for fair timings.
    out
        Results file (default ``results/<suite>.jsonl``).
    sample
        Run only the first ``sample`` instances of the suite (in file-name
        order), e.g. a sample of a classic set of hundreds of files.
    lp_bound
        Also compute the LP-relaxation bound of every instance after the
        solve (up to ``time_limit`` more seconds, not counted in ``seconds``)
        and record ``lp_bound``, ``lp_gap`` (the plan against it) and
        ``lp_seconds``.
    engine, ray_address
        ``local`` (default): a process pool of ``jobs`` processes; ``ray``:
        one Ray task per row (``workers`` CPUs each) on the cluster at
        ``ray_address`` or on a local Ray with ``jobs * workers`` CPUs. Rows
        are appended as they finish either way, so a run resumes.
    """
    seeds = seeds or [0]
    name = suite.replace(":", "-").replace("/", "_").strip("_.")
    out = Path(out) if out else ROOT / "results" / f"{name}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {_key(r) for r in read_rows(out)}
    tasks = []
    for inst, source, kind, fixed_seed in instances(suite, seeds)[:sample]:
        for solver in solvers:
            for seed in ([fixed_seed] if fixed_seed is not None else seeds):
                t = Task(suite, inst, source, kind, solver, seed, float(time_limit), workers,
                         lp_bound)
                if t.key not in done:
                    tasks.append(t)
    if not tasks:
        return out
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    cols = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    if engine == "ray":
        _run_ray(tasks, out, suite, cols, progress, jobs, workers, ray_address)
        write_csv(out)
        return out
    with Progress(*cols, disable=not progress, transient=False) as bar, \
            ProcessPoolExecutor(max_workers=max(1, jobs), max_tasks_per_child=1) as pool, \
            out.open("a", encoding="utf-8") as fh:
        tid = bar.add_task(f"{suite}", total=len(tasks))
        futures = {pool.submit(run_task, t): t for t in tasks}
        for fut in as_completed(futures):
            try:
                row = fut.result()
            except Exception as e:  # the worker died (e.g. out of memory)
                t = futures[fut]
                row = {"suite": t.suite, "instance": t.instance, "solver": t.solver,
                       "seed": t.seed, "time_limit": t.time_limit, "workers": t.workers,
                       "status": "error", "error": f"worker died: {e}", "valid": False}
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            bar.advance(tid)
    write_csv(out)
    return out


def _run_ray(tasks: list[Task], out: Path, suite: str, cols: tuple, progress: bool, jobs: int,
             workers: int, address: str | None) -> None:
    """Rows as Ray tasks, each appended to ``out`` as soon as it finishes."""
    from rich.progress import Progress

    from allocopt.engines import RayEngine

    engine = RayEngine(max(1, jobs) * max(1, workers), address)
    ray = engine._ray  # noqa: SLF001 - the engine's own Ray module
    try:
        remote = ray.remote(num_cpus=max(1, workers), max_retries=0)(run_task)
        pending = {remote.remote(t): t for t in tasks}
        with Progress(*cols, disable=not progress, transient=False) as bar, \
                out.open("a", encoding="utf-8") as fh:
            tid = bar.add_task(f"{suite}", total=len(tasks))
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    t = pending.pop(ref)
                    try:
                        row = ray.get(ref)
                    except Exception as e:  # the task or its worker died
                        row = {"suite": t.suite, "instance": t.instance, "solver": t.solver,
                               "seed": t.seed, "time_limit": t.time_limit, "workers": t.workers,
                               "status": "error", "error": f"ray task failed: {e}",
                               "valid": False}
                    fh.write(json.dumps(row) + "\n")
                    fh.flush()
                    bar.advance(tid)
    finally:
        engine.close()


def _lp_columns(problem: Any, plan: Any, time_limit: float) -> dict[str, Any]:
    """``lp_bound``, ``lp_gap`` and ``lp_seconds`` of a plan (see :func:`run_bench`)."""
    from allocopt.formulations.lp_bound import lp_bounds
    from allocopt.formulations.stages import gap_of

    t0 = time.perf_counter()
    lp = lp_bounds(problem, time_limit=time_limit, plan=plan)
    return {"lp_bound": lp or None, "lp_gap": gap_of(problem, plan.metrics, lp) if lp else None,
            "lp_seconds": round(time.perf_counter() - t0, 3)}


def write_csv(path: Path) -> Path:
    """A flat CSV copy of a JSONL results file (nested fields as JSON)."""
    rows = read_rows(path)
    csv_path = path.with_suffix(".csv")
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in r.items()})
    return csv_path
