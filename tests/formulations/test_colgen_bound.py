"""The node-schedule (column generation) cost bound of
allocopt.formulations.colgen_bound: exact on a hand-checked case, and never
above the cheapest plan reaching its floors (enumeration of tiny problems)."""

from __future__ import annotations

import pytest
from formulation_kit import problem
from hypothesis import given, settings
from hypothesis import strategies as st
from test_bound_early import _cheapest_reaching, tiny_with_floors

from allocopt.formulations.colgen_bound import colgen_bound
from allocopt.formulations.packing_bound import solve_bound
from allocopt.prepared import Prepared

pytest.importorskip("highspy")


def test_one_job_per_node_hand_checked():
    """Two jobs of 5 GPUs, nodes of 8 (10 per slot to keep on, 1 kW per GPU
    at 1 per kWh, one slot): both placed need both nodes, 2 x 10 + 10 kWh =
    30. A node schedule holds one job, so the bound is 30."""
    p = problem([{"id": "a", "demand": {"gpu": 5}, "duration": 1, "value": 1},
                 {"id": "b", "demand": {"gpu": 5}, "duration": 1, "value": 1}],
                slots=1, regions=[{"id": "eu", "price_per_kwh": 1.0}],
                nodes=[{"id": "n", "region": "eu", "capacity": {"gpu": 8}, "count": 2,
                        "kw_per_unit": {"gpu": 1.0}, "cost_per_slot": 10.0}])
    assert colgen_bound(Prepared(p), {0: 2.0}, time_limit=20) == pytest.approx(30, rel=1e-6)
    assert colgen_bound(Prepared(p), {0: 1.0}, time_limit=20) == pytest.approx(15, rel=1e-6)


def test_sharing_a_node_over_time_is_seen():
    """Two 6-GPU jobs over two slots, one 8-GPU node entry of two copies
    costing 100 to keep on: they can share one node only one after the
    other, and the deadline of 1 forces both into slot 0, so two nodes. The
    class-level relaxation pools the copies' capacity per slot (12 <= 16)
    and sees the same; with a deadline of 2 one node suffices (cost 100)."""
    jobs = [{"id": "a", "demand": {"gpu": 6}, "duration": 1, "value": 1, "deadline": 1},
            {"id": "b", "demand": {"gpu": 6}, "duration": 1, "value": 1, "deadline": 1}]
    nodes = [{"id": "n", "region": "eu", "capacity": {"gpu": 8}, "count": 2,
              "cost_per_slot": 50.0}]
    p = problem(jobs, slots=2, regions=[{"id": "eu"}], nodes=nodes)
    assert colgen_bound(Prepared(p), {0: 2.0}, time_limit=20) == pytest.approx(200, rel=1e-6)
    loose = problem([{**j, "deadline": 2} for j in jobs], slots=2, regions=[{"id": "eu"}],
                    nodes=nodes)
    assert colgen_bound(Prepared(loose), {0: 2.0}, time_limit=20) == pytest.approx(100, rel=1e-6)
    assert solve_bound(Prepared(p), {0: 2.0}) <= 200 + 1e-6


@settings(max_examples=6, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_colgen_bound_below_every_plan_reaching_the_floors(seed):
    case = tiny_with_floors(seed)
    if case is None:
        return
    p, plan, floors = case
    b = colgen_bound(Prepared(p), floors, time_limit=10)
    cheapest = _cheapest_reaching(p, floors)
    assert b <= cheapest + 1e-6 * max(1.0, cheapest)
