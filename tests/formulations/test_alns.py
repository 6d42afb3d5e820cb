"""ALNS (formulations/alns.py): combined objective, validated improvements only."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from formulation_kit import assert_valid, problem, random_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from allocopt.formulations import alns as alns_mod
from allocopt.formulations.backends.cpsat import CpSatBackend
from allocopt.formulations.stages import Stage
from allocopt import SolveParams, solve
from allocopt.prepared import Prepared
from allocopt.validate import better, is_valid, lex_key, validate

PARAMS = SolveParams(time_limit=2.0, seed=0, workers=1, max_model_terms=1)


def test_combined_terms_rank_stages_lexicographically():
    """Every unit of an earlier stage outweighs the whole range of later ones."""
    a, b, c = object(), object(), object()
    stages = [Stage("tier 1", "max", [(a, 3)], 1.0), Stage("tier 0", "max", [(b, 5)], 1.0),
              Stage("cost", "min", [(c, 7)], 1.0)]
    terms = dict((id(v), k) for v, k in alns_mod.combined_terms(stages))
    assert terms[id(c)] == -7
    assert terms[id(b)] == 5 * 8
    assert terms[id(a)] == 3 * 48  # (5 x 8 + 7) + 1
    # Any gain in tier 1 beats the best case of everything below it.
    assert terms[id(a)] > terms[id(b)] + 7


def test_combined_terms_overflow_gives_none():
    v = object()
    big = [Stage(f"t{i}", "max", [(v, 2 ** 40)], 1.0) for i in range(3)]
    assert alns_mod.combined_terms(big) is None


@settings(max_examples=6, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_alns_accepts_only_validated_improvements(seed):
    """Each accepted round is strictly better and valid; the final plan is
    never worse than the start."""
    p = random_problem(seed, max_replicas=3)
    prep = Prepared(p)
    start = solve(p, solver="carbon-agnostic")
    search = alns_mod.Alns(p, prep, PARAMS, start, CpSatBackend, "cpsat")
    keys = [lex_key(p, start.metrics)]
    import time
    end = time.perf_counter() + 1.0
    for _ in range(12):
        before = search.metrics
        if search.step(end + 5.0):
            assert better(p, search.metrics, before)
            keys.append(lex_key(p, search.metrics))
    from allocopt.formulations.solve_model import to_plan
    plan = to_plan(p, prep, search.start, search.nodes, "cpsat", "x")
    assert is_valid(plan.replace(status="infeasible"), validate(p, plan))
    assert not better(p, start.metrics, plan.metrics)
    assert keys == sorted(keys)
    assert sum(k.rounds for k in search.stats.kinds.values()) == 12


def test_alns_rejects_an_invalid_candidate(monkeypatch, caplog):
    """A sub-model that returns a broken plan (forced here: the validator
    reports a violation) is discarded and logged; the plan stays."""
    p = problem([{"id": "a", "demand": {"gpu": 6}, "duration": 2},
                 {"id": "b", "demand": {"gpu": 7}, "duration": 2}],
                regions=[{"id": "eu", "price_per_kwh": [0.1, 0.1, 0.2, 0.2]}])
    prep = Prepared(p)
    start = solve(p, solver="greedy")
    from allocopt.validate import Violation
    monkeypatch.setattr(alns_mod, "validate", lambda problem, plan: [Violation("capacity", "x")])
    search = alns_mod.Alns(p, prep, PARAMS, start, CpSatBackend, "cpsat")
    import time
    with caplog.at_level(logging.ERROR, logger="allocopt.formulations.alns"):
        for _ in range(6):
            assert not search.step(time.perf_counter() + 5.0)
    assert search.metrics == start.metrics
    assert np.all(search.start >= -1)


def test_alns_finds_the_cheaper_order():
    """The LNS test case through ALNS directly: 7 x 2 x 0.1 + 6 x 2 x 0.2 = 3.8."""
    p = problem([{"id": "a", "demand": {"gpu": 6}, "duration": 2},
                 {"id": "b", "demand": {"gpu": 7}, "duration": 2}],
                regions=[{"id": "eu", "price_per_kwh": [0.1, 0.1, 0.2, 0.2]}])
    prep = Prepared(p)
    start = solve(p, solver="first-fit")
    plan, stats = alns_mod.alns(p, prep, PARAMS, start, __import__("time").perf_counter() + 1.5,
                                CpSatBackend, "cpsat")
    assert_valid(p, plan)
    assert plan.metrics["cost"] == pytest.approx(3.8)
    assert sum(k.improvements for k in stats.kinds.values()) >= 1
    assert "rounds" in stats.table()
