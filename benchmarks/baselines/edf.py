"""edf: earliest deadline first list scheduling.

Jobs are sorted by deadline, earliest first (a job without one has the end
of the horizon), then by release, then file order; a predecessor always
comes before its successors. Each job is placed at its earliest feasible
start, on the first eligible node in the file's node order with room then.
Every job that fits is placed; prices, carbon, priorities and values play no
part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocopt.greedy import run_greedy
from allocopt.prepared import Prepared

from ._common import register, start_then_node, topo_order

if TYPE_CHECKING:
    from allocopt.plan import Plan
    from allocopt.problem import Problem

NAME = "edf"
DESCRIPTION = "earliest deadline first, earliest start on the first node with room"


def plan(problem: Problem, *, seed: int = 0) -> Plan:
    """Plan ``problem`` earliest deadline first (``seed`` is unused)."""
    return _plan(problem, Prepared(problem), seed)


def _plan(problem: Problem, prep: Prepared, seed: int) -> Plan:
    order = topo_order(prep, lambda j: (int(prep.deadline[j]), int(prep.release[j])))
    return run_greedy(problem, prep=prep, order=order, score=start_then_node, prune=False,
                      value_checks=False, solver=NAME)


planner = register(NAME, DESCRIPTION, plan, _plan)
