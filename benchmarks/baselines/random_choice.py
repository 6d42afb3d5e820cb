"""random: a random job order and a random feasible option, seeded.

Jobs are taken in a random order drawn from ``seed`` (moved later only where
``after`` requires). Each job gets a start and nodes drawn uniformly from its
feasible options given what is already placed (the idle copies of one node
entry are interchangeable and count as one option). The same seed always
gives the same plan. Every job that fits is placed; nothing else plays a
part.
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

NAME = "random"
DESCRIPTION = "random job order and random feasible option (seeded)"


def plan(problem: Problem, *, seed: int = 0) -> Plan:
    """Plan ``problem`` at random; reproducible for a given ``seed``."""
    return _plan(problem, Prepared(problem), seed)


def _plan(problem: Problem, prep: Prepared, seed: int) -> Plan:
    rng = np.random.default_rng(seed)
    rank = rng.permutation(prep.J)
    order = topo_order(prep, lambda j: (int(rank[j]),))

    def anything(opts: Options, sched: Scheduler, j: int) -> np.ndarray:
        # The smallest of i.i.d. uniform keys is a uniform pick among the
        # feasible options (the engine masks the others).
        return rng.random(opts.ok.shape)

    return run_greedy(problem, prep=prep, order=order, score=anything, prune=False,
                      value_checks=False, solver=NAME)


planner = register(NAME, DESCRIPTION, plan, _plan)
