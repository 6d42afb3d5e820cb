"""The speed-ups of issue 14 (session 2) against the plain computations they
replace: the doubling sliding minimum, the cached maintenance windows and
eligible classes, the lazily updated fit counts, the earliest-start-first
search of the list-scheduling baselines, repair's deadline, and the repair
pass of the decomposition."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocopt import Problem
from allocopt.benchmarks.baselines._common import start_first, start_then_node
from allocopt.benchmarks.generators import generate_size
from allocopt.decompose import _repaired
from allocopt.greedy import Scheduler, job_order, run_greedy
from allocopt.prepared import Prepared, sliding_min
from allocopt.repair import _job_regions, repair
from allocopt.validate import better, is_valid, validate
from tests.strategies import random_problem


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 45), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_sliding_min_equals_windowed_min(width: int, d: int, rows: int, seed: int):
    a = np.random.default_rng(seed).normal(size=(rows, width))
    d = min(d, width)
    want = np.array([[a[r, s:s + d].min() for s in range(width - d + 1)] for r in range(rows)])
    assert np.array_equal(sliding_min(a, d), want)
    assert np.array_equal(sliding_min(a[0], d), want[0])


@pytest.fixture(scope="module")
def small() -> tuple[Problem, Prepared]:
    problem = Problem.from_dict(generate_size("small", seed=11))
    return problem, Prepared(problem)


def test_window_free_matches_blocked_counts(small):
    """Ranges, gaps and reversed starts all give the plain per-start answer."""
    _, p = small
    rng = np.random.default_rng(0)
    classes = np.arange(p.C)
    assert p.class_has_maint.any()
    for d in (1, 3, 7):
        top = p.H - d
        for starts in (np.arange(0, top + 1), np.arange(2, 9), np.array([4]),
                       np.sort(rng.choice(top + 1, size=6, replace=False)),
                       np.array([5, 3, 4, 6]), np.array([1, 2])):
            b = p.class_blocked[classes]
            want = (b[:, starts + d] - b[:, starts]) == 0
            assert np.array_equal(p.window_free(classes, d, starts), want), (d, starts)


def test_eligible_classes_shared_by_shape_equal_direct(small):
    _, p = small
    for j in range(p.J):
        assert np.array_equal(p.eligible_classes(j), p._eligible_classes(j))


def test_lazy_fit_counts_stay_exact(small):
    """After many placements every cached key's cumulative counts equal a
    recount from the per-slot counts (stale classes are brought up to date)."""
    problem, p = small
    sched = Scheduler(p)
    for j in job_order(p):
        sched._fit_counts(j)
        got = sched.try_job(j)
        if not isinstance(got, str):
            sched.place(j, *got)
    K = len(sched._fit_key)
    assert K > 1
    for key, k in sched._fit_key.items():
        j = next(i for i in range(p.J) if p.demand[i].tobytes() == key)
        blocked = sched._fit_counts(j)
        want = np.concatenate([np.zeros((p.C, 1), int),
                               np.cumsum(sched._fit_count[k] == 0, axis=1)], axis=1)
        assert np.array_equal(blocked, want)


def _plain(score):
    def unmarked(opts, sched, j):
        return score(opts, sched, j)
    return unmarked


@pytest.mark.parametrize("seed", range(12))
def test_start_first_search_picks_the_same_options(seed: int):
    """An earliest-start-first score gives the same plan with and without the
    marker (the marker only changes which starts are looked at first)."""
    problem = random_problem(seed, max_slots=12, max_jobs=10)
    marked = run_greedy(problem, score=start_then_node, prune=False, value_checks=False)
    plain = run_greedy(problem, score=_plain(start_then_node), prune=False, value_checks=False)
    assert marked.assignments == plain.assignments
    assert is_valid(marked, validate(problem, marked))


def test_start_first_on_generated_instance(small):
    problem, p = small

    @start_first
    def fullest(opts, sched, j):
        util = sched.util[opts.nodes][:, None]
        return opts.starts[None, :] * 1e6 - util

    marked = run_greedy(problem, prep=p, score=fullest, prune=False)
    plain = run_greedy(problem, prep=p, score=_plain(fullest), prune=False)
    assert marked.assignments == plain.assignments
    assert len(marked.assignments) > 20


def test_repair_past_its_deadline_returns_the_plan(small):
    problem, p = small
    plan = run_greedy(problem, prep=p)
    assert repair(problem, plan, p, deadline=time.perf_counter() - 1.0) is plan


def test_job_regions_match_the_nodes(small):
    problem, p = small
    plan = run_greedy(problem, prep=p)
    from allocopt.greedy import schedule_from_plan

    sched = schedule_from_plan(p, plan)
    got = _job_regions(sched)
    want = np.zeros((p.J, p.G), dtype=bool)
    for j, ns in sched.nodes.items():
        for n in ns:
            want[j, p.node_region[n]] = True
    assert np.array_equal(got, want)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_decomposition_repair_is_valid_and_never_worse(seed: int):
    problem = random_problem(seed, max_slots=10, max_jobs=10)
    p = Prepared(problem)
    plan = run_greedy(problem, prep=p)
    out = _repaired(problem, p, plan, time.perf_counter() + 60.0)
    assert is_valid(out.replace(status="infeasible"), validate(problem, out))
    assert not better(problem, plan.metrics, out.metrics)


@pytest.mark.parametrize("seed", [3, 7])
def test_class_bounds_without_fit_cache_stay_exact(seed: int, monkeypatch):
    """With no demand vector cached, the class bounds come from the lazily
    refreshed per-class free capacity: still never dearer than exhaustive."""
    import allocopt.greedy as greedy
    from tests.optimizer.test_fast_greedy import _compare_with_exhaustive

    monkeypatch.setattr(greedy, "FIT_CACHE_KEYS", 0)
    assert _compare_with_exhaustive(Problem.from_dict(generate_size("small", seed=seed))) > 20


def _recount(sched: Scheduler, k: int) -> np.ndarray:
    p = sched.prep
    dem = sched._fit_dem[k]
    room = ((sched.free_r >= dem[:, None, None] - 1e-9) | (dem[:, None, None] <= 0)).all(0)
    room &= sched.active[:, None]
    return np.add.reduceat(room.astype(int), p.class_first, axis=0)


def test_unplace_keeps_fit_counts_and_class_free_exact(small):
    """repair's unplace (and place again) keeps the per-class fit counts and
    the per-class free capacity equal to a recount from the nodes."""
    from allocopt.greedy import schedule_from_plan
    from allocopt.repair import _jobs_on_nodes, _place, unplace

    problem, p = small
    plan = run_greedy(problem, prep=p)
    sched = schedule_from_plan(p, plan)
    for j in range(p.J):
        sched._fit_counts(j)
    on_node = _jobs_on_nodes(sched)
    placed = sorted(sched.nodes)[::3]
    old = {j: (int(sched.start[j]), sched.nodes[j]) for j in placed}
    for j in placed:
        unplace(sched, j, on_node)
    for k in range(len(sched._fit_key)):
        assert (sched._fit_count[k] == _recount(sched, k)).all()
    sched._refresh_cls_free(np.arange(p.C))
    for c in range(p.C):
        nodes = [n for n in range(p.N) if p.node_class[n] == c and sched.active[n]]
        want = sched.free_r[:, nodes].max(axis=1) if nodes else np.full((p.R, p.H), -np.inf)
        assert np.array_equal(sched.cls_free[:, c], want)
    for j in placed:
        _place(sched, j, *old[j], on_node)
    for k in range(len(sched._fit_key)):
        assert (sched._fit_count[k] == _recount(sched, k)).all()


def test_member_deadline_cuts_a_pass_short(small):
    """Inside the portfolio a member without a deadline of its own honours
    the member deadline: past it, jobs that are not required stay untried."""
    from allocopt.greedy import member_deadline

    problem, p = small
    token = member_deadline.set(time.perf_counter() - 1.0)
    try:
        cut = run_greedy(problem, prep=p)
    finally:
        member_deadline.reset(token)
    full = run_greedy(problem, prep=p)
    assert is_valid(cut.replace(status="infeasible"), validate(problem, cut))
    placed = {a.job for a in cut.assignments}
    assert all(p.required[p.job_index[j]] for j in placed)
    assert any("not tried" in u.reason for u in cut.unplaced)
    assert len(full.assignments) > len(cut.assignments)
