"""Tiny hand-made problems shared by the tests.

Problems are frozen, so the problem fixtures are session-scoped; make
variants with ``problem.replace(...)`` or from the ``*_data`` dict fixtures,
which hand each test its own fresh copy.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

from allocopt import Problem

TESTS = Path(__file__).parent
# ``tests/strategies.py`` is shared by test modules in sub-folders; make it
# importable whatever pytest's import mode is.
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


_ONE_NODE: dict[str, Any] = {
    "name": "one_node",
    "horizon": {"slots": 6},
    "resources": ["gpu", "cpu"],
    "regions": [{"id": "eu", "price_per_kwh": 0.1, "carbon_g_per_kwh": 100}],
    "nodes": [{"id": "n1", "region": "eu", "capacity": {"gpu": 8, "cpu": 32},
               "idle_kw": 0.5, "kw_per_unit": {"gpu": 1.0}}],
    "jobs": [
        {"id": "a", "demand": {"gpu": 6, "cpu": 8}, "duration": 2},
        {"id": "b", "demand": {"gpu": 6, "cpu": 8}, "duration": 2},
    ],
}

_TWO_REGIONS: dict[str, Any] = {
    "name": "two_regions",
    "horizon": {"slots": 4},
    "resources": ["gpu"],
    "regions": [
        {"id": "cheap", "price_per_kwh": 0.1, "carbon_g_per_kwh": 50},
        {"id": "dear", "price_per_kwh": 0.3, "carbon_g_per_kwh": 400},
    ],
    "links": [{"a": "cheap", "b": "dear", "latency_ms": 40}],
    "nodes": [
        {"id": "c", "region": "cheap", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0}},
        {"id": "d", "region": "dear", "capacity": {"gpu": 8}, "kw_per_unit": {"gpu": 1.0}},
    ],
    "jobs": [{"id": "job", "demand": {"gpu": 4}, "duration": 2}],
}

_REPLICATED: dict[str, Any] = {
    "name": "replicated",
    "horizon": {"slots": 3},
    "resources": ["gpu"],
    "regions": [
        {"id": "a", "price_per_kwh": 0.2},
        {"id": "b", "price_per_kwh": 0.3},
        {"id": "c", "price_per_kwh": 0.1},
    ],
    "links": [
        {"a": "a", "b": "b", "latency_ms": 10},
        {"a": "a", "b": "c", "latency_ms": 100},
    ],
    "nodes": [
        {"id": "na", "region": "a", "capacity": {"gpu": 4}, "count": 2,
         "kw_per_unit": {"gpu": 1.0}},
        {"id": "nb", "region": "b", "capacity": {"gpu": 4}, "kw_per_unit": {"gpu": 1.0}},
        {"id": "nc", "region": "c", "capacity": {"gpu": 4}, "count": 2,
         "kw_per_unit": {"gpu": 1.0}},
    ],
    "jobs": [{"id": "svc", "demand": {"gpu": 4}, "duration": 2, "replicas": 2,
              "min_regions": 2, "max_latency_ms": 50}],
}

_INFEASIBLE: dict[str, Any] = {
    "name": "infeasible",
    "horizon": {"slots": 4},
    "resources": ["gpu"],
    "regions": [{"id": "eu"}],
    "nodes": [{"id": "n1", "region": "eu", "capacity": {"gpu": 8}}],
    "jobs": [
        {"id": "huge", "demand": {"gpu": 16}, "duration": 1, "required": True},
        {"id": "ok", "demand": {"gpu": 8}, "duration": 1},
    ],
}


@pytest.fixture
def one_node_data() -> dict[str, Any]:
    """Raw data of ``one_node`` (a fresh deep copy: tests may edit it)."""
    return copy.deepcopy(_ONE_NODE)


@pytest.fixture(scope="session")
def one_node() -> Problem:
    """One region, one 8-GPU node (idle 0.5 kW, 1 kW per GPU), six slots, two
    2-slot jobs of 6 GPUs each: only one fits at a time."""
    return Problem.from_dict(_ONE_NODE)


@pytest.fixture
def two_regions_data() -> dict[str, Any]:
    """Raw data of ``two_regions`` (a fresh deep copy: tests may edit it)."""
    return copy.deepcopy(_TWO_REGIONS)


@pytest.fixture(scope="session")
def two_regions() -> Problem:
    """Two linked regions 40 ms apart, 'cheap' (0.1/kWh) and 'dear' (0.3/kWh),
    one 8-GPU node each, one 4-GPU job of two slots."""
    return Problem.from_dict(_TWO_REGIONS)


@pytest.fixture
def replicated_data() -> dict[str, Any]:
    """Raw data of ``replicated`` (a fresh deep copy: tests may edit it)."""
    return copy.deepcopy(_REPLICATED)


@pytest.fixture(scope="session")
def replicated() -> Problem:
    """Three regions a-b 10 ms, a-c 100 ms (b-c 110 ms via a); c is cheapest;
    one job of two replicas that must span two regions within 50 ms."""
    return Problem.from_dict(_REPLICATED)


@pytest.fixture
def infeasible_data() -> dict[str, Any]:
    """Raw data of ``infeasible`` (a fresh deep copy: tests may edit it)."""
    return copy.deepcopy(_INFEASIBLE)


@pytest.fixture(scope="session")
def infeasible() -> Problem:
    """One 8-GPU node and a *required* 16-GPU job that can never fit, plus a
    job that fits: every plan is infeasible."""
    return Problem.from_dict(_INFEASIBLE)
