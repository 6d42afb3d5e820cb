"""The heuristic baselines people use today, as planners of the same problem.

Importing this package registers every baseline with
:func:`allocopt.solve.register_solver` (kind ``"baseline"``), so
``allocopt.solve(problem, solver="first-fit")`` runs one through the same
validator gate as every other planner, and :data:`BASELINES` maps each name
to its ``plan(problem, *, seed=0) -> Plan``. All of them run on the greedy
engine's feasibility machinery, so they honour every hard constraint; they
differ in job order and option choice. ``README.md`` states each rule.

Examples
--------
>>> from allocopt.benchmarks.baselines import get_baseline, list_baselines
>>> "first-fit" in list_baselines()
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from . import (  # noqa: F401 - importing a module registers its baseline
    best_fit_decreasing,
    carbon_agnostic,
    carbon_greedy,
    edf,
    first_fit,
    first_fit_decreasing,
    k8s_least_allocated,
    k8s_most_allocated,
    priority_greedy,
    random_choice,
)
from ._common import BASELINES as BASELINES

if TYPE_CHECKING:
    from allocopt.plan import Plan

#: The baseline modules, in the order of README.md.
MODULES = (
    first_fit, first_fit_decreasing, best_fit_decreasing, priority_greedy,
    k8s_least_allocated, k8s_most_allocated, edf, random_choice,
    carbon_agnostic, carbon_greedy,
)


def list_baselines() -> list[str]:
    """Names of all baselines (also the ``solver`` string of their plans)."""
    return [m.NAME for m in MODULES]


def get_baseline(name: str) -> Callable[..., Plan]:
    """The ``plan(problem, *, seed=0)`` function of baseline ``name``.

    Raises
    ------
    KeyError
        If ``name`` is not a baseline; the message lists the known names.
    """
    try:
        return BASELINES[name]
    except KeyError:
        raise KeyError(f"unknown baseline {name!r}; known: {', '.join(list_baselines())}") from None
