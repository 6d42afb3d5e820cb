"""Moves (PROBLEM.md, Re-planning): the cost of leaving a planned placement.

A planned job j with a previous placement (start s0, nodes N0) that the
model can still keep (s0 is one of its starts, every node of N0 one of its
nodes) and a positive ``move_cost`` has a boolean ``moved[j]``:

    y[j,s0]  >= 1 - moved[j]
    a[j,n]   >= 1 - moved[j]        for every n in N0

so ``moved[j] = 0`` only when j keeps its start and all of its ``replicas``
nodes (exactly N0: it has no more). The cost stage adds
``move_cost[j] * moved[j]``; a placement the model cannot keep is moved in
every plan, a constant left out of the model.
"""

from __future__ import annotations

from typing import Any

from .scope import Scope
from .variables import Variables


def add_moves(m: Any, scope: Scope, x: Variables) -> None:
    """Link ``moved[j]`` to the start and node choices (module docstring)."""
    p = scope.prep
    for j, v in list(x.moved.items()):
        s0, nodes = p.planned[j]
        if s0 not in x.y[j] or any(n not in x.a[j] for n in nodes):
            m.add(v >= 1)  # cannot be kept in this model
            continue
        m.add(x.y[j][s0] + v >= 1)
        for n in nodes:
            m.add(x.a[j][n] + v >= 1)


def move_terms(scope: Scope, x: Variables) -> list[tuple[Any, float]]:
    """Cost terms ``(moved[j], move_cost[j])`` (currency, before scaling)."""
    p = scope.prep
    return [(v, float(p.move_cost[j])) for j, v in x.moved.items()]
