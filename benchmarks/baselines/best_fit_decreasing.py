"""best-fit-decreasing: largest jobs first, each on the tightest node.

Jobs are sorted by size as in first-fit-decreasing (dominant resource share x
duration x replicas, largest first, ties in file order, predecessors first).
Each job is placed at its earliest feasible start, on the eligible node with
room then that leaves the least free capacity of the job's dominant resource
(the resource with the largest share) over the job's run, in that resource's
units: the tightest fit. Ties go to the node first in file order. Every job
that fits is placed; prices, carbon and priorities play no part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from allocopt.greedy import run_greedy
from allocopt.prepared import Prepared

from ._common import (
    dominant_share,
    job_size,
    register,
    start_then,
    start_first,
    start_then_rule,
    topo_order,
    window_free,
)

if TYPE_CHECKING:
    from allocopt.greedy import Options, Scheduler
    from allocopt.plan import Plan
    from allocopt.problem import Problem

NAME = "best-fit-decreasing"
DESCRIPTION = "largest jobs first, earliest start on the tightest-fitting node"


def plan(problem: Problem, *, seed: int = 0) -> Plan:
    """Plan ``problem`` with best-fit-decreasing (``seed`` is unused)."""
    return _plan(problem, Prepared(problem), seed)


def _plan(problem: Problem, prep: Prepared, seed: int) -> Plan:
    size = job_size(prep)
    order = topo_order(prep, lambda j: (-float(size[j]),))
    dominant = np.argmax(dominant_share(prep), axis=1) if prep.R else np.zeros(prep.J, int)
    maxcap = prep.capacity.max(axis=0) if prep.N else np.zeros(prep.R)

    @start_first
    def tightest(opts: Options, sched: Scheduler, j: int) -> np.ndarray:
        if prep.R == 0:  # no resources: every node fits the same
            return start_then(opts, np.zeros(opts.ok.shape), 0.0)
        r = int(dominant[j])
        d = int(prep.duration[j])

        def leftover(cols: np.ndarray) -> np.ndarray:
            free = window_free(sched, opts.nodes, opts.starts[cols], d)[:, :, r]
            return np.clip(free - prep.demand[j, r], 0.0, None)  # infeasible ones are masked

        return start_then_rule(opts, sched, j, leftover, float(maxcap[r]))

    return run_greedy(problem, prep=prep, order=order, score=tightest, prune=False,
                      value_checks=False, solver=NAME)


planner = register(NAME, DESCRIPTION, plan, _plan)
