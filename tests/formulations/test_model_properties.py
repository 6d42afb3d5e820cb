"""Property tests of the model on seeded random problems (every feature).

Each example is a seed for :func:`formulation_kit.random_problem_data`, which
mixes regions with links, pools, maintenance, power caps, budgets, price and
carbon curves, required jobs, precedence, replication rules, due dates and
both objective modes. Examples are derandomised so a run is reproducible; a
failing seed goes into ``@example`` as a regression test.
"""

from __future__ import annotations

from formulation_kit import (
    FEASIBLE,
    assert_valid,
    brute_force_best,
    fixed_status,
    full_model,
    random_problem,
    solve_exact,
    tiny_problem,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from allocopt import solve
from allocopt.validate import better, compute_metrics, lex_key

SEEDS = st.integers(min_value=0, max_value=2**31 - 1)
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True)
#: Seconds per exact solve: the random problems prove optimal in milliseconds.
LIMIT = 4.0


@PROPERTY
@given(SEEDS)
def test_exact_plan_is_valid_and_never_worse_than_greedy(seed):
    """cpsat's plan validates, names every job once (unplaced with a reason),
    is infeasible exactly when a required job is out, and is at least as good
    as the greedy plan -- by the model itself, not by the fallback."""
    p = random_problem(seed)
    greedy = solve(p, solver="greedy")
    assert_valid(p, greedy)
    plan = solve_exact(p, time_limit=LIMIT)
    assert_valid(p, plan)
    required_out = any(j.required and j.id not in plan.placed_ids for j in p.jobs)
    assert (str(plan.status) == "infeasible") == required_out
    assert not better(p, greedy.metrics, plan.metrics)
    # The model starts from the greedy plan, so it never needs the fallback.
    assert plan.fallback is None, plan.fallback
    assert plan.metrics == compute_metrics(p, plan.assignments)


@PROPERTY
@given(SEEDS)
def test_model_accepts_the_greedy_plan(seed):
    """Model and validator agree: the greedy plan (valid by the validator),
    fixed into a fresh full model variable by variable, is feasible."""
    p = random_problem(seed)
    greedy = solve(p, solver="greedy")
    m, scope, x = full_model(p)
    assert fixed_status(m, scope, x, greedy) in FEASIBLE


@settings(max_examples=15, deadline=None, derandomize=True)
@given(SEEDS)
def test_optimal_status_is_a_true_optimum_on_tiny_problems(seed):
    """On problems small enough to enumerate, a plan marked optimal (or
    infeasible, which also comes with a proof here) is as good as the best
    valid plan found by brute force."""
    p = tiny_problem(seed)
    best_key, best = brute_force_best(p)
    plan = solve_exact(p, time_limit=LIMIT)
    # rel 1e-6: the cost stage scales costs to ~7 significant digits
    assert not better(p, compute_metrics(p, best.assignments), plan.metrics, rel=1e-6), (
        f"status {plan.status}: {lex_key(p, plan.metrics)} < brute force {best_key}: "
        f"{best.assignments}")
