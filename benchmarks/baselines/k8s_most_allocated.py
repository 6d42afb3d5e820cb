"""k8s-most-allocated: kube-scheduler's MostAllocated node scoring.

Jobs are taken one at a time in the order kube-scheduler's queue pops pods:
highest priority first, then file order, a predecessor always before its
successors. Each job is placed at its earliest feasible start; among the
eligible nodes with room then, each is scored as kube-scheduler's
NodeResourcesFit plugin does with the MostAllocated strategy: the mean over
the resources the node has of (used after placing / capacity) x 100, in
integer arithmetic, where the committed amount is the peak over the slots the
job would run. The highest score wins (the fullest node that still has room),
so it packs jobs onto few nodes; ties go to the node first in file order.
Every job that fits is placed; prices and carbon play no part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from allocopt.greedy import run_greedy
from allocopt.prepared import Prepared

from ._common import register, start_first, topo_order
from ._k8s import k8s_key

if TYPE_CHECKING:
    from allocopt.greedy import Options, Scheduler
    from allocopt.plan import Plan
    from allocopt.problem import Problem

NAME = "k8s-most-allocated"
DESCRIPTION = "kube-scheduler NodeResourcesFit MostAllocated, priority queue order"


def plan(problem: Problem, *, seed: int = 0) -> Plan:
    """Plan ``problem`` like kube-scheduler's MostAllocated (``seed`` is unused)."""
    return _plan(problem, Prepared(problem), seed)


@start_first
def _score(opts: Options, sched: Scheduler, j: int) -> np.ndarray:
    return k8s_key(opts, sched, j, most=True)


def _plan(problem: Problem, prep: Prepared, seed: int) -> Plan:
    order = topo_order(prep, lambda j: (-int(prep.priority[j]),))
    return run_greedy(problem, prep=prep, order=order, score=_score, prune=False,
                      value_checks=False, solver=NAME)


planner = register(NAME, DESCRIPTION, plan, _plan)
