"""Report columns from the per-entry ``gaps`` of bench rows."""

from __future__ import annotations

from typing import Any

import pytest

from allocopt.benchmarks.report import _solver_table, solver_stats


def _row(instance: str, solver: str, *, p2: float, p0: float, cost: float, carbon: float,
         gap: float | None = None, **extra: Any) -> dict[str, Any]:
    """A result row as ``run_task`` writes it (the fields the tables read)."""
    row = {
        "suite": "synth", "instance": instance, "solver": solver, "seed": 0,
        "time_limit": 10.0, "workers": 1, "status": "feasible", "fallback": None,
        "placed_value_by_priority": {"2": p2, "0": p0}, "placed_value": p2 + p0,
        "placed_jobs": 3, "unplaced_jobs": 1, "required_placed": 0,
        "energy_kwh": carbon * 10, "energy_cost": cost, "carbon_kg": carbon, "carbon_cost": 0.0,
        "tardiness": 0.0, "node_cost": 0.0, "cost": cost,
        "bound": None if gap is None else {"cost": cost * (1 - gap)},
        "gap": gap, "seconds": 1.0, "valid": True, "violations": 0, "peak_mb": 100.0,
    }
    row.update(extra)
    return row


def _rows():
    return [
        _row("i1", "cpsat", p2=10, p0=5, cost=20, carbon=8, gap=0.5,
             gaps={"placed_value_by_priority": {"2": 0.0, "0": 0.0}, "cost": 0.5}),
        _row("i2", "cpsat", p2=8, p0=2, cost=12, carbon=4, gap=0.25,
             gaps={"placed_value_by_priority": {"2": 0.0, "0": 0.25}, "cost": 0.1}),
        _row("i1", "greedy", p2=10, p0=6, cost=30, carbon=9),
        _row("i2", "greedy", p2=8, p0=2, cost=16, carbon=6),
    ]


def test_tiers_proven_and_cost_gap():
    st = solver_stats(_rows())
    assert st["cpsat"]["tiers_proven"] == 1 and st["cpsat"]["with_gaps"] == 2
    assert st["cpsat"]["mean_cost_gap"] == pytest.approx(0.3)
    assert st["greedy"]["with_gaps"] == 0 and st["greedy"]["mean_cost_gap"] is None
    table = _solver_table(_rows())
    assert "tiers proven" in table and "cost gap" in table and "1/2" in table


def test_no_gaps_no_columns():
    rows = [_row("i1", "greedy", p2=10, p0=6, cost=30, carbon=9)]
    assert "tiers proven" not in _solver_table(rows)
