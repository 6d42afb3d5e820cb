"""first-fit: jobs in file order, each on the first node with room.

Jobs are taken in the order of the problem file, moved later only where
``after`` requires (a predecessor always comes before its successors). Each
job is placed at its earliest feasible start, on the first eligible node in
the file's node order (expanded copies ``<id>#0, #1, ...`` in order) that has
room for it then; a replicated job takes the first nodes that together meet
its replication rules. Nothing is skipped for lack of value: every job that
fits is placed. Prices, carbon and priorities play no part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocopt.greedy import run_greedy
from allocopt.prepared import Prepared

from ._common import register, start_then_node, topo_order

if TYPE_CHECKING:
    from allocopt.plan import Plan
    from allocopt.problem import Problem

NAME = "first-fit"
DESCRIPTION = "file order, earliest start on the first node with room"


def plan(problem: Problem, *, seed: int = 0) -> Plan:
    """Plan ``problem`` with first-fit (``seed`` is unused: deterministic)."""
    return _plan(problem, Prepared(problem), seed)


def _plan(problem: Problem, prep: Prepared, seed: int) -> Plan:
    order = topo_order(prep, lambda j: ())
    return run_greedy(problem, prep=prep, order=order, score=start_then_node, prune=False,
                      value_checks=False, solver=NAME)


planner = register(NAME, DESCRIPTION, plan, _plan)
