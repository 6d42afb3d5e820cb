"""The ``allocopt`` command line: outputs, files written and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from allocopt import Plan, Problem, SolveStatus, load_problem
from allocopt import cli as cli_mod
from allocopt.cli import app
from allocopt.solve import _SOLVERS, SolverInfo
from allocopt.validate import is_valid, validate

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner() -> CliRunner:
    """Runs the app in-process, stdout and stderr kept apart."""
    return CliRunner()


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def ok_file(tmp_path: Path, two_regions: Problem) -> Path:
    """``two_regions`` as a JSON file: one job that fits."""
    return _write(tmp_path / "two.json", two_regions.to_dict())


@pytest.fixture
def infeasible_file(tmp_path: Path, infeasible: Problem) -> Path:
    """``infeasible`` as a JSON file: a required job that can never fit."""
    return _write(tmp_path / "inf.json", infeasible.to_dict())


# ---------------------------------------------------------------------------
# solve
# ---------------------------------------------------------------------------


def test_solve_writes_plan_and_exits_0(runner, ok_file, tmp_path, monkeypatch):
    """solve --solver greedy writes <stem>.plan.json in the current directory, exit 0."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["solve", str(ok_file), "--solver", "greedy"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "two.plan.json"
    assert out.exists()
    assert "Plan written to" in result.stdout and "two.plan.json" in result.stdout
    plan = Plan.from_dict(json.loads(out.read_text()))
    problem = load_problem(ok_file)
    assert plan.status == SolveStatus.FEASIBLE and plan.solver == "greedy"
    assert is_valid(plan, validate(problem, plan))
    # the summary: status, solver, the tier table and the figures
    for text in ("status feasible", "solver greedy", "tier", "placed value", "energy kWh",
                 "energy cost", "carbon kg", "tardiness", "node cost", "cost", "seconds"):
        assert text in result.stdout, text


