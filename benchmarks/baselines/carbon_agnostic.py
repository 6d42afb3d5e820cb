"""carbon-agnostic: the greedy planner without energy awareness.

The package's greedy planner with electricity prices and carbon ignored: the
same job order (required jobs and what they depend on first, then by
priority tier, then by value density) and the same value checks, but each
option is costed with a zero energy rate, so only tardiness and node costs
(``cost_per_slot``) count; ties go to the earliest start, then the node first
in file order. It is what the planner does without energy awareness.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from allocopt.greedy import job_order, run_greedy
from allocopt.prepared import Prepared

from ._common import register

if TYPE_CHECKING:
    from allocopt.greedy import Options, Scheduler
    from allocopt.plan import Plan
    from allocopt.problem import Problem

NAME = "carbon-agnostic"
DESCRIPTION = "the greedy planner with prices and carbon ignored (earliest start)"


def plan(problem: Problem, *, seed: int = 0) -> Plan:
    """Plan ``problem`` with the energy-blind greedy planner (``seed`` is unused)."""
    return _plan(problem, Prepared(problem), seed)


def _score(opts: Options, sched: Scheduler, j: int) -> np.ndarray:
    # opts.cost is priced at the zero rate: tardiness plus node cost only.
    return opts.cost + 1e-7 * opts.starts[None, :]


def _plan(problem: Problem, prep: Prepared, seed: int) -> Plan:
    zeros = np.zeros_like(prep.cost_rate)
    return run_greedy(problem, prep=prep, order=job_order(prep), score=_score, prune=False,
                      cost_rate=zeros, solver=NAME)


planner = register(NAME, DESCRIPTION, plan, _plan)
