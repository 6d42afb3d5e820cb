"""``benchmarks/report.py``: tables from hand-made result rows, and the plots."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from allocopt.benchmarks.report import best_rows, compare, plot_plan, report, solver_stats
from allocopt import Problem, solve

PNG = b"\x89PNG\r\n\x1a\n"


def _row(instance: str, solver: str, *, p2: float, p0: float, cost: float, carbon: float,
         status: str = "feasible", gap: float | None = None, seconds: float = 1.0,
         suite: str = "synth", time_limit: float = 10.0, **extra: Any) -> dict[str, Any]:
    """A result row as ``run_task`` writes it, two regions (carbon split 3:1)."""
    row = {
        "suite": suite, "instance": instance, "solver": solver, "seed": 0,
        "time_limit": time_limit, "workers": 1, "jobs": 4, "nodes": 2, "slots": 6,
        "status": status, "plan_solver": solver, "fallback": None,
        "placed_value_by_priority": {"2": p2, "0": p0}, "placed_value": p2 + p0,
        "placed_jobs": 3, "unplaced_jobs": 1, "required_placed": 0,
        "energy_kwh": carbon * 10, "energy_cost": cost, "carbon_kg": carbon, "carbon_cost": 0.0,
        "tardiness": 0.0, "node_cost": 0.0, "cost": cost,
        "energy_kwh_by_region": {"eu": carbon * 7.5, "us": carbon * 2.5},
        "carbon_kg_by_region": {"eu": carbon * 0.75, "us": carbon * 0.25},
        "bound": None if gap is None else {"placed_value_by_priority": {"2": p2, "0": p0},
                                           "cost": cost * (1 - gap)},
        "gap": gap, "seconds": seconds, "valid": True, "violations": 0, "peak_mb": 100.0,
        "version": "0.1.0", "git": "abc123", "cpus": 8, "python": "3.11", "command": "test",
    }
    row.update(extra)
    return row


def synthetic_rows(time_limit: float = 10.0) -> list[dict[str, Any]]:
    """Two instances, three solvers (one of them carbon-agnostic), one error.

    i1: greedy and carbon-agnostic tie (16 placed in tier 0, cost 30); cpsat
        places less in tier 0 (5) and hits its time limit.
    i2: cpsat is best (same value as carbon-agnostic, cost 12 < 16); greedy fails.
    """
    tl = {"time_limit": time_limit}
    return [
        _row("i1", "cpsat", p2=10, p0=5, cost=20, carbon=8, gap=0.1, seconds=9.9,
             fallback="no solution in time", **tl),
        _row("i1", "greedy", p2=10, p0=6, cost=30, carbon=9, seconds=0.2, **tl),
        _row("i1", "carbon-agnostic", p2=10, p0=6, cost=30, carbon=10, seconds=0.1, **tl),
        _row("i2", "cpsat", p2=8, p0=2, cost=12, carbon=4, status="optimal", gap=0.0,
             seconds=3.0, **tl),
        {"suite": "synth", "instance": "i2", "solver": "greedy", "seed": 0, **tl, "workers": 1,
         "status": "error", "error": "RuntimeError: boom", "seconds": 0.5, "valid": False,
         "peak_mb": 90.0},
        _row("i2", "carbon-agnostic", p2=8, p0=2, cost=16, carbon=6, seconds=0.1, **tl),
    ]


def classic_rows() -> list[dict[str, Any]]:
    """One bin-packing instance: greedy one bin over the optimum, cpsat at it."""
    extra = {"suite": "bpplib:demo", "known_optimum": 10}
    return [
        _row("u1", "greedy", p2=0, p0=20, cost=11, carbon=0, classic_objective=11,
             gap_to_optimum=0.1, **extra),
        _row("u1", "cpsat", p2=0, p0=20, cost=10, carbon=0, classic_objective=10,
             gap_to_optimum=0.0, status="optimal", **extra),
    ]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _table_row(md: str, first_cell: str) -> list[str]:
    """The cells of the first markdown table row starting with ``first_cell``."""
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row {first_cell!r} in:\n{md}")


def _section(md: str, heading: str) -> str:
    start = md.index(heading)
    nxt = md.find("\n#", start + len(heading))
    return md[start:nxt if nxt >= 0 else len(md)]


# ---------------------------------------------------------------------------
# The comparator
# ---------------------------------------------------------------------------


def test_compare_is_lexicographic():
    """Required jobs first, then tiers from the highest, then lower cost; tolerance ties."""
    a = {"placed_value_by_priority": {"2": 10.0, "0": 0.0}, "cost": 99.0}
    b = {"placed_value_by_priority": {"2": 9.0, "0": 50.0}, "cost": 1.0}
    assert compare(a, b) == 1 and compare(b, a) == -1
    c = {"placed_value_by_priority": {"2": 10.0, "0": 0.0}, "cost": 98.0}
    assert compare(c, a) == 1
    assert compare(a, {**a, "cost": 99.0 * (1 + 1e-12)}) == 0
    assert compare({**b, "required_placed": 1}, a) == 1  # as lex_key: required first
    # a tier missing from one row counts as 0
    assert compare({"placed_value_by_priority": {"1": 1.0}, "cost": 0.0},
                   {"placed_value_by_priority": {"2": 0.0}, "cost": 0.0}) == 1


def test_best_rows_ties_and_invalid():
    rows = synthetic_rows()[:3]
    assert {r["solver"] for r in best_rows(rows)} == {"greedy", "carbon-agnostic"}
    rows[1] = {**rows[1], "valid": False}
    assert [r["solver"] for r in best_rows(rows)] == ["carbon-agnostic"]
    assert best_rows([synthetic_rows()[4]]) == []  # an error row never counts


def test_solver_stats_hand_computed():
    st = solver_stats(synthetic_rows())
    cp, gr, ca = st["cpsat"], st["greedy"], st["carbon-agnostic"]
    # tier 0 of cpsat: 5/6 on i1, 2/2 on i2
    assert cp["rel_by_tier"]["2"] == pytest.approx(1.0)
    assert cp["rel_by_tier"]["0"] == pytest.approx((5 / 6 + 1) / 2)
    assert (cp["wins"], gr["wins"], ca["wins"]) == (1, 1, 1)
    # savings against carbon-agnostic: i1 carbon 10 -> 8, cost 30 -> 20;
    # i2 carbon 6 -> 4, cost 16 -> 12
    assert cp["carbon_saved_pct"] == pytest.approx((20 + 100 / 3) / 2)
    assert cp["cost_saved_pct"] == pytest.approx((100 / 3 + 25) / 2)
    assert gr["carbon_saved_pct"] == pytest.approx(10.0) and gr["cost_saved_pct"] == 0.0
    assert ca["carbon_saved_pct"] is None
    assert cp["mean_gap"] == pytest.approx(0.05) and gr["mean_gap"] is None
    assert gr["status"]["error"] == 1 and gr["valid"] == 1 and gr["runs"] == 2
    assert cp["hit_limit"] == 1 and cp["status"] == {
        "optimal": 1, "feasible": 1, "infeasible": 0, "unknown": 0, "error": 0}
    assert cp["mean_cost"] == pytest.approx(16.0)
    assert cp["max_seconds"] == pytest.approx(9.9) and gr["peak_mb"] == 100.0


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return _write(tmp_path / "synth.jsonl", synthetic_rows() + classic_rows())


def test_report_tables(results: Path, tmp_path: Path):
    md = report([results], plots=False)
    out = tmp_path / "synth-report"
    assert (out / "report.md").read_text() == md
    assert not list(out.glob("*.png"))
    solvers = _section(md, "### Solvers")
    headers = _table_row(solvers, "solver")
    assert headers[:11] == ["solver", "runs", "valid", "optimal", "feasible", "infeasible",
                            "unknown", "error", "hit limit", "fallback", "p2 vs best"]
    cells = dict(zip(headers, _table_row(solvers, "cpsat"), strict=True))
    assert cells["runs"] == "2" and cells["valid"] == "2" and cells["optimal"] == "1"
    assert cells["hit limit"] == "1" and cells["fallback"] == "1"
    assert cells["p2 vs best"] == "100.0%" and cells["p0 vs best"] == "91.7%"
    assert cells["wins"] == "1/2"
    assert cells["carbon saved"] == "+26.7%" and cells["cost saved"] == "+29.2%"
    assert cells["mean gap"] == "5.0%" and cells["mean cost"] == "16.00"
    cells = dict(zip(headers, _table_row(solvers, "greedy"), strict=True))
    assert cells["error"] == "1" and cells["valid"] == "1" and cells["wins"] == "1/2"
    assert cells["carbon saved"] == "+10.0%" and cells["cost saved"] == "+0.0%"
    cells = dict(zip(headers, _table_row(solvers, "carbon-agnostic"), strict=True))
    assert cells["wins"] == "1/2" and cells["carbon saved"] == "ref."
    # the error, explicitly
    assert "Errors: 1;" in md
    assert re.search(r"\*\*error\*\*: `greedy` on `i2` \(seed 0\): RuntimeError: boom", md)
    # per instance: value / cost, best in bold, the error shown
    inst = _section(md, "### Instances")
    assert _table_row(inst, "instance")[2:] == ["cpsat", "greedy", "carbon-agnostic"]
    assert _table_row(inst, "i1")[1:] == ["4 / 2 / 6", "15 / 20.00", "**16 / 30.00**",
                                          "**16 / 30.00**"]
    assert _table_row(inst, "i2")[2:] == ["**10 / 12.00**", "error", "10 / 16.00"]
    # classic: only in the classic suite
    assert "## Suite `synth`" in md and "## Suite `bpplib:demo`" in md
    synth = md[md.index("## Suite `synth`"):md.index("## Suite `bpplib:demo`")]
    assert "Classic instances" not in synth
    classic = _section(md, "### Classic instances")
    assert _table_row(classic, "greedy")[1:] == ["1", "1", "10.0%", "10.0%", "0/1", "0"]
    assert _table_row(classic, "cpsat")[1:] == ["1", "1", "0.0%", "0.0%", "1/1", "0"]


def test_report_plots_and_time_limits(tmp_path: Path):
    """Two time limits: a section per limit, the savings plots and the time-limit plot."""
    first = _write(tmp_path / "a.jsonl", synthetic_rows(10.0))
    second = _write(tmp_path / "b.jsonl", synthetic_rows(30.0))
    out = tmp_path / "rep"
    md = report([first, second], out_dir=out)
    assert "### time limit 10 s" in md and "### time limit 30 s" in md
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["synth-t10-savings.png", "synth-t30-savings.png", "synth-time-limits.png"]
    for name in pngs:
        data = (out / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 5000
        assert f"]({name})" in md
    assert (out / "report.md").exists()


def test_report_last_row_wins_and_no_reference(tmp_path: Path):
    """A run repeated in a later file replaces the earlier row; no carbon-agnostic: no savings."""
    rows = [r for r in synthetic_rows() if r["solver"] != "carbon-agnostic"]
    first = _write(tmp_path / "a.jsonl", rows)
    fixed = {**rows[3], "status": "feasible", "placed_value_by_priority": {"2": 8, "0": 2},
             "placed_value": 10, "cost": 12, "valid": True}
    fixed.pop("error", None)
    second = _write(tmp_path / "b.jsonl", [fixed])
    md = report([first, second], out_dir=tmp_path / "r", plots=False)
    assert "carbon saved" not in md and "No `carbon-agnostic` runs" in md
    assert "Errors: 0;" in md


def test_report_errors(tmp_path: Path):
    with pytest.raises(ValueError, match="at least one"):
        report([])
    with pytest.raises(FileNotFoundError, match="missing.jsonl"):
        report([tmp_path / "missing.jsonl"])


# ---------------------------------------------------------------------------
# One plan
# ---------------------------------------------------------------------------


def test_plot_plan(tmp_path: Path):
    problem = Problem.from_dict({
        "name": "tiny",
        "horizon": {"slots": 6},
        "resources": ["gpu"],
        "regions": [{"id": "eu", "price_per_kwh": 0.1, "power_cap_kw": [20, 20, 20, 10, 10, 20]},
                    {"id": "us", "price_per_kwh": 0.2}],
        "nodes": [{"id": "n", "region": "eu", "count": 2, "capacity": {"gpu": 8},
                   "idle_kw": 0.5, "kw_per_unit": {"gpu": 1.0}, "unavailable": [[4, 6]]},
                  {"id": "m", "region": "us", "capacity": {"gpu": 8},
                   "kw_per_unit": {"gpu": 1.0}}],
        "jobs": [{"id": "a", "demand": {"gpu": 6}, "duration": 2, "priority": 2,
                  "required": True},
                 {"id": "b", "demand": {"gpu": 4}, "duration": 3, "priority": 1, "replicas": 2},
                 {"id": "c", "demand": {"gpu": 4}, "duration": 1}],
    })
    plan = solve(problem, solver="greedy")
    assert plan.assignments
    paths = plot_plan(problem, plan, tmp_path / "plan")
    assert set(paths) == {"gantt", "power"}
    assert paths["gantt"].name == "tiny-gantt.png" and paths["power"].name == "tiny-power.png"
    for p in paths.values():
        data = p.read_bytes()
        assert data.startswith(PNG) and len(data) > 5000


def test_gap_to_lp_column(tmp_path: Path):
    """Rows with ``lp_gap`` (``bench --lp-bound``) get a *gap to LP* column, the
    mean over valid runs; without them there is no such column."""
    rows = [_row("i1", "cpsat", p2=10, p0=5, cost=20, carbon=8, lp_gap=0.1),
            _row("i2", "cpsat", p2=8, p0=2, cost=12, carbon=4, lp_gap=0.3),
            _row("i1", "greedy", p2=10, p0=4, cost=20, carbon=8, lp_gap=0.5)]
    md = report([_write(tmp_path / "lp.jsonl", rows)], plots=False)
    solvers = _section(md, "### Solvers")
    headers = _table_row(solvers, "solver")
    assert dict(zip(headers, _table_row(solvers, "cpsat"), strict=True))["gap to LP"] == "20.0%"
    assert dict(zip(headers, _table_row(solvers, "greedy"), strict=True))["gap to LP"] == "50.0%"
    # carbon per kWh: every row uses carbon kg = energy kWh / 10 -> 100 g/kWh
    assert dict(zip(headers, _table_row(solvers, "cpsat"), strict=True))["g/kWh"] == "100.0"
    plain = report([_write(tmp_path / "plain.jsonl", synthetic_rows())], plots=False)
    assert "gap to LP" not in plain
