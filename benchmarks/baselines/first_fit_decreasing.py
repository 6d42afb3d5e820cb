"""first-fit-decreasing: largest jobs first, each on the first node with room.

Jobs are sorted by size, largest first, where size is the job's dominant
resource share (the largest of its per-replica demands, each divided by the
largest capacity of that resource on any node) times its duration times its
replicas; ties keep file order, and a predecessor always comes before its
successors. Each job is then placed as in first-fit: at its earliest feasible
start, on the first eligible node in the file's node order with room then.
Every job that fits is placed; prices, carbon and priorities play no part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocopt.greedy import run_greedy
from allocopt.prepared import Prepared

from ._common import job_size, register, start_then_node, topo_order

if TYPE_CHECKING:
    from allocopt.plan import Plan
    from allocopt.problem import Problem

NAME = "first-fit-decreasing"
DESCRIPTION = "largest jobs first, earliest start on the first node with room"


def plan(problem: Problem, *, seed: int = 0) -> Plan:
    """Plan ``problem`` with first-fit-decreasing (``seed`` is unused)."""
    return _plan(problem, Prepared(problem), seed)


def _plan(problem: Problem, prep: Prepared, seed: int) -> Plan:
    size = job_size(prep)
    order = topo_order(prep, lambda j: (-float(size[j]),))
    return run_greedy(problem, prep=prep, order=order, score=start_then_node, prune=False,
                      value_checks=False, solver=NAME)


planner = register(NAME, DESCRIPTION, plan, _plan)
