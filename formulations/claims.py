"""Honest optimality claims: rounding errors of the scaled objective, and bounds.

CP-SAT proves optimality of the *scaled, rounded* objective (scaling.py). A
plan may only say ``optimal`` when that proof holds for the objective as
PROBLEM.md states it, in real units. This module gives the two numbers that
decide it:

* :func:`rounding_error`: the largest amount by which the rounded objective
  of any plan can differ from its real objective (0 when every coefficient
  scaled exactly). A stage's proven bound is widened by it, so that a bound
  in real units stays a valid bound; a stage with a non-zero error proves
  nothing in real units.
* :func:`trivial_bound`: a bound that needs no solve (every placeable job
  placed; cost at least its cheapest possible level), for planners without a
  proof of their own such as large-neighbourhood search.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from allocopt.prepared import Prepared
from allocopt.problem import Problem

from .scope import Scope
from .variables import Variables

#: Relative tolerance of "exact": the one decimal_scale uses.
EXACT_TOL = 1e-9


def term_errors(terms: list[tuple[Any, float]], scale: float) -> dict[int, tuple[Any, float]]:
    """Per variable (by id), the real-unit error of rounding its terms at ``scale``."""
    if not terms:
        return {}
    c = np.array([t[1] for t in terms], dtype=float) * scale
    err = np.abs(c - np.round(c))
    err[err <= EXACT_TOL * np.maximum(1.0, np.abs(c))] = 0.0
    out: dict[int, tuple[Any, float]] = {}
    for (var, _), e in zip(terms, (err / scale).tolist()):
        if e:
            prev = out.get(id(var))
            out[id(var)] = (var, e + (prev[1] if prev else 0.0))
    return out


def rounding_error(scope: Scope, x: Variables, terms: list[tuple[Any, float]],
                   scale: float) -> float:
    """Largest real-unit error of the rounded objective ``sum(round(c*scale))/scale``
    over every plan of the model: each job starts once, so per job it counts
    its ``placed`` term, the worst start (its ``y`` term plus, for replica
    count variables, ``replicas`` times their term), and every ``active``
    term. Terms on any other variable count in full."""
    errs = term_errors(terms, scale)
    if not errs:
        return 0.0
    p = scope.prep
    total = 0.0
    seen: set[int] = set()

    def take(var: Any) -> float:
        seen.add(id(var))
        got = errs.get(id(var))
        return got[1] if got else 0.0

    for v in x.active.values():
        total += take(v)
    for j in scope.jobs:
        if j in x.placed:
            total += take(x.placed[j])
        per_start: dict[int, float] = {}
        for s, v in x.y.get(j, {}).items():
            per_start[s] = per_start.get(s, 0.0) + take(v)
        for (_, s), v in x.q.get(j, {}).items():
            per_start[s] = per_start.get(s, 0.0) + int(p.replicas[j]) * take(v)
        total += max(per_start.values(), default=0.0)
    total += sum(e for k, (_, e) in errs.items() if k not in seen)
    return float(total)


def trivial_bound(problem: Problem, prep: Prepared) -> dict[str, Any] | None:
    """A bound in PLAN.md's shape that needs no model.

    Tiers: the value of every job that is not statically unplaceable. Cost: 0
    when no price is negative (every cost term is then >= 0). Weighted: total
    placeable value minus that cost bound. With a negative price no cost
    bound is claimed (``cost`` left out; weighted: None).
    """
    placeable = [j for j in range(prep.J) if j not in prep.static_reasons]
    tiers: dict[str, float] = {str(t): 0.0 for t in problem.tiers}
    for j in placeable:
        if prep.value[j] > 0:
            key = str(int(prep.priority[j]))
            tiers[key] = tiers.get(key, 0.0) + float(prep.value[j])
    nonneg_price = all(np.min(np.asarray(r.price_per_kwh, dtype=float)) >= 0
                       for r in problem.regions)
    if problem.objective.mode == "weighted":
        if not nonneg_price:
            return None
        return {"objective": float(sum(tiers.values()))}
    out: dict[str, Any] = {"placed_value_by_priority": tiers}
    if nonneg_price:
        out["cost"] = 0.0
    return out
