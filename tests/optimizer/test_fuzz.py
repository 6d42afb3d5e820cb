"""Fuzzing: mutated example problems are either bad input naming what is
wrong, or solved into a plan the validator accepts.

Hypothesis mutates the problems of ``data/examples`` (a field set to a hostile
value, a key removed, a list emptied or an object duplicated) and checks the
contract of the standards: :class:`ProblemError` (CLI exit 2) whose every
message names an object and field, or a plan that passes its own validator,
claims included, with only finite numbers. A few cases go through the CLI.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from allocopt import Problem, solve
from allocopt.cli import app
from allocopt.errors import ProblemError
from allocopt.validate import is_valid, validate

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
BASES = {p.stem: json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))}

#: Where a message must point: a kind of object (with id or position) or a
#: top-level section, then (for field errors) the field.
NAMED = re.compile(r"^(problem|horizon|objective|resources|regions|nodes|jobs|links|"
                   r"(region|node|job|link|resource) ('[^']*'|#\d+|'[^']*'-'[^']*')|"
                   r"jobs '.*' form a cycle)")

HOSTILE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 1e12, 1e13, -1.0, 0.0, 1e-300, 5e-324]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**53, 2**53 + 1, 2**63, -1, 0]),
    st.text(max_size=20),
    st.sampled_from(["x" * 300, "a\x1b[2J", "", "\x00"]),
    st.none(),
    st.booleans(),
    st.lists(st.floats(allow_nan=False, width=32), max_size=4),
    st.dictionaries(st.sampled_from(["gpu", "cpu", "zz"]), st.floats(-1, 1e13), max_size=2),
)

SECTIONS = ("horizon", "regions", "nodes", "jobs", "links", "objective", "resources")


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(BASES[draw(st.sampled_from(sorted(BASES)))])
    for _ in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from(SECTIONS))
        kind = draw(st.sampled_from(["set", "set", "set", "drop", "dup", "empty"]))
        target = data.get(section)
        if isinstance(target, list) and target and isinstance(target[0], dict):
            obj = target[draw(st.integers(0, len(target) - 1))]
            if kind == "dup":
                target.append(copy.deepcopy(obj))
                continue
            if kind == "empty":
                data[section] = []
                continue
        elif isinstance(target, dict):
            obj = target
        else:
            data[section] = draw(HOSTILE) if kind != "drop" else data.pop(section, None)
            continue
        keys = sorted(obj) + ["unknown_key"]
        key = draw(st.sampled_from(keys))
        if kind == "drop":
            obj.pop(key, None)
        else:
            obj[key] = draw(HOSTILE)
    return data


def _finite_json(obj: Any) -> bool:
    try:
        json.dumps(obj, allow_nan=False)
    except ValueError:
        return False
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=mutated())
def test_mutated_problems_are_rejected_by_name_or_solved_validly(data: dict[str, Any]) -> None:
    try:
        problem = Problem.from_dict(data)
    except ProblemError as e:
        assert e.errors
        for msg in e.errors:
            assert NAMED.match(msg), msg
        return
    plan = solve(problem, solver="greedy")
    assert is_valid(plan, validate(problem, plan)), [str(v) for v in validate(problem, plan)]
    assert _finite_json(plan.to_dict())


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=mutated())
def test_mutated_problems_solved_by_cpsat_stay_valid(data: dict[str, Any]) -> None:
    try:
        problem = Problem.from_dict(data)
    except ProblemError:
        return
    plan = solve(problem, time_limit=0.5)
    assert is_valid(plan, validate(problem, plan)), [str(v) for v in validate(problem, plan)]
    assert _finite_json(plan.to_dict())


@pytest.mark.parametrize("seed", range(3))
def test_mutated_problem_files_through_the_cli(seed: int, tmp_path: Path) -> None:
    """Exit 2 with named errors, or a written plan that ``validate`` accepts."""
    data = copy.deepcopy(BASES["quickstart"])
    if seed == 1:
        data["jobs"][0]["duration"] = 2**70
    if seed == 2:
        data["regions"][0]["pue"] = float("nan")
    text = json.dumps(data)  # NaN as JSON's non-standard token
    (tmp_path / "p.json").write_text(text)
    runner = CliRunner()
    out = tmp_path / "plan.json"
    result = runner.invoke(app, ["solve", str(tmp_path / "p.json"), "-o", str(out),
                                 "--time-limit", "1", "-q"])
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert lines and all(line.startswith("error: ") for line in lines)
        assert "Traceback" not in result.stderr
        return
    assert result.exit_code in (0, 3), result.stderr
    back = runner.invoke(app, ["validate", str(tmp_path / "p.json"), str(out)])
    assert back.exit_code == result.exit_code, back.stdout
