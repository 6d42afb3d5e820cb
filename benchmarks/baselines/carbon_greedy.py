"""carbon-greedy: each job in its lowest-carbon window and region.

Jobs are taken in file order (moved later only where ``after`` requires).
Each job gets the feasible start and nodes that add the least carbon: the
replica's dynamic energy in that window and region at that region's carbon
intensity, plus, when it wakes an idle node, that node's idle draw over the
horizon (all through the region's PUE), summed over replicas. Ties go to the
earliest start, then the node first in file order. Every job that fits is
placed; prices and priorities play no part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from allocopt.greedy import run_greedy
from allocopt.prepared import Prepared

from ._common import register, topo_order

if TYPE_CHECKING:
    from allocopt.greedy import Options, Scheduler
    from allocopt.plan import Plan
    from allocopt.problem import Problem

NAME = "carbon-greedy"
DESCRIPTION = "file order, each job in its lowest-carbon feasible window and region"


def plan(problem: Problem, *, seed: int = 0) -> Plan:
    """Plan ``problem`` carbon-greedily (``seed`` is unused)."""
    return _plan(problem, Prepared(problem), seed)


def _score(opts: Options, sched: Scheduler, j: int) -> np.ndarray:
    # Carbon in kg; 1e-8 per slot breaks ties toward the earliest start and is
    # far above the rounding noise of the cumulative carbon sums.
    return opts.carbon + 1e-8 * opts.starts[None, :]


def _plan(problem: Problem, prep: Prepared, seed: int) -> Plan:
    order = topo_order(prep, lambda j: ())
    return run_greedy(problem, prep=prep, order=order, score=_score, prune=False,
                      value_checks=False, solver=NAME)


planner = register(NAME, DESCRIPTION, plan, _plan)