def test_solve_out_option_and_quiet(runner, ok_file, tmp_path):
    """--out chooses the file; --quiet prints nothing."""
    out = tmp_path / "sub" / "p.json"
    out.parent.mkdir()
    result = runner.invoke(app, ["solve", str(ok_file), "--solver", "greedy", "--out", str(out),
                                 "--quiet", "--time-limit", "5", "--seed", "3", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert out.exists() and result.stdout == ""


def test_solve_yaml_problem(runner, two_regions, tmp_path):
    """A YAML problem is read like JSON."""
    import yaml

    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(two_regions.to_dict()))
    result = runner.invoke(app, ["solve", str(path), "--solver", "greedy",
                                 "--out", str(tmp_path / "p.json")])
    assert result.exit_code == 0, result.output


def test_solve_lists_unplaced_with_reasons(runner, tmp_path):
    """Unplaced jobs are shown with reasons: the first ten, then '... and N more'."""
    jobs = [{"id": f"big{k}", "demand": {"gpu": 99}, "duration": 1} for k in range(13)]
    path = _write(tmp_path / "many.json", {
        "horizon": {"slots": 2}, "resources": ["gpu"], "regions": [{"id": "g"}],
        "nodes": [{"id": "n", "region": "g", "capacity": {"gpu": 8}}],
        "jobs": [{"id": "fits", "duration": 1}, *jobs]})
    result = runner.invoke(app, ["solve", str(path), "--solver", "greedy",
                                 "--out", str(tmp_path / "p.json")])
    assert result.exit_code == 0, result.output
    assert "big0: no eligible node has gpu >= 99" in result.stdout
    assert "big9:" in result.stdout and "big10:" not in result.stdout
    assert "... and 3 more" in result.stdout


def test_solve_infeasible_exits_3_and_writes_plan(runner, infeasible_file, tmp_path):
    """A required job that cannot fit: exit 3, the plan is still written."""
    out = tmp_path / "inf.plan.json"
    result = runner.invoke(app, ["solve", str(infeasible_file), "--solver", "greedy",
                                 "--out", str(out)])
    assert result.exit_code == 3, result.output
    data = json.loads(out.read_text())
    assert data["status"] == "infeasible"
    assert data["unplaced"] == [{"job": "huge", "reason": "no eligible node has gpu >= 16"}]
    assert "huge: no eligible node has gpu >= 16" in result.stdout
    assert "infeasible" in result.stderr


def test_solve_bad_problem_exits_2_with_every_message(runner, tmp_path, two_regions):
    """Every ProblemError message goes to stderr, one per line, no traceback."""
    data = two_regions.to_dict()
    data["jobs"][0]["duration"] = 0
    data["nodes"][0]["region"] = "mars"
    data["colour"] = "red"
    path = _write(tmp_path / "bad.json", data)
    result = runner.invoke(app, ["solve", str(path), "--solver", "greedy"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    assert all(line.startswith("error: ") for line in lines)
    for part in ("unknown key 'colour'", "job 'job': duration", "unknown region 'mars'"):
        assert any(part in line for line in lines), part
    assert "Traceback" not in result.output
    assert not (tmp_path / "bad.plan.json").exists()


@pytest.mark.parametrize(("name", "text", "part"), [
    ("p.json", "{not json", "not valid JSON"),
    ("p.json", '{"horizon": {"slots": NaN}}', "NaN is not a finite number"),
    ("p.yaml", "jobs: [1\n", "not valid YAML"),
    ("p.yaml", "a: &x 1\nb: *x\n", "aliases are not accepted"),
])
def test_solve_unparseable_file_exits_2(runner, tmp_path, name, text, part):
    """Files that are not JSON/YAML: exit 2, one line naming the file."""
    path = tmp_path / name
    path.write_text(text)
    result = runner.invoke(app, ["solve", str(path), "--solver", "greedy"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert name in line and part in line
    assert "Traceback" not in result.output


def test_solve_missing_file_exits_2(runner, tmp_path):
    """A file that cannot be read is bad input."""
    result = runner.invoke(app, ["solve", str(tmp_path / "nope.json"), "--solver", "greedy"])
    assert result.exit_code == 2
    assert "cannot be read" in result.stderr


def test_solve_unknown_solver_exits_2(runner, ok_file):
    """An unknown --solver name is bad input; the message lists the known ones."""
    result = runner.invoke(app, ["solve", str(ok_file), "--solver", "nope"])
    assert result.exit_code == 2
    assert "unknown solver 'nope'" in result.stderr and "greedy" in result.stderr


@pytest.mark.parametrize(("args", "part"), [
    (["--time-limit", "0"], "time_limit must be > 0"),
    (["--time-limit", "inf"], "time_limit"),
    (["--workers", "0"], "--workers: workers must be in 1..64"),
    (["--time-limit", "soon"], "--time-limit"),
    (["--seed", "1.5"], "--seed"),
    (["--bogus"], "--bogus"),
])
def test_solve_bad_option_values_exit_2(runner, ok_file, args, part):
    """Bad option values exit 2 with a message naming the option."""
    result = runner.invoke(app, ["solve", str(ok_file), "--solver", "greedy", *args])
    assert result.exit_code == 2, result.output
    assert part in result.stderr
    assert "Traceback" not in result.output


def test_solve_reports_all_input_errors_together(runner, tmp_path):
    """Problem, option and solver errors come out together."""
    path = _write(tmp_path / "bad.json", {"horizon": {"slots": 0}})
    result = runner.invoke(app, ["solve", str(path), "--solver", "nope", "--workers", "0",
                                 "--out", str(tmp_path / "missing" / "p.json")])
    assert result.exit_code == 2
    text = result.stderr
    for part in ("horizon: slots", "missing required field 'jobs'", "workers must be in 1..64",
                 "unknown solver 'nope'", "does not exist"):
        assert part in text, part


def test_solve_params_file(runner, ok_file, tmp_path):
    """--params reads a TOML [solve] table; unknown keys and wrong types exit 2."""
    good = tmp_path / "good.toml"
    good.write_text("[solve]\ntime_limit = 5\nworkers = 1\n")
    out = str(tmp_path / "p.json")
    result = runner.invoke(app, ["solve", str(ok_file), "--solver", "greedy", "--params",
                                 str(good), "--out", out])
    assert result.exit_code == 0, result.output

    bad = tmp_path / "bad.toml"
    bad.write_text('[solve]\ntime_limt = 5\n')
    result = runner.invoke(app, ["solve", str(ok_file), "--solver", "greedy", "--params", str(bad)])
    assert result.exit_code == 2 and "unknown key 'time_limt'" in result.stderr

    typed = tmp_path / "typed.toml"
    typed.write_text('[solve]\ntime_limit = "soon"\nworkers = 1.5\n')
    result = runner.invoke(app, ["solve", str(ok_file), "--solver", "greedy", "--params",
                                 str(typed)])
    assert result.exit_code == 2, result.output
    assert "time_limit must be a number" in result.stderr
    assert "workers must be an integer" in result.stderr

    broken = tmp_path / "broken.toml"
    broken.write_text("[solve\n")
    result = runner.invoke(app, ["solve", str(ok_file), "--params", str(broken)])
    assert result.exit_code == 2 and "broken.toml" in result.stderr


def _fake_solve(status: SolveStatus | None = None, exc: Exception | None = None):
    def fake(problem: Problem, **kwargs: Any) -> Plan:
        if exc is not None:
            raise exc
        from allocopt.greedy import run_greedy

        return run_greedy(problem).replace(status=status)

    return fake


def test_solve_unknown_status_exits_1(runner, ok_file, tmp_path, monkeypatch):
    """A plan with status 'unknown' (no valid plan found) exits 1, still written."""
    monkeypatch.setattr(cli_mod, "solve", _fake_solve(SolveStatus.UNKNOWN))
    out = tmp_path / "p.json"
    result = runner.invoke(app, ["solve", str(ok_file), "--solver", "greedy", "--out", str(out)])
    assert result.exit_code == 1
    assert out.exists() and "status unknown" in result.stderr


def test_solve_unexpected_error_exits_1_without_traceback(runner, ok_file, monkeypatch):
    """An unexpected exception: one line on stderr, exit 1, no traceback."""
    monkeypatch.setattr(cli_mod, "solve", _fake_solve(exc=RuntimeError("boom\nsecond line")))
    result = runner.invoke(app, ["solve", str(ok_file), "--solver", "greedy"])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: RuntimeError: boom")
    assert "second line" not in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("where", ["global", "command"])
def test_debug_lets_the_exception_through(runner, ok_file, monkeypatch, where):
    """With --debug (before or after the command) the exception propagates."""
    monkeypatch.setattr(cli_mod, "solve", _fake_solve(exc=RuntimeError("boom")))
    args = ["solve", str(ok_file), "--solver", "greedy"]
    args = ["--debug", *args] if where == "global" else [*args, "--debug"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)


# ---------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------


def _solve_to(runner: CliRunner, problem: Path, out: Path) -> None:
    runner.invoke(app, ["solve", str(problem), "--solver", "greedy", "--out", str(out), "-q"])


def test_validate_valid_plan_exits_0(runner, ok_file, tmp_path):
    """A valid plan: exit 0, 'valid' and the recomputed metrics."""
    plan = tmp_path / "p.json"
    _solve_to(runner, ok_file, plan)
    result = runner.invoke(app, ["validate", str(ok_file), str(plan)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout and "energy kWh" in result.stdout


def test_validate_infeasible_plan_exits_3(runner, infeasible_file, tmp_path):
    """An 'infeasible' plan whose only violation is the unplaced required job: exit 3."""
    plan = tmp_path / "p.json"
    _solve_to(runner, infeasible_file, plan)
    result = runner.invoke(app, ["validate", str(infeasible_file), str(plan)])
    assert result.exit_code == 3, result.output
    assert "required job 'huge' is unplaced" in result.stdout


def test_validate_broken_plan_exits_1(runner, infeasible_file, tmp_path):
    """A plan that breaks rules: exit 1, violations grouped by rule."""
    plan = tmp_path / "p.json"
    _write(plan, {"problem": "infeasible", "status": "feasible", "solver": "hand",
                  "assignments": [{"job": "ok", "start": 3, "end": 5, "nodes": ["n1"]}],
                  "unplaced": [{"job": "huge", "reason": ""}]})
    result = runner.invoke(app, ["validate", str(infeasible_file), str(plan)])
    assert result.exit_code == 1, result.output
    out = result.stdout
    # accounting (empty reason), time (end 5, not 3 + 1), required ('huge'): in RULES order
    assert out.index("accounting (1)") < out.index("time (1)") < out.index("required (1)")
    assert "end 5 != start 3 + duration 1" in out


def test_validate_status_infeasible_does_not_excuse_other_rules(runner, infeasible_file,
                                                                tmp_path):
    """'infeasible' with a capacity break is still exit 1."""
    plan = tmp_path / "p.json"
    _write(plan, {"status": "infeasible",
                  "assignments": [{"job": "ok", "start": 0, "end": 1, "nodes": ["n1"]},
                                  {"job": "huge", "start": 1, "end": 2, "nodes": ["n1"]}],
                  "unplaced": []})
    result = runner.invoke(app, ["validate", str(infeasible_file), str(plan)])
    assert result.exit_code == 1
    assert "capacity" in result.stdout


@pytest.mark.parametrize("text", ["[1, 2]", '{"status": "done"}', "{oops",
                                  '{"assignments": [{"job": "a", "start": 0.5, "nodes": []}]}'])
def test_validate_malformed_plan_exits_2(runner, ok_file, tmp_path, text):
    """A malformed plan file: exit 2 with messages, no traceback."""
    plan = tmp_path / "p.json"
    plan.write_text(text)
    result = runner.invoke(app, ["validate", str(ok_file), str(plan)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output


def test_validate_bad_problem_exits_2(runner, tmp_path):
    """A bad problem file: exit 2 (and a missing plan file is reported with it)."""
    problem = _write(tmp_path / "bad.json", {"horizon": {}})
    result = runner.invoke(app, ["validate", str(problem), str(tmp_path / "none.json")])
    assert result.exit_code == 2
    assert "horizon" in result.stderr and "none.json" in result.stderr


# ---------------------------------------------------------------------------
# schema, solvers, help
# ---------------------------------------------------------------------------


def test_schema_prints_problem_json_schema(runner):
    """schema prints the problem format's JSON Schema."""
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema == Problem.model_json_schema()
    assert {"horizon", "regions", "nodes", "jobs"} <= set(schema["required"])


def test_schema_plan(runner):
    """schema --plan prints the plan format's JSON Schema."""
    result = runner.invoke(app, ["schema", "--plan"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "Plan"
    assert {"status", "assignments", "unplaced", "metrics"} <= set(schema["properties"])
    assert schema["properties"]["status"]["enum"] == [s.value for s in SolveStatus]


def test_solvers_lists_names_first(runner, monkeypatch):
    """solvers: one per line, the name first; unavailable ones say 'not installed'."""
    monkeypatch.setitem(_SOLVERS, "fake", SolverInfo("fake", "a missing back-end", None,
                                                     "exact", available=lambda: False))
    result = runner.invoke(app, ["solvers"])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    names = [line.split()[0] for line in lines]
    assert "greedy" in names and "fake" in names
    fake = lines[names.index("fake")]
    assert "not installed" in fake and "a missing back-end" in fake
    assert "not installed" not in lines[names.index("greedy")]


def test_help_documents_exit_codes(runner):
    """--help of the app and of solve explain the exit codes."""
    for args in (["--help"], ["solve", "--help"], ["validate", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0
        text = " ".join(result.stdout.split())
        assert "Exit codes: 0" in text and "2 bad input" in text and "3 infeasible" in text


def test_version(runner):
    """--version prints the package version."""
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("allocopt ")


# ---------------------------------------------------------------------------
# As a real process: python -m allocopt
# ---------------------------------------------------------------------------


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "allocopt", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_module_entry_point(ok_file, infeasible_file, tmp_path):
    """python -m allocopt: exit codes 0, 3 and 2 (no traceback) from a real process."""
    done = _run("solve", str(ok_file), "--solver", "greedy", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "two.plan.json").exists()

    done = _run("solve", str(infeasible_file), "--solver", "greedy", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert (tmp_path / "inf.plan.json").exists()

    bad = tmp_path / "bad.yaml"
    bad.write_text("horizon: {slots: -1}\n")
    done = _run("solve", str(bad), "--solver", "greedy", cwd=tmp_path)
    assert done.returncode == 2
    assert "horizon: slots" in done.stderr and "Traceback" not in done.stderr
