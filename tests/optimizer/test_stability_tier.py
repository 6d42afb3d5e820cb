"""``objective.stability_tier`` (extension, docs/PROBLEM.md, Re-planning):
moves rank right below a tier, above the lower tiers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from allocopt import Problem, ProblemError, SolveStatus, solve, solvers, validate
from allocopt.validate import better, is_valid, lex_key

# One 8-GPU node, 5 slots. 'p' (tier 1) was planned at [1, 3); 'q' (tier 0,
# value 10) needs 3 slots of the whole node, which it only gets if 'p' moves
# to [0, 2) or [3, 5). Keeping 'p' costs q's value; moving it costs one move.
_BASE: dict[str, Any] = {
    "name": "stability",
    "horizon": {"slots": 5},
    "resources": ["gpu"],
    "regions": [{"id": "eu", "price_per_kwh": 0.1}],
    "nodes": [{"id": "n", "region": "eu", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0}}],
    "jobs": [
        {"id": "p", "demand": {"gpu": 8}, "duration": 2, "priority": 1, "value": 1,
         "planned": {"start": 1, "nodes": ["n"]}},
        {"id": "q", "demand": {"gpu": 8}, "duration": 3, "priority": 0, "value": 10},
    ],
    "objective": {"move_cost": 5.0},
}


def _problem(stability_tier: int | None, mode: str = "lexicographic") -> Problem:
    data = copy.deepcopy(_BASE)
    data["objective"]["mode"] = mode
    if stability_tier is not None:
        data["objective"]["stability_tier"] = stability_tier
    return Problem.from_dict(data)


_EXACT = [n for n in ("cpsat", "pulp") if n in solvers() and solvers()[n].available()]


@pytest.mark.parametrize("name", _EXACT)
@pytest.mark.parametrize("stab, moves, tier0", [
    (None, 1, 10.0),  # spec order: tier 0's value outranks the move
    (1, 0, 0.0),      # moves rank below tier 1, above tier 0: p stays, q is left out
    (0, 1, 10.0),     # below tier 0: only the cost comes after, as without it
])
def test_hand_checked_optima(name, stab, moves, tier0):
    p = _problem(stab)
    plan = solve(p, solver=name, time_limit=10, workers=1)
    assert is_valid(plan, validate(p, plan))
    assert plan.status == SolveStatus.OPTIMAL
    assert plan.metrics["moves"] == moves
    assert plan.metrics["placed_value_by_priority"] == {"1": 1.0, "0": tier0}
    if stab is not None:
        assert plan.bound["move_cost"] == pytest.approx(5.0 * moves)
        assert plan.gaps["move_cost"] == 0.0


def test_lex_key_puts_moves_below_the_stability_tier():
    """Keeping p (tiers 1 / 0 = 1 / 0, no move) beats moving it (1 / 10, one
    move) with stability tier 1, and loses without it."""
    keep = {"required_placed": 0, "placed_value_by_priority": {"1": 1.0, "0": 0.0},
            "move_cost": 0.0, "cost": 0.2}
    move = {"required_placed": 0, "placed_value_by_priority": {"1": 1.0, "0": 10.0},
            "move_cost": 5.0, "cost": 5.5}
    assert better(_problem(1), keep, move) and not better(_problem(1), move, keep)
    assert better(_problem(None), move, keep)
    assert lex_key(_problem(1), keep) == (0.0, 1.0, -0.0, 0.0, -0.2)


def test_weighted_mode_rejects_it_by_name():
    with pytest.raises(ProblemError) as e:
        _problem(1, mode="weighted")
    assert any(m.startswith("objective.stability_tier:") for m in e.value.errors)


def test_carbon_mode_takes_it():
    p = _problem(1, mode="carbon")
    plan = solve(p, solver="cpsat", time_limit=10, workers=1)
    assert is_valid(plan, validate(p, plan))
    assert plan.metrics["moves"] == 0 and plan.status == SolveStatus.OPTIMAL


def test_round_trip_keeps_the_field():
    p = _problem(1)
    assert Problem.from_dict(p.to_dict()).objective.stability_tier == 1
    assert "stability_tier" not in _problem(None).to_dict()["objective"]


def test_cli_sets_it_and_names_bad_values(tmp_path):
    """``allocopt solve --stability-tier 1 --move-cost 5`` on the problem
    without them keeps 'p'; a negative tier is bad input (exit 2)."""
    import json

    from typer.testing import CliRunner

    from allocopt.cli import app

    data = copy.deepcopy(_BASE)
    del data["objective"]
    src = tmp_path / "p.json"
    src.write_text(json.dumps(data))
    out = tmp_path / "plan.json"
    r = CliRunner().invoke(app, ["solve", str(src), "--stability-tier", "1", "--move-cost", "5",
                                 "--time-limit", "10", "--workers", "1", "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    plan = json.loads(out.read_text())
    assert plan["metrics"]["moves"] == 0 and plan["bound"]["move_cost"] == 0.0
    r = CliRunner().invoke(app, ["solve", str(src), "--stability-tier", "-1", "-q",
                                 "-o", str(out)])
    assert r.exit_code == 2 and "stability_tier" in r.output
