"""Plans as tables: rows per replica whose attributed figures add up to the metrics."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import problems

from allocopt import load_problem, solve
from allocopt.cli import main
from allocopt.records import plan_records, records_csv

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "data" / "examples").glob("*.json"))
SUMMED = ("energy_kwh", "energy_cost", "carbon_kg", "carbon_cost", "tardiness", "node_cost",
          "cost")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_rows_add_up_to_the_plan_metrics(path):
    problem = load_problem(path)
    plan = solve(problem, solver="greedy")
    rows = plan.to_records(problem)
    assert len(rows) == sum(len(a.nodes) for a in plan.assignments)
    assert {r["job"] for r in rows} == plan.placed_ids
    for key in SUMMED:
        assert sum(r[key] for r in rows) == pytest.approx(plan.metrics[key], rel=1e-9, abs=1e-9)
    for g, e in plan.metrics["energy_kwh_by_region"].items():
        assert sum(r["energy_kwh"] for r in rows if r["region"] == g) == pytest.approx(e, abs=1e-9)
    for r in rows:
        assert r["energy_kwh"] == pytest.approx(r["dynamic_kwh"] + r["idle_kwh"])
        assert min(r[k] for k in ("dynamic_kwh", "idle_kwh", "node_cost", "tardiness")) >= 0


def test_hand_checked_attribution(one_node_data):
    # one node, idle 0.5 kW over 6 slots = 3 kWh, shared by a (2 slots) and b (2 slots);
    # each job: 6 gpu x 1 kW x 2 slots = 12 kWh dynamic.
    from allocopt import Problem
    from allocopt.plan import Assignment, Plan, SolveStatus

    problem = Problem.from_dict(one_node_data)
    plan = Plan("one_node", SolveStatus.FEASIBLE, "hand",
                (Assignment("a", 0, 2, ("n1",)), Assignment("b", 2, 4, ("n1",))), ())
    rows = {r["job"]: r for r in plan_records(problem, plan)}
    for j in "ab":
        assert rows[j]["dynamic_kwh"] == pytest.approx(12.0)
        assert rows[j]["idle_kwh"] == pytest.approx(1.5)
        assert rows[j]["energy_cost"] == pytest.approx(13.5 * 0.1)
        assert rows[j]["carbon_kg"] == pytest.approx(13.5 * 100 / 1000)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(problem=problems())
def test_rows_add_up_on_random_problems(problem):
    plan = solve(problem, solver="greedy")
    rows = plan_records(problem, plan)
    for key in SUMMED:
        assert sum(r[key] for r in rows) == pytest.approx(plan.metrics[key], rel=1e-9, abs=1e-7)


def test_to_pandas_matches_records():
    pd = pytest.importorskip("pandas")
    problem = load_problem(EXAMPLES[0])
    plan = solve(problem, solver="greedy")
    df = plan.to_pandas(problem)
    assert isinstance(df, pd.DataFrame)
    assert len(df) == len(plan.to_records(problem))
    assert df["cost"].sum() == pytest.approx(plan.metrics["cost"])
    assert list(df.columns[:3]) == ["job", "replica", "node"]


def test_solve_format_csv(tmp_path):
    out = tmp_path / "plan.csv"
    with pytest.raises(SystemExit) as e:
        main(["solve", str(EXAMPLES[0]), "--solver", "greedy", "-q", "--format", "csv",
              "--out", str(out)])
    assert e.value.code == 0
    problem = load_problem(EXAMPLES[0])
    plan = solve(problem, solver="greedy")
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == len(plan_records(problem, plan))
    assert sum(float(r["cost"]) for r in rows) == pytest.approx(plan.metrics["cost"], rel=1e-6)
    assert out.read_text() == records_csv(problem, plan)


def test_bad_format_is_bad_input(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["solve", str(EXAMPLES[0]), "--format", "xlsx", "--out", str(tmp_path / "x")])
    assert e.value.code == 2 and "--format" in capsys.readouterr().err


def test_summary_reads_well(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["solve", str(EXAMPLES[0]), "--time-limit", "2", "--out", str(tmp_path / "p.json")])
    assert e.value.code == 0
    text = capsys.readouterr().out
    problem = load_problem(EXAMPLES[0])
    assert "Energy and carbon by region" in text
    for r in problem.regions:
        assert r.id in text
    assert "Gain over the greedy plan" in text
    assert "Bound and gap per objective stage" in text and "cost (min)" in text
    assert "{" not in text  # no raw JSON
