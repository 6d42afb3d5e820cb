"""The greedy fast path (class-level bounds and fit counts) against an
exhaustive search of the same engine, and its plans on random problems."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from allocopt.benchmarks.generators import generate_size
from allocopt import Problem
from allocopt.greedy import Scheduler, job_order, run_greedy
from allocopt.prepared import Prepared
from allocopt.validate import is_valid, validate
from tests.strategies import problems, random_problem


def _option_cost(sched: Scheduler, j: int, start: int, nodes: tuple[int, ...]) -> float:
    from allocopt.greedy import _option_cost as cost

    return cost(sched, j, start, nodes)


def _compare_with_exhaustive(problem: Problem) -> int:
    """Walk the greedy order; for every one-replica job the pruned search
    (class bounds, fit counts) finds an option exactly as cheap as the
    exhaustive search over every class, node and start. Returns the number
    of jobs compared."""
    p = Prepared(problem)
    sched = Scheduler(p)
    compared = 0
    for j in job_order(p):
        fast = sched.try_job(j, prune=True)
        full = sched.try_job(j, prune=False)
        assert isinstance(fast, str) == isinstance(full, str), (p.job_ids[j], fast, full)
        if isinstance(fast, str):
            continue
        if p.replicas[j] == 1:
            compared += 1
            c_fast = _option_cost(sched, j, *fast)
            c_full = _option_cost(sched, j, *full)
            assert c_fast == pytest.approx(c_full, rel=1e-9, abs=1e-6), p.job_ids[j]
        sched.place(j, *fast)
    return compared


@pytest.mark.parametrize("seed", range(40))
def test_pruned_choice_is_as_cheap_as_exhaustive(seed: int):
    """Random small problems: the fast path never picks a dearer option."""
    _compare_with_exhaustive(random_problem(seed, max_jobs=8))


def test_pruned_choice_on_generated_instance():
    """A generated instance with many nodes per class, two capped regions and
    a budget: the fit counts and bounds are exercised as nodes fill up."""
    data = generate_size("small", seed=7)
    assert _compare_with_exhaustive(Problem.from_dict(data)) > 20


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_jobs=8))
def test_fast_greedy_plans_validate(problem: Problem):
    plan = run_greedy(problem)
    assert is_valid(plan, validate(problem, plan))
    assert {a.job for a in plan.assignments} | {u.job for u in plan.unplaced} == {
        j.id for j in problem.jobs}


def test_fit_counts_match_nodes():
    """The per-class fit counts kept by place() equal a recount from the nodes."""
    problem = Problem.from_dict(generate_size("small", seed=3))
    p = Prepared(problem)
    sched = Scheduler(p)
    for j in job_order(p)[:60]:
        sched._fit_counts(j)  # start tracking this demand vector
        got = sched.try_job(j)
        if not isinstance(got, str):
            sched.place(j, *got)
    K = len(sched._fit_key)
    assert K > 0
    for k in range(K):
        dem = sched._fit_dem[k]
        room = ((sched.free_r >= dem[:, None, None] - 1e-9) | (dem[:, None, None] <= 0)).all(0)
        room &= sched.active[:, None]
        count = np.add.reduceat(room.astype(int), p.class_first, axis=0)
        assert (sched._fit_count[k] == count).all()
