"""``benchmarks/savings.py``: savings at equal work from hand-made result rows,
the time/region split, the physical limit, the figure, and the report hook."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from allocopt.benchmarks.report import best_rows, report
from allocopt.benchmarks.savings import bounds_for, plot_slack, same_work, savings, section, split

if TYPE_CHECKING:
    from pathlib import Path

PNG = b"\x89PNG\r\n\x1a\n"


def _row(instance: str, solver: str, carbon: float, cost: float, *, placed: int = 10,
         status: str = "feasible", gap: float | None = None, **extra: Any) -> dict[str, Any]:
    row = {
        "suite": "shift", "instance": instance, "solver": solver, "seed": 0, "time_limit": 60.0,
        "workers": 2, "jobs": 10, "nodes": 4, "slots": 168, "status": status, "valid": True,
        "placed_value_by_priority": {"0": float(placed)}, "placed_value": float(placed),
        "placed_jobs": placed, "unplaced_jobs": 10 - placed, "required_placed": 0,
        "carbon_kg": carbon, "cost": cost, "energy_kwh": 100.0, "gap": gap, "bound": None,
        "seconds": 1.0,
    }
    row.update(extra)
    return row


def _rows() -> list[dict[str, Any]]:
    # Reference: 100 kg, cost 10. cpsat: 70 kg / cost 8 free, 90 kg / cost 9.5
    # with regions pinned. greedy places one job fewer: not the same work.
    return [
        _row("shift-k24-p19", "carbon-agnostic", 100.0, 10.0),
        _row("shift-k24-p19", "cpsat", 70.0, 8.0, status="optimal", gap=0.0),
        _row("shift-k24-p19", "greedy", 60.0, 5.0, placed=9),
        # The time twin's own carbon-agnostic run is ignored in favour of the
        # free twin's (the same plan in the suite); a different figure here
        # shows which one is used.
        _row("shift-k24-p19-time", "carbon-agnostic", 95.0, 10.0),
        _row("shift-k24-p19-time", "cpsat", 90.0, 9.5, status="feasible", gap=0.004),
        _row("shift-k00-p19", "carbon-agnostic", 100.0, 10.0),
        _row("shift-k00-p19", "cpsat", 95.0, 9.0, status="optimal", gap=0.0),
        _row("shift-k00-p19-time", "carbon-agnostic", 100.0, 10.0),
        _row("shift-k00-p19-time", "cpsat", 100.0, 10.0, status="optimal", gap=0.0),
    ]


def test_same_work():
    ref = _row("x", "carbon-agnostic", 1.0, 1.0)
    assert same_work(_row("x", "cpsat", 2.0, 2.0), ref)
    assert not same_work(_row("x", "cpsat", 2.0, 2.0, placed=9), ref)
    assert not same_work(_row("x", "cpsat", 2.0, 2.0, valid=False), ref)
    # Same count, but the reference leaves jobs out: the sets may differ.
    assert not same_work(_row("x", "cpsat", 2.0, 2.0, placed=9),
                         _row("x", "carbon-agnostic", 1.0, 1.0, placed=9))


def test_savings_split_and_limit():
    bounds = {"shift-k24-p19": 60.0, "shift-k24-p19-time": 85.0}
    recs = savings(_rows(), bounds)
    assert {(r["instance"], r["solver"]) for r in recs} == {
        ("shift-k24-p19", "cpsat"), ("shift-k24-p19-time", "cpsat"),
        ("shift-k00-p19", "cpsat"), ("shift-k00-p19-time", "cpsat")}
    by = {r["instance"]: r for r in recs}
    assert by["shift-k24-p19"]["carbon_saved"] == pytest.approx(30.0)
    assert by["shift-k24-p19"]["cost_saved"] == pytest.approx(20.0)
    assert by["shift-k24-p19"]["limit"] == pytest.approx(40.0)
    # Against the free twin's reference (100 kg), not its own (95 kg).
    assert by["shift-k24-p19-time"]["carbon_saved"] == pytest.approx(10.0)
    assert by["shift-k24-p19-time"]["limit"] == pytest.approx(15.0)
    sp = split(recs)
    k24 = sp[("cpsat", "p19", 24, 0)]
    assert (k24["total"], k24["time"], k24["region"]) == pytest.approx((30.0, 10.0, 20.0))
    assert k24["cost"] == pytest.approx(20.0) and k24["time_cost"] == pytest.approx(5.0)
    k0 = sp[("cpsat", "p19", 0, 0)]
    assert (k0["total"], k0["time"], k0["region"]) == pytest.approx((5.0, 0.0, 5.0))
    assert k0["limit"] is None  # no bound given


def test_section_and_figure(tmp_path: Path):
    md = section(_rows(), {"shift-k24-p19": 60.0})
    assert "**+30.0%** = +10.0% + +20.0%" in md
    assert "**+40.0%**" in md  # the limit at 24 h
    assert "`cpsat`: 3 of 4 runs proven optimal; largest gap to its bound 0.40%." in md
    png = plot_slack(_rows(), tmp_path / "slack.png", {"shift-k24-p19": 60.0})
    assert png is not None and png.read_bytes().startswith(PNG)
    # Rows without shift instance names: no figure.
    other = [dict(r, instance=r["instance"].replace("shift", "other")) for r in _rows()]
    assert plot_slack(other, tmp_path / "none.png") is None


def test_report_includes_savings(tmp_path: Path):
    path = tmp_path / "shift.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows()), encoding="utf-8")
    md = report([path], out_dir=tmp_path / "rep", plots=True)
    assert "Savings at equal work" in md
    assert (tmp_path / "rep" / "shift-slack.png").read_bytes().startswith(PNG)


def test_report_compares_carbon_mode_rows_by_carbon():
    """In carbon mode the lower-carbon plan is best even when it costs more."""
    clean = _row("i", "cpsat", 10.0, 9.0, objective_mode="carbon")
    cheap = _row("i", "greedy", 20.0, 1.0, objective_mode="carbon")
    assert best_rows([clean, cheap]) == [clean]
    lex = [dict(clean, objective_mode="lexicographic"), dict(cheap, objective_mode="lexicographic")]
    assert best_rows(lex) == [lex[1]]


def test_bounds_come_from_the_rows_suite_folder(tmp_path: Path):
    (tmp_path / "carbon_bounds.csv").write_text(
        "instance,free_kg,lp_kg,bound_kg\nshift-k24-p19,50.0,,50.0\n", encoding="utf-8")
    rows = [dict(r, suite=str(tmp_path)) for r in _rows()]
    assert bounds_for(rows) == {"shift-k24-p19": 50.0}
    recs = {r["instance"]: r for r in savings(rows, bounds_for(rows))}
    assert recs["shift-k24-p19"]["limit"] == pytest.approx(50.0)
    other = [dict(r, instance="small-s0") for r in rows]
    assert bounds_for(other) == {}
