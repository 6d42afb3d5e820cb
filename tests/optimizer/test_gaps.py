"""Per-entry gaps (PLAN.md extension ``gaps``): present, consistent with
``gap`` and ``bound``, 0 for a proven entry, and stated in one line."""

from __future__ import annotations

import json

import pytest

from allocopt.formulations.stages import gap_of, gaps_of
from allocopt import Model, SolveParams, solve
from allocopt.plan import Plan, gaps_text


def _metrics(tiers, cost, value=None):
    return {"placed_value_by_priority": tiers, "cost": cost,
            "placed_value": value if value is not None else sum(tiers.values())}


def test_gaps_by_hand():
    """Tier 1 at its bound, tier 0 at 6 of 8, cost 40 against 30."""
    m = _metrics({"1": 10.0, "0": 6.0}, 40.0)
    bound = {"placed_value_by_priority": {"1": 10.0, "0": 8.0}, "cost": 30.0}
    gaps = gaps_of(None, m, bound)
    assert gaps == {"placed_value_by_priority": {"1": 0.0, "0": 0.25}, "cost": 0.25}
    assert gap_of(None, m, bound) == 0.25
    assert gaps_text(gaps) == "tier 1 proven, tier 0 within 25.0%, cost within 25.0%"
    # A cost bound above the cost counts as the cost itself (gap 0).
    assert gaps_of(None, m, {"cost": 50.0}) == {"cost": 0.0}
    assert gaps_of(None, m, None) is None


def test_weighted_gaps_by_hand():
    m = _metrics({"0": 10.0}, 2.0)
    assert gaps_of(None, m, {"objective": 10.0}) == {"objective": pytest.approx(0.2)}


def test_tiers_proven_line():
    gaps = {"placed_value_by_priority": {"3": 0.0, "2": 0.0}, "cost": 0.123}
    assert gaps_text(gaps) == "tiers proven, cost within 12.3%"
    assert gaps_text(None) == ""


def _tiny():
    """One 8-GPU node, two jobs that cannot run together in 2 slots of 2:
    tier 1 gets its 5, tier 0 nothing -- proven at once."""
    m = Model(slots=2, resources=["gpu"], name="tiny")
    m.add_region("eu", price_per_kwh=0.1)
    m.add_node("n", region="eu", capacity={"gpu": 8}, kw_per_unit={"gpu": 1.0})
    m.add_job("hi", demand={"gpu": 8}, duration=2, priority=1, value=5.0)
    m.add_job("lo", demand={"gpu": 4}, duration=2, priority=0, value=3.0)
    return m.data()


def test_proven_plan_has_zero_gaps_with_the_bound_keys():
    p = _tiny()
    plan = solve(p, params=SolveParams(time_limit=10, workers=1))
    assert str(plan.status) == "optimal" and plan.gap == 0.0
    assert plan.metrics["placed_value_by_priority"] == {"1": 5.0, "0": 0.0}
    assert plan.gaps["placed_value_by_priority"] == {t: 0.0 for t in
                                                     plan.bound["placed_value_by_priority"]}
    assert plan.gaps["cost"] == 0.0
    # 8 GPUs x 1 kW x 2 h x 0.1 = 1.6, and the bound says so.
    assert plan.metrics["cost"] == pytest.approx(1.6)
    assert plan.bound["cost"] == pytest.approx(1.6)
    again = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again.gaps == plan.gaps


def test_greedy_plan_has_no_gaps():
    plan = solve(_tiny(), solver="greedy")
    assert plan.bound is None and plan.gaps is None and plan.to_dict()["gaps"] is None
