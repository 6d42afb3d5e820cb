"""Issue 17, case by case: hostile input, extreme numbers, false claims, options.

Each test names the defect group of the issue it covers.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocopt import Plan, Problem, SolveParams, solve
from allocopt.claims import CLAIM_RULES
from allocopt.errors import ProblemError, printable
from allocopt.formats import read_data
from allocopt.plan import Assignment, SolveStatus
from allocopt.problem import MAX_INT, MAX_JOBS, MAX_NUMBER
from allocopt.validate import better, compute_metrics, is_valid, lex_key, validate

REPO = Path(__file__).resolve().parents[2]

BASE: dict[str, Any] = {
    "horizon": {"slots": 6, "slot_hours": 1.0},
    "resources": ["gpu"],
    "regions": [{"id": "eu", "price_per_kwh": [0.31, 0.12, 0.57, 0.2, 0.9, 0.05],
                 "carbon_g_per_kwh": 300, "pue": 1.2}],
    "nodes": [{"id": "n", "region": "eu", "capacity": {"gpu": 8}, "idle_kw": 1.3,
               "kw_per_unit": {"gpu": 0.7}, "count": 2, "cost_per_slot": 0.5}],
    "jobs": [{"id": "a", "demand": {"gpu": 4}, "duration": 3, "value": 10},
             {"id": "b", "demand": {"gpu": 4}, "duration": 2, "value": 30, "power_kw": 2.0},
             {"id": "c", "demand": {"gpu": 8}, "duration": 2, "value": 3.7, "due": 3,
              "tardiness_penalty": 1.0}],
    "objective": {"mode": "weighted", "carbon_price_per_kg": 0.08},
}

#: The nine numeric fields of issue 17 (1) and where they live.
NINE = [
    ("regions", "price_per_kwh"), ("regions", "carbon_g_per_kwh"), ("regions", "pue"),
    ("horizon", "slot_hours"), ("nodes", "idle_kw"), ("nodes", "kw_per_unit"),
    ("nodes", "cost_per_slot"), ("jobs", "power_kw"), ("objective", "carbon_price_per_kg"),
]


def _with(field: tuple[str, str], value: float) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    where, key = field
    objs = data[where] if isinstance(data[where], list) else [data[where]]
    for obj in objs:
        obj[key] = {"gpu": value} if key == "kw_per_unit" else value
    return data


def _finite(obj: Any) -> bool:
    """No NaN or infinity anywhere in plain JSON data."""
    try:
        json.dumps(obj, allow_nan=False)
    except ValueError:
        return False
    return True


def _cli(*args: str) -> Any:
    """Runs the CLI in-process: ``returncode``, ``stdout``, ``stderr``."""
    from types import SimpleNamespace

    from typer.testing import CliRunner

    from allocopt.cli import app

    result = CliRunner().invoke(app, list(args))
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout,
                           stderr=result.stderr)


def _cli_process(*args: str) -> subprocess.CompletedProcess:
    """Runs ``python -m allocopt`` as its own process (exit codes as a shell sees them)."""
    return subprocess.run([sys.executable, "-m", "allocopt", *args], capture_output=True,
                          text=True, timeout=120)


# -- 1. plans allocopt cannot read back -------------------------------------

@pytest.mark.parametrize("field", NINE, ids=[f"{a}.{b}" for a, b in NINE])
def test_1e308_is_bad_input_naming_the_field(field: tuple[str, str]) -> None:
    with pytest.raises(ProblemError) as err:
        Problem.from_dict(_with(field, 1e308))
    assert any(field[1] in m and "less than or equal" in m for m in err.value.errors)


@pytest.mark.parametrize("field", NINE, ids=[f"{a}.{b}" for a, b in NINE])
def test_largest_accepted_numbers_give_finite_readable_plans(field: tuple[str, str],
                                                              tmp_path: Path) -> None:
    """At the policy's limit in each field, the plan has only finite numbers,
    reads back, and its own validator accepts it (claims included)."""
    problem = Problem.from_dict(_with(field, MAX_NUMBER))
    plan = solve(problem, time_limit=2)
    data = plan.to_dict()
    assert _finite(data)
    (tmp_path / "p.json").write_text(json.dumps(data, allow_nan=False))
    again = Plan.from_dict(read_data(tmp_path / "p.json", "plan"))
    assert validate(problem, again) == []


def test_energy_budget_at_the_limit_gives_a_short_fallback() -> None:
    data = copy.deepcopy(BASE)
    data["regions"][0]["energy_budget_kwh"] = MAX_NUMBER
    problem = Problem.from_dict(data)
    plan = solve(problem, time_limit=2)
    assert _finite(plan.to_dict()) and validate(problem, plan) == []
    assert plan.fallback is None or len(plan.fallback) < 400


# -- 2. false optimality claims with large values ------------------------------

def test_weighted_value_1e12_is_not_falsely_optimal() -> None:
    data = copy.deepcopy(BASE)
    data["jobs"][0]["value"] = 1e12
    problem = Problem.from_dict(data)
    plan = solve(problem, time_limit=5)
    assert validate(problem, plan) == []
    obj = plan.metrics["objective"]
    # Its own bound may not be above its objective while it says "optimal".
    if plan.status == SolveStatus.OPTIMAL:
        assert plan.bound["objective"] <= obj + 1e-9 * abs(obj)
    else:
        assert plan.gap is not None and plan.gap > 0 and plan.bound["objective"] >= obj


def test_lexicographic_1e12_and_1e_minus6_places_or_does_not_claim() -> None:
    data = {"horizon": {"slots": 4}, "resources": ["gpu"],
            "regions": [{"id": "eu", "price_per_kwh": 0.2}],
            "nodes": [{"id": "n", "region": "eu", "capacity": {"gpu": 8},
                       "kw_per_unit": {"gpu": 1}}],
            "jobs": [{"id": "big", "demand": {"gpu": 4}, "duration": 2, "value": 1e12},
                     {"id": "tiny", "demand": {"gpu": 4}, "duration": 2, "value": 1e-6}]}
    problem = Problem.from_dict(data)
    plan = solve(problem, time_limit=5)
    assert validate(problem, plan) == []
    tiny_out = "tiny" not in plan.placed_ids
    assert not (tiny_out and plan.status == SolveStatus.OPTIMAL)
    if tiny_out:
        # 1e12 + 1e-6 == 1e12 in floating point: the tier values tie (the spec's
        # metrics are floats), so the cheaper plan without it is not worse.
        assert plan.metrics["placed_value_by_priority"]["0"] == 1e12 + 1e-6


#: Relative tolerance of the brute-force comparison: tight enough to tell
#: 1e12 + 0.37 from 1e12, loose enough for float noise in sums.
BRUTE_REL = 1e-14


def _brute_best(problem: Problem) -> dict[str, Any]:
    """Metrics of the best valid plan, by enumerating every plan (tiny
    problems): candidates sorted best first, the first valid one wins."""
    names = problem.node_names()
    options: list[list[Assignment | None]] = []
    for job in problem.jobs:
        opts: list[Assignment | None] = [None]
        for s in range(problem.H - job.duration + 1):
            for ns in itertools.combinations(names, job.replicas):
                opts.append(Assignment(job.id, s, s + job.duration, tuple(ns)))
        options.append(opts)
    scored = []
    for combo in itertools.product(*options):
        placed = tuple(a for a in combo if a is not None)
        m = compute_metrics(problem, placed)
        scored.append((tuple(-v for v in lex_key(problem, m)), len(scored), placed, m))
    scored.sort(key=lambda t: t[:2])
    for _, _, placed, m in scored:
        plan = Plan(problem.name, SolveStatus.FEASIBLE, "brute", placed,
                    tuple(_unplaced(problem, placed)))
        if not any(v.rule not in CLAIM_RULES for v in validate(problem, plan)):
            return m
    raise AssertionError("the empty plan is always valid")


def _unplaced(problem: Problem, placed: tuple[Assignment, ...]) -> list[Any]:
    from allocopt.plan import Unplaced

    ids = {a.job for a in placed}
    return [Unplaced(j.id, "brute force") for j in problem.jobs if j.id not in ids]


EXTREME = st.sampled_from([1e-6, 0.37, 1.0, 3.0, 1e3, 1e6, 1e9, 1e12])


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(values=st.lists(EXTREME, min_size=3, max_size=3),
       prices=st.lists(st.sampled_from([0.0, 0.013, 0.2, 7.0, 1e3]), min_size=3, max_size=3),
       mode=st.sampled_from(["lexicographic", "weighted"]),
       prio=st.lists(st.integers(0, 1), min_size=3, max_size=3),
       durations=st.lists(st.integers(1, 2), min_size=3, max_size=3))
def test_claimed_optima_match_brute_force(values: list[float], prices: list[float], mode: str,
                                          prio: list[int], durations: list[int]) -> None:
    """Whenever the solver says "optimal", no plan is better (brute force)."""
    data = {"horizon": {"slots": 3}, "resources": ["gpu"],
            "regions": [{"id": "eu", "price_per_kwh": prices}],
            "nodes": [{"id": "n", "region": "eu", "capacity": {"gpu": 8}, "idle_kw": 0.5,
                       "kw_per_unit": {"gpu": 0.25}, "count": 2}],
            "jobs": [{"id": f"j{k}", "demand": {"gpu": 4 + 2 * k}, "duration": d, "value": v,
                      "priority": pr}
                     for k, (v, pr, d) in enumerate(zip(values, prio, durations))],
            "objective": {"mode": mode}}
    problem = Problem.from_dict(data)
    plan = solve(problem, time_limit=5)
    assert validate(problem, plan) == []
    if plan.status == SolveStatus.OPTIMAL:
        assert not better(problem, _brute_best(problem), plan.metrics, rel=BRUTE_REL)


# -- 3. integers beyond int64 ----------------------------------------------------

@pytest.mark.parametrize("field", ["due", "duration", "release", "priority", "deadline"])
def test_huge_integers_are_bad_input_naming_the_field(field: str, tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["jobs"][0][field] = 2**70
    with pytest.raises(ProblemError) as err:
        Problem.from_dict(data)
    assert any(f"job 'a': {field}" in m for m in err.value.errors)
    data["jobs"][0][field] = MAX_INT  # the limit itself is accepted
    if field != "duration":
        problem = Problem.from_dict(data)
        assert validate(problem, solve(problem, solver="greedy")) == []


def test_huge_integer_cli_exit_2(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["jobs"][1]["due"] = 10**30
    (tmp_path / "p.json").write_text(json.dumps(data))
    done = _cli("solve", str(tmp_path / "p.json"), "-o", str(tmp_path / "o.json"))
    assert done.returncode == 2, done.stderr
    assert "job 'b': due" in done.stderr and "Traceback" not in done.stderr


# -- 4. duplicate keys -------------------------------------------------------------

def test_duplicate_json_key_is_an_error(tmp_path: Path) -> None:
    text = json.dumps(BASE).replace('"duration": 3,', '"duration": 3, "duration": 30,', 1)
    (tmp_path / "p.json").write_text(text)
    with pytest.raises(ProblemError) as err:
        read_data(tmp_path / "p.json")
    assert "duplicate key 'duration'" in str(err.value) and "'a'" in str(err.value)


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("horizon: {slots: 4}\nhorizon: {slots: 5}\n")
    with pytest.raises(ProblemError) as err:
        read_data(tmp_path / "p.yaml")
    assert "duplicate key 'horizon'" in str(err.value) and "line 2" in str(err.value)


# -- 5. limits -------------------------------------------------------------------

def test_too_many_jobs_is_rejected_before_parsing() -> None:
    data = copy.deepcopy(BASE)
    data["jobs"] = [{"id": "x"}] * (MAX_JOBS + 1)
    with pytest.raises(ProblemError) as err:
        Problem.from_dict(data)
    assert any(f"exceed the limit of {MAX_JOBS}" in m for m in err.value.errors)


def test_error_lines_are_capped(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["jobs"] = [{"id": f"j{k}", "duraton": 1} for k in range(120)]
    (tmp_path / "p.json").write_text(json.dumps(data))
    done = _cli("solve", str(tmp_path / "p.json"))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2
    assert len(lines) == 51 and lines[-1].startswith("error: ... and ")
    assert len(ProblemError(["x"] * 500).args[0].splitlines()) == 52


@pytest.mark.parametrize("text,suffix", [("[" * 100_000 + "]" * 100_000, ".json"),
                                         ("- " * 20_000 + "x", ".yaml"),
                                         ("x: " + "[" * 5000, ".yaml")])
def test_deep_nesting_is_bad_input(text: str, suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"p{suffix}"
    path.write_text(text)
    with pytest.raises(ProblemError) as err:
        read_data(path)
    assert "nested" in str(err.value)


def test_deep_nesting_cli_exit_2(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text("[" * 100_000 + "]" * 100_000)
    done = _cli_process("solve", str(tmp_path / "p.json"))
    assert done.returncode == 2 and "nested" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("key,size", [("name", 257), ("description", 10_001)])
def test_schema_max_length_is_enforced(key: str, size: int) -> None:
    data = copy.deepcopy(BASE)
    data[key] = "x" * size
    with pytest.raises(ProblemError) as err:
        Problem.from_dict(data)
    assert any(key in m and "exceed" in m for m in err.value.errors)
    data[key] = "x" * (size - 1)
    Problem.from_dict(data)


def test_long_ids_are_rejected() -> None:
    data = copy.deepcopy(BASE)
    data["jobs"][0]["id"] = "j" * 257
    with pytest.raises(ProblemError) as err:
        Problem.from_dict(data)
    assert any("id" in m and "256" in m for m in err.value.errors)


# -- 6. validate checks what a plan claims -----------------------------------------

@pytest.fixture(scope="module")
def solved() -> tuple[Problem, dict[str, Any]]:
    problem = Problem.from_dict({**copy.deepcopy(BASE), "objective": {"mode": "lexicographic"}})
    plan = solve(problem, time_limit=5)
    assert validate(problem, plan) == []
    return problem, plan.to_dict()


def _rules(problem: Problem, data: dict[str, Any]) -> set[str]:
    return {v.rule for v in validate(problem, Plan.from_dict(data))}


def test_validate_flags_falsified_cost(solved: tuple[Problem, dict[str, Any]]) -> None:
    problem, data = solved
    data = copy.deepcopy(data)
    data["metrics"]["cost"] = 0
    assert _rules(problem, data) == {"metrics"}


def test_validate_flags_falsified_tier_value(solved: tuple[Problem, dict[str, Any]]) -> None:
    problem, data = solved
    data = copy.deepcopy(data)
    data["metrics"]["placed_value_by_priority"]["0"] = 9999
    assert _rules(problem, data) >= {"metrics"}


def test_validate_flags_negative_gap(solved: tuple[Problem, dict[str, Any]]) -> None:
    problem, data = solved
    data = copy.deepcopy(data)
    data["gap"] = -5
    assert _rules(problem, data) == {"bound"}


def test_validate_flags_infeasible_status_on_complete_plan(
        solved: tuple[Problem, dict[str, Any]]) -> None:
    problem, data = solved
    data = copy.deepcopy(data)
    data["status"] = "infeasible"
    assert _rules(problem, data) == {"status"}


def test_validate_flags_optimal_with_gap_and_contradicting_bound(
        solved: tuple[Problem, dict[str, Any]]) -> None:
    problem, data = solved
    bad = copy.deepcopy(data)
    bad["status"], bad["gap"] = "optimal", 0.25
    assert "status" in _rules(problem, bad)
    bad = copy.deepcopy(data)
    tiers = bad["metrics"]["placed_value_by_priority"]
    bad["bound"] = {"placed_value_by_priority": {t: v / 2 for t, v in tiers.items()}}
    assert "bound" in _rules(problem, bad)


def test_validate_cli_flags_false_claims(solved: tuple[Problem, dict[str, Any]],
                                         tmp_path: Path) -> None:
    problem, data = solved
    (tmp_path / "p.json").write_text(json.dumps(problem.to_dict()))
    data = copy.deepcopy(data)
    data["metrics"]["cost"] = 0
    (tmp_path / "plan.json").write_text(json.dumps(data))
    done = _cli("validate", str(tmp_path / "p.json"), str(tmp_path / "plan.json"))
    assert done.returncode == 1 and "metrics" in done.stdout


@pytest.mark.parametrize("name", ["quickstart", "energy_shifting", "replicated_inference"])
@pytest.mark.parametrize("solver", ["cpsat", "greedy"])
def test_written_plans_pass_their_own_claims(name: str, solver: str, tmp_path: Path) -> None:
    from allocopt import load_problem

    problem = load_problem(REPO / "data" / "examples" / f"{name}.json")
    plan = solve(problem, solver=solver, time_limit=2)
    (tmp_path / "p.json").write_text(json.dumps(plan.to_dict(), allow_nan=False))
    again = Plan.from_dict(read_data(tmp_path / "p.json", "plan"))
    assert [str(v) for v in validate(problem, again)] == []


# -- 7. option ranges ----------------------------------------------------------------

@pytest.mark.parametrize("changes,word", [
    ({"workers": 100_000}, "workers"), ({"workers": 0}, "workers"),
    ({"seed": 2**64}, "seed"), ({"seed": -1}, "seed"),
    ({"time_limit": math.nan}, "time_limit"), ({"time_limit": math.inf}, "time_limit"),
    ({"time_limit": 0.0}, "time_limit"), ({"lns_jobs": 0}, "lns_jobs"),
    ({"max_model_terms": -1}, "max_model_terms")])
def test_params_out_of_range(changes: dict[str, Any], word: str) -> None:
    with pytest.raises(ProblemError) as err:
        SolveParams(**changes).checked()
    assert any(m.startswith(word) for m in err.value.errors)


def test_solve_checks_params_given_whole() -> None:
    problem = Problem.from_dict(BASE)
    with pytest.raises(ProblemError, match="seed"):
        solve(problem, params=SolveParams(seed=2**70))


def test_yaml_infinity_and_plan_nan_name_their_place(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("horizon: {slots: 4, slot_hours: .inf}\n")
    with pytest.raises(ProblemError, match=r"problem.horizon.slot_hours: inf is not a finite"):
        read_data(tmp_path / "p.yaml")
    (tmp_path / "plan.json").write_text('{"status": "feasible", "gap": NaN}')
    with pytest.raises(ProblemError, match=r"plan.gap: NaN is not a finite"):
        read_data(tmp_path / "plan.json", "plan")


@pytest.mark.parametrize("option,value", [("--workers", "100000"),
                                          ("--seed", "99999999999999999999999"),
                                          ("--time-limit", "nan")])
def test_cli_options_out_of_range_exit_2(option: str, value: str, tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(json.dumps(BASE))
    done = _cli("solve", str(tmp_path / "p.json"), "-o", str(tmp_path / "o.json"), option, value)
    assert done.returncode == 2 and f"error: {option}:" in done.stderr
    assert "Traceback" not in done.stderr


# -- 8. process hygiene ---------------------------------------------------------------

def _children(pid: int) -> list[tuple[int, str]]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append((int(entry.name), cmd))
    return out


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_sigterm_ends_cbc_and_removes_temp_files(tmp_path: Path) -> None:
    from allocopt.formulations.backends.pulp import cbc_available

    if not cbc_available():
        pytest.skip("CBC not available")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "TMP": str(tmp)}
    proc = subprocess.Popen([sys.executable, "-m", "allocopt", "solve",
                             str(REPO / "data" / "bench" / "small" / "small-s0.json"),
                             "--solver", "pulp", "--time-limit", "60", "-q",
                             "-o", str(tmp_path / "o.json")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cbc: list[int] = []
    try:
        for _ in range(1200):  # until CBC runs (or the solve ends)
            cbc = [p for p, cmd in _children(proc.pid) if "cbc" in cmd]
            if cbc or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert cbc, "CBC never started"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 143
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for pid in cbc:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    assert list(tmp.rglob("*")) == []


# -- 9. smaller ------------------------------------------------------------------------

def test_nan_and_infinity_name_their_place(tmp_path: Path) -> None:
    text = json.dumps(BASE).replace('"value": 30', '"value": NaN').replace(
        '"idle_kw": 1.3', '"idle_kw": -Infinity')
    (tmp_path / "p.json").write_text(text)
    with pytest.raises(ProblemError) as err:
        read_data(tmp_path / "p.json")
    msgs = "\n".join(err.value.errors)
    assert "jobs[1] (id 'b').value: NaN" in msgs
    assert "nodes[0] (id 'n').idle_kw: -Infinity" in msgs


def test_control_characters_in_ids_are_rejected_and_escaped(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["jobs"][0]["id"] = "a\x1b[2J"
    data["jobs"][1]["after"] = ["a\x1b[2J"]
    with pytest.raises(ProblemError) as err:
        Problem.from_dict(data)
    assert any("control characters" in m for m in err.value.errors)
    (tmp_path / "p.json").write_text(json.dumps(data))
    done = _cli("solve", str(tmp_path / "p.json"))
    assert done.returncode == 2 and "\x1b" not in done.stderr
    assert printable("a\x1b[2J") == "a\\x1b[2J"


def test_neighbourhood_search_reports_a_bound_and_gap() -> None:
    from allocopt import load_problem

    problem = load_problem(REPO / "data" / "examples" / "quickstart.json")
    plan = solve(problem, params=SolveParams(time_limit=3, max_model_terms=1))
    assert plan.bound is not None and plan.gap is not None and plan.gap >= 0
    assert plan.status != SolveStatus.OPTIMAL or plan.gap == 0
    assert validate(problem, plan) == []
    assert is_valid(plan, validate(problem, plan))


def test_fallback_plan_keeps_no_bound_its_metrics_contradict() -> None:
    """Found by the brute-force property test: cpsat rounds the 1e-6 job's
    value to 0, the portfolio plan wins, and the cost bound cpsat proved at
    its own tier values must not be passed on to it."""
    data = {"horizon": {"slots": 3}, "resources": ["gpu"],
            "regions": [{"id": "eu", "price_per_kwh": [0.0, 0.013, 0.0]}],
            "nodes": [{"id": "n", "region": "eu", "capacity": {"gpu": 8}, "idle_kw": 0.5,
                       "kw_per_unit": {"gpu": 0.25}, "count": 2}],
            "jobs": [{"id": f"j{k}", "demand": {"gpu": 4 + 2 * k}, "duration": 2, "value": v,
                      "priority": pr}
                     for k, (v, pr) in enumerate(zip([1e-6, 0.37, 1e6], [1, 0, 0]))]}
    problem = Problem.from_dict(data)
    plan = solve(problem, time_limit=5)
    assert validate(problem, plan) == []
    if plan.bound and "cost" in plan.bound:
        assert plan.bound["cost"] <= plan.metrics["cost"] + 1e-9
