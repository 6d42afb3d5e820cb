"""Priority (PROBLEM.md hard constraint 6 and the objective's tiers).

    required:  sum over required free jobs of placed[j]   (maximised first;
               equal to their number unless the problem is infeasible)
    tier t:    sum over free jobs j of tier t of value[j] * placed[j]

Required jobs are not hard constraints of the model: maximising their
count first lets an infeasible problem still get a plan for everything else,
and the missing ones are explained in domain terms afterwards.
"""

from __future__ import annotations

from typing import Any

from .scope import Scope
from .variables import Variables


def required_terms(scope: Scope, x: Variables) -> list[tuple[Any, int]]:
    p = scope.prep
    return [(x.placed[j], 1) for j in scope.jobs if p.required[j]]


def tier_terms(scope: Scope, x: Variables, tier: int) -> list[tuple[Any, float]]:
    p = scope.prep
    return [(x.placed[j], float(p.value[j])) for j in scope.jobs
            if p.priority[j] == tier and p.value[j] > 0]


def value_terms(scope: Scope, x: Variables) -> list[tuple[Any, float]]:
    p = scope.prep
    return [(x.placed[j], float(p.value[j])) for j in scope.jobs if p.value[j] > 0]
