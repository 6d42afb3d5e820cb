"""POP-style decomposition: faithful parts, merged plans that validate."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from allocopt.benchmarks.generators import generate_size
from allocopt import Problem, SolveParams, solve
from allocopt.decompose import choose_parts, job_units, partition, sub_problem
from allocopt.errors import ProblemError
from allocopt.prepared import Prepared
from allocopt.validate import better, is_valid, validate


@pytest.fixture(scope="module")
def medium() -> Problem:
    return Problem.from_dict(generate_size("medium", seed=5))


@pytest.mark.parametrize("k", [2, 3, 4])
def test_partition_is_faithful(medium: Problem, k: int):
    p = Prepared(medium)
    parts = partition(p, k)
    assert len(parts) == k
    # Every job in exactly one part; precedence chains never split.
    owner = {}
    for i, part in enumerate(parts):
        for j in part.jobs:
            assert j not in owner
            owner[j] = i
    assert sorted(owner) == list(range(p.J))
    for j in range(p.J):
        for q in p.preds[j]:
            assert owner[q] == owner[j]
    # Node copies add up; every region and node type with >= k nodes is in every part.
    assert (sum(pt.counts for pt in parts) == p.class_count).all()
    for g in range(p.G):
        for t in set(p.class_type):
            m = (p.class_region == g) & (np.array(p.class_type) == t)
            if p.class_count[m].sum() >= k:
                assert all(pt.counts[m].sum() >= 1 for pt in parts), (g, t)
    # Caps and budgets are shared out exactly.
    assert np.allclose(sum(pt.share for pt in parts), 1.0)
    # Every tier is represented in every part where it has >= k units.
    for tier in set(p.priority.tolist()):
        units = [u for u in job_units(p) if max(p.priority[u]) == tier]
        if len(units) >= k:
            assert all(any(p.priority[j] == tier for j in pt.jobs) for pt in parts)


def test_units_are_precedence_components(medium: Problem):
    p = Prepared(medium)
    graph = nx.Graph()
    graph.add_nodes_from(range(p.J))
    graph.add_edges_from((q, j) for j in range(p.J) for q in p.preds[j])
    assert sorted(map(sorted, nx.connected_components(graph))) == sorted(job_units(p))


def test_sub_problems_use_disjoint_nodes_and_scaled_caps(medium: Problem):
    p = Prepared(medium)
    parts = partition(p, 3)
    seen: set[str] = set()
    for i, part in enumerate(parts):
        data = sub_problem(medium, p, part, i)
        sub = Problem.from_dict(data)  # a valid problem on its own
        assert set(part.names) == set(sub.node_names())
        glob = set(part.names.values())
        assert len(glob) == len(part.names) and not glob & seen
        seen |= glob
        assert {j.id for j in sub.jobs} == {p.job_ids[j] for j in part.jobs}
        for g, (a, b) in enumerate(zip(medium.regions, sub.regions, strict=True)):
            if a.energy_budget_kwh is not None:
                assert b.energy_budget_kwh == pytest.approx(a.energy_budget_kwh * part.share[g])
    assert seen == set(p.node_names)


def test_choose_parts():
    assert choose_parts(1000, 400_000, 500) == 1
    assert choose_parts(1_000_000, 400_000, 2000) == 3
    assert choose_parts(10**9, 400_000, 20_000) == 16
    assert choose_parts(10**9, 400_000, 120) == 2  # at least 50 jobs a part
    assert choose_parts(1000, 400_000, 500, requested=4) == 4
    # Few enough parts for each to get time: 2 workers x 60 s -> at most 4.
    assert choose_parts(10**9, 400_000, 20_000, workers=2, time_limit=60) == 4
    assert choose_parts(10**9, 400_000, 20_000, workers=2, time_limit=600) == 16
    assert choose_parts(10**9, 400_000, 20_000, workers=1, time_limit=5) == 2


def test_parts_must_be_non_negative():
    with pytest.raises(ProblemError, match="parts"):
        SolveParams(parts=-1).checked()
    with pytest.raises(ProblemError, match="engine"):
        SolveParams(engine="spark").checked()


def test_decomposed_plan_validates_and_beats_greedy():
    problem = Problem.from_dict(generate_size("small", seed=11))
    greedy = solve(problem, solver="greedy")
    plan = solve(problem, solver="cpsat", params=SolveParams(time_limit=12, parts=2, workers=2))
    assert is_valid(plan, validate(problem, plan))
    assert plan.fallback is None or "greedy" not in plan.fallback
    assert not better(problem, greedy.metrics, plan.metrics)
