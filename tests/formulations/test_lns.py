"""Large-neighbourhood search: the path for models too big to build whole,
forced here with ``SolveParams(max_model_terms=1)``."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from formulation_kit import assert_valid, placed, problem, random_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from allocopt.formulations.scope import neighbourhood_scope
from allocopt.formulations.solve_model import plan_arrays
from allocopt import SolveParams, solve
from allocopt.prepared import Prepared
from allocopt.validate import better

LNS = SolveParams(time_limit=2.0, seed=0, workers=1, max_model_terms=1)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_lns_plan_is_valid_and_never_worse_than_greedy(seed):
    """Random problems through LNS: a valid plan, at least as good as greedy.
    Pools of up to 4 copies and up to 5 replicas exercise neighbourhoods that
    free jobs with more replicas than the idle copies a neighbourhood offers."""
    p = random_problem(seed, max_replicas=5)
    greedy = solve(p, solver="greedy")
    plan = solve(p, solver="cpsat", params=LNS)
    assert_valid(p, plan)
    assert not better(p, greedy.metrics, plan.metrics)


@pytest.mark.parametrize("extra", [
    [],
    # an 8-GPU job that no plan can add to the optimum: it stays unplaced
    # (not for a static reason), so every improving round leaves a job out
    [{"id": "c", "demand": {"gpu": 8}, "duration": 2}],
], ids=["all-placed", "one-left-out"])
def test_lns_improves_on_the_greedy_plan(solver, extra):
    """Greedy runs the smaller job (6 GPUs) in the cheap slots (cost 4.0);
    a time-window neighbourhood frees the jobs and finds the optimum, the
    larger one first: 7 x 2 x 0.1 + 6 x 2 x 0.2 = 3.8.

    With c (8 GPUs) as well, any two of the three jobs fill the 4 slots, and
    a + b in that order is still the cheapest pair (c pairs cost 4.0 to 4.6).
    """
    p = problem([{"id": "a", "demand": {"gpu": 6}, "duration": 2},
                 {"id": "b", "demand": {"gpu": 7}, "duration": 2}, *extra],
                regions=[{"id": "eu", "price_per_kwh": [0.1, 0.1, 0.2, 0.2]}])
    greedy = solve(p, solver="greedy")
    assert greedy.metrics["cost"] == pytest.approx(4.0)  # 6 x 2 x 0.1 + 7 x 2 x 0.2
    plan = solve(p, solver=solver, params=LNS)
    assert_valid(p, plan)
    assert plan.fallback is None
    assert (placed(plan)["b"].start, placed(plan)["a"].start) == (0, 2)
    assert plan.metrics["cost"] == pytest.approx(3.8)


# A pool of 8 one-GPU nodes: 'big' (6 replicas) is placed first by greedy on
# #0-#5, 'c' (3 replicas) then finds only 2 free nodes.
POOL = [{"id": "p", "region": "eu", "capacity": {"gpu": 1}, "count": 8}]
BIG_AND_C = [{"id": "big", "demand": {"gpu": 1}, "duration": 2, "replicas": 6, "value": 10.0},
             {"id": "c", "demand": {"gpu": 1}, "duration": 2, "replicas": 3}]


def test_neighbourhood_keeps_every_freed_placed_job():
    """Freeing a placed 6-replica job in a pool with nothing fixed must keep it
    in the neighbourhood model (it needs 6 candidate nodes of the pool): a
    freed job left out of the model keeps its old nodes in the merged plan
    while the model hands them to other jobs."""
    p = problem(BIG_AND_C, slots=2, nodes=POOL)
    prep = Prepared(p)
    greedy = solve(p, solver="greedy")
    assert set(placed(greedy)) == {"big"}
    start, nodes = plan_arrays(prep, greedy)
    scope = neighbourhood_scope(prep, start, nodes, free={0, 1})
    assert 0 in scope.jobs  # big
    assert len(scope.nodes[0]) >= 6


def test_lns_rounds_produce_valid_plans(caplog):
    """No neighbourhood of the pool problem yields a plan the validator rejects
    (solve_model logs such rounds as errors and discards them)."""
    p = problem(BIG_AND_C, slots=2, nodes=POOL)
    with caplog.at_level(logging.ERROR, logger="allocopt.formulations.solve_model"):
        plan = solve(p, solver="cpsat", params=SolveParams(
            time_limit=1.5, seed=0, workers=1, max_model_terms=1))
    assert_valid(p, plan)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert np.isclose(plan.metrics["placed_value"], 10.0)  # big; c cannot fit beside it


def test_neighbourhoods_are_halved_until_they_fit(monkeypatch):
    """``lns_max_terms`` caps every neighbourhood model (a round's model
    building cannot be interrupted): an oversized one is halved until it fits
    or only two jobs are left."""
    import dataclasses

    import allocopt.formulations.alns as sm

    built = []
    original = sm.neighbourhood_scope

    def recording(prep, start, nodes, free, **kw):
        scope = original(prep, start, nodes, free, **kw)
        built.append((len(free), scope.size_estimate()))
        return scope

    monkeypatch.setattr(sm, "neighbourhood_scope", recording)
    p = random_problem(3, max_jobs=12)
    cap = 150
    plan = solve(p, solver="cpsat", params=dataclasses.replace(LNS, lns_max_terms=cap))
    assert_valid(p, plan)
    assert any(size > cap for _, size in built), "the cap never bit: use a larger problem"
    for (k, size), (k2, _) in zip(built, built[1:]):
        if size > cap and k > 2:
            assert k2 == k // 2  # an oversized scope is followed by the halved one


@settings(max_examples=6, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_windowed_neighbourhoods_stay_valid_and_never_worse(seed):
    """Long horizons get time-windowed neighbourhoods over a pool of nodes;
    forced on here (a window of +-1 slot on any horizon) on random problems:
    every plan validates and is at least as good as greedy's."""
    import allocopt.formulations.alns as sm

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sm, "half_width", lambda prep: 1)
        mp.setattr(sm, "POOL_EXTRA", 1)
        p = random_problem(seed, max_replicas=4, max_slots=10)
        greedy = solve(p, solver="greedy")
        plan = solve(p, solver="cpsat", params=LNS)
    assert_valid(p, plan)
    assert not better(p, greedy.metrics, plan.metrics)


