"""Fixtures of the formulation tests: every back-end runs every test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:  # ``formulation_kit`` whatever the import mode
    sys.path.insert(0, str(HERE))

from formulation_kit import BACKENDS  # noqa: E402


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> type:
    """A model back-end class (CpSatBackend; others join ``BACKENDS``)."""
    return BACKENDS[request.param]


@pytest.fixture(params=sorted(BACKENDS))
def solver(request: pytest.FixtureRequest) -> str:
    """The name under which ``allocopt.solve`` runs each exact back-end."""
    return request.param
