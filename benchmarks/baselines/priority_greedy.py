"""priority-greedy: highest priority first, each on the least-utilised node.

Jobs are sorted by priority, highest first, then by value, highest first,
then file order; a predecessor always comes before its successors. Each job
is placed at its earliest feasible start, on the eligible node with room then
that is least utilised so far, the classic capacity-planning (load-spreading)
rule: utilisation is the node's committed share of capacity, averaged over
the resources it has and the slots of the horizon. Ties go to the node first
in file order. Every job that fits is placed; prices and carbon play no part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from allocopt.greedy import run_greedy
from allocopt.prepared import Prepared

from ._common import register, start_first, start_then, topo_order

if TYPE_CHECKING:
    from allocopt.greedy import Options, Scheduler
    from allocopt.plan import Plan
    from allocopt.problem import Problem

NAME = "priority-greedy"
DESCRIPTION = "highest priority then value first, earliest start on the least-utilised node"


def plan(problem: Problem, *, seed: int = 0) -> Plan:
    """Plan ``problem`` with priority-greedy (``seed`` is unused)."""
    return _plan(problem, Prepared(problem), seed)


def _plan(problem: Problem, prep: Prepared, seed: int) -> Plan:
    order = topo_order(prep, lambda j: (-int(prep.priority[j]), -float(prep.value[j])))
    # sched.util sums the used share of each resource over slots: divide by
    # (resources the node has) x H for a utilisation in [0, 1].
    norm = np.maximum((prep.capacity > 0).sum(axis=1), 1) * prep.H

    @start_first
    def least_utilised(opts: Options, sched: Scheduler, j: int) -> np.ndarray:
        util = np.clip(sched.util[opts.nodes] / norm[opts.nodes], 0.0, 1.0)
        return start_then(opts, np.repeat(util[:, None], len(opts.starts), axis=1), 1.0)

    return run_greedy(problem, prep=prep, order=order, score=least_utilised, prune=False,
                      value_checks=False, solver=NAME)


planner = register(NAME, DESCRIPTION, plan, _plan)
