"""Stages start from the best known complete plan (``run_stages(known=...)``)."""

from __future__ import annotations

import time

import numpy as np
from formulation_kit import full_model, random_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from allocopt.formulations.solve_model import extract, hint_values, plan_arrays, to_plan
from allocopt.formulations.stages import make_stages, run_stages
from allocopt import SolveParams, solve
from allocopt.validate import better


@settings(max_examples=8, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_stages_never_end_below_a_known_plan(seed):
    """Hinted with the empty plan but given the carbon-agnostic plan as a
    known plan, the stages end with a plan at least as good as it, even
    when every stage has almost no time (the known plan is taken before
    each solve and kept if a solve ends worse)."""
    p = random_problem(seed)
    known_plan = solve(p, solver="carbon-agnostic")
    m, scope, x = full_model(p)
    prep = scope.prep
    empty_start = np.full(prep.J, -1, dtype=int)
    known_start, known_nodes = plan_arrays(prep, known_plan)
    stages = make_stages(p, scope, x)
    values = run_stages(m, stages, x, hint_values(scope, x, empty_start, {}),
                        SolveParams(time_limit=1.0), time.perf_counter() + 0.03, scope,
                        known=[hint_values(scope, x, known_start, known_nodes)])
    got = to_plan(p, prep, *extract(scope, x, values, empty_start, {}), "cpsat", "x")
    assert not better(p, known_plan.metrics, got.metrics)