def _two_job_plan():
    """a (2 slots) placed at 3 on p#0, b unplaced-able anywhere in 0..8."""
    nodes = [{"id": "p", "region": "eu", "capacity": {"gpu": 1}, "count": 4}]
    p = problem([{"id": "a", "demand": {"gpu": 1}, "duration": 2, "release": 3},
                 {"id": "b", "demand": {"gpu": 1}, "duration": 2}], slots=10, nodes=nodes)
    prep = Prepared(p)
    start = np.array([3, -1])
    return prep, start, {0: (0,)}


def test_time_window_bounds_the_starts_of_freed_jobs():
    """A freed placed job may start only within half_width of its current
    start (which stays allowed); an unplaced one around its given centre."""
    prep, start, nodes = _two_job_plan()
    scope = neighbourhood_scope(prep, start, nodes, free={0, 1}, centre={1: 7}, half_width=2)
    assert scope.starts[0].tolist() == [3, 4, 5]  # release 3 cuts 1..2 off
    assert scope.starts[1].tolist() == [5, 6, 7, 8]  # 7 +- 2, latest start 8
    whole = neighbourhood_scope(prep, start, nodes, free={0, 1})
    assert whole.starts[1].tolist() == list(range(9))


def test_node_pool_limits_busy_nodes_but_keeps_the_current_ones():
    """With a node pool, a freed job keeps its current node and may use idle
    copies, but not busy nodes outside the pool."""
    nodes_spec = [{"id": "p", "region": "eu", "capacity": {"gpu": 1}, "count": 6}]
    jobs = [{"id": f"j{i}", "demand": {"gpu": 1}, "duration": 1} for i in range(4)]
    p = problem(jobs, slots=2, nodes=nodes_spec)
    prep = Prepared(p)
    start = np.array([0, 0, 0, 0])
    cur = {0: (0,), 1: (1,), 2: (2,), 3: (3,)}  # p#4, p#5 idle
    pool = np.zeros(prep.N, dtype=bool)
    pool[[0, 2]] = True  # j0's node and one other busy node
    scope = neighbourhood_scope(prep, start, cur, free={0}, node_pool=pool, half_width=5)
    assert set(scope.nodes[0].tolist()) == {0, 2, 4, 5}


def test_targets_that_stayed_out_make_way_for_others():
    """Target rounds free unplaced jobs; those an earlier round freed without
    placing them (``skip``) are chosen again only when no other is left."""
    from allocopt.formulations.solve_model import _neighbourhood

    jobs = [{"id": f"j{i}", "demand": {"gpu": 8}, "duration": 2, "priority": 1} for i in range(4)]
    p = problem(jobs, slots=4)
    prep = Prepared(p)
    start = np.array([-1, -1, -1, 0])
    nodes = {3: (0,)}
    rng = np.random.default_rng(0)
    free, _ = _neighbourhood(prep, start, nodes, rng, 3, 1, None, frozenset({0, 1}))
    assert free[0] == 2 and 3 in free  # the one fresh target, and the job in its way
    free, _ = _neighbourhood(prep, start, nodes, rng, 3, 1, None, frozenset({0, 1, 2}))
    assert free[0] in {0, 1, 2}  # all tried: any of them again
