"""The ``shift`` suite (``data/bench/shift/``, ``benchmarks/shift.py``): the
stored files load, match the generator, share one job set, and every job fits."""

from __future__ import annotations

import json

import pytest

from allocopt.benchmarks.shift import (
    OBJECTIVES,
    PINNED_SHARE,
    SLACKS,
    SUITE_DIR,
    base_problem,
    carbon_bound,
    instance_name,
    parse_name,
    read_bounds,
    variant,
)
from allocopt import load_problem, solve
from allocopt.validate import is_valid, validate

NAMES = [instance_name(k, o, f) for k in SLACKS for o in OBJECTIVES for f in ("free", "time")]


def test_suite_is_complete_and_names_parse():
    stored = sorted(p.stem for p in SUITE_DIR.glob("*.json"))
    assert stored == sorted(NAMES)
    for name in NAMES:
        meta = parse_name(name)
        assert meta is not None and instance_name(meta["slack"], meta["objective"],
                                                  meta["freedom"]) == name
    assert parse_name("shift-k24-p7") is None and parse_name("real-week-s0") is None


def test_stored_free_instance_matches_generator():
    """Rebuilt deterministically: a free instance equals the generator's output."""
    data = variant(base_problem(), 24, "p19")
    stored = json.loads((SUITE_DIR / "shift-k24-p19.json").read_text(encoding="utf-8"))
    assert stored == json.loads(json.dumps(data))
    assert "Electricity Maps" in stored["description"]  # ODbL attribution kept


@pytest.mark.parametrize("name", ["shift-k00-carbon", "shift-k48-p085-time"])
def test_instances_share_jobs_and_respect_slack(name):
    meta = parse_name(name)
    p = load_problem(SUITE_DIR / f"{name}.json")
    base = load_problem(SUITE_DIR / "shift-k24-p19.json")
    mode, price = OBJECTIVES[meta["objective"]]
    assert (p.objective.mode, p.objective.carbon_price_per_kg) == (mode, price)
    assert [(j.id, j.duration, j.release, j.demand) for j in p.jobs] == \
        [(j.id, j.duration, j.release, j.demand) for j in base.jobs]
    assert all(j.deadline == j.release + j.duration + meta["slack"] for j in p.jobs)
    assert all(j.deadline <= p.horizon.slots and 1 <= j.duration <= 24 for j in p.jobs)
    pinned = [j for j in p.jobs if j.regions is not None]
    if meta["freedom"] == "time":
        assert len(pinned) == len(p.jobs) and all(len(j.regions) == 1 for j in pinned)
    else:
        assert 0.15 < len(pinned) / len(p.jobs) < 0.45  # about PINNED_SHARE
        assert PINNED_SHARE == 0.3


def test_every_job_fits_and_greedy_saves_carbon():
    """On one instance: carbon-agnostic and greedy place every job; in carbon
    mode greedy emits less than carbon-agnostic (the same work, shifted)."""
    p = load_problem(SUITE_DIR / "shift-k24-carbon-time.json")
    plans = {s: solve(p, solver=s) for s in ("carbon-agnostic", "greedy")}
    for plan in plans.values():
        assert not plan.unplaced and is_valid(plan, validate(p, plan))
    assert plans["greedy"].metrics["carbon_kg"] < plans["carbon-agnostic"].metrics["carbon_kg"]


def test_carbon_bound_below_every_plan():
    """The per-job (capacity-free) and LP bounds never exceed a valid plan's carbon."""
    p = load_problem(SUITE_DIR / "shift-k04-carbon-time.json")
    b = carbon_bound(p, time_limit=30)
    greedy = solve(p, solver="greedy").metrics["carbon_kg"]
    assert b["free_kg"] <= greedy + 1e-9
    if b["lp_kg"] is not None:
        assert b["lp_kg"] <= greedy + 1e-6
    stored = read_bounds()
    if "shift-k04-carbon-time" in stored:
        assert stored["shift-k04-carbon-time"] == pytest.approx(
            max(v for v in b.values() if v is not None), rel=1e-5)
