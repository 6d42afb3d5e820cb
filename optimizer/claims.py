"""Checks of what a plan *claims*: metrics, status, bound and gap.

:func:`allocopt.validate.validate` checks the rules of PROBLEM.md on the
assignments; this module checks that the numbers a plan states about itself
agree with them (PLAN.md):

* rule ``metrics``: every metric the plan states equals the one recomputed by
  :func:`allocopt.validate.compute_metrics`, within :data:`REL_TOL`
  (relative) or :data:`ABS_TOL`; metrics the plan leaves out and keys
  PLAN.md does not define are not checked;
* rule ``status``: ``infeasible`` only when a required job is unplaced;
  ``optimal`` only with a gap of 0 (or none);
* rule ``bound``: the gap is a finite number >= 0 and not smaller than the
  gap between the plan's own metrics and its bound; the bound is finite and
  does not contradict the plan (an upper bound on a tier's value below the
  value the plan reaches, or a lower bound on cost above the plan's cost when
  the plan reaches every tier bound).

Like validate.py it is written from the spec alone and imports no solver.
"""

from __future__ import annotations

import math
from typing import Any

#: Tolerances for comparing a stated number with the recomputed one.
REL_TOL = 1e-6
ABS_TOL = 1e-6
#: A gap at or below this counts as 0 (the one allocopt.formulations.stages.gap_of uses).
GAP_ZERO = 1e-9

#: Rule names this module adds to :data:`allocopt.validate.RULES`.
CLAIM_RULES = ("metrics", "status", "bound")


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(ABS_TOL, REL_TOL * max(abs(a), abs(b)))


def _compare(path: str, stated: Any, actual: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(actual, dict):
        if not isinstance(stated, dict):
            out.append(("metrics", f"metrics.{path}: must be an object"))
            return
        for key, val in stated.items():
            if key not in actual:
                out.append(("metrics", f"metrics.{path}: {key!r} is not in the problem"))
            else:
                _compare(f"{path}.{key}", val, actual[key], out)
        return
    if not _num(stated) or not math.isfinite(stated):
        out.append(("metrics", f"metrics.{path}: must be a finite number, got {stated!r}"))
    elif not _close(float(stated), float(actual)):
        out.append(("metrics", f"metrics.{path}: the plan states {stated:g}, its assignments "
                               f"give {actual:g}"))


def _rel(a: float, b: float) -> float:
    den = max(abs(a), abs(b))
    return 0.0 if den < 1e-12 else abs(a - b) / den


def implied_gap(mode: str, tiers: list[int], metrics: dict[str, Any],
                bound: dict[str, Any]) -> float | None:
    """The gap between ``metrics`` and ``bound`` (PLAN.md: the largest relative
    distance of any objective component from its bound; 0 where the plan
    passes a bound, which a lexicographic bound allows for lower components)."""
    gaps = []
    if mode == "weighted" and _num(bound.get("objective")):
        gaps.append(_rel(metrics["placed_value"] - metrics["cost"], float(bound["objective"])))
    ub = bound.get("placed_value_by_priority")
    if isinstance(ub, dict):
        for t in tiers:
            if _num(ub.get(str(t))):
                got = metrics["placed_value_by_priority"].get(str(t), 0.0)
                gaps.append(_rel(got, max(float(ub[str(t)]), got)))
    if _num(bound.get("cost")):
        gaps.append(_rel(metrics["cost"], min(float(bound["cost"]), metrics["cost"])))
    if not gaps:
        return None
    g = max(gaps)
    return 0.0 if g <= GAP_ZERO else g


def check_claims(problem: Any, plan: Any, metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """(rule, message) for every claim of ``plan`` its assignments contradict.

    ``metrics`` are the recomputed metrics of the plan's assignments.
    """
    out: list[tuple[str, str]] = []
    for key, val in (plan.metrics or {}).items():
        if key in metrics:
            _compare(key, val, metrics[key], out)

    status = str(plan.status)
    required_out = metrics["required_placed"] < metrics["required_jobs"]
    if status == "infeasible" and not required_out:
        out.append(("status", "status 'infeasible', but every required job is placed"))

    gap = plan.gap
    if gap is not None and (not _num(gap) or not math.isfinite(gap) or gap < 0):
        out.append(("bound", f"gap must be a finite number >= 0, got {gap!r}"))
        gap = None
    if status == "optimal" and gap is not None and gap > GAP_ZERO:
        out.append(("status", f"status 'optimal' with gap {gap:g} > 0"))

    bound = plan.bound
    if not bound:
        return out
    if not isinstance(bound, dict):
        out.append(("bound", "bound must be an object"))
        return out
    mode = problem.objective.mode
    bad_number = False
    for key, val in bound.items():
        vals = val.items() if isinstance(val, dict) else [(None, val)]
        for sub, v in vals:
            if v is not None and (not _num(v) or not math.isfinite(v)):
                name = f"bound.{key}" + (f".{sub}" if sub is not None else "")
                out.append(("bound", f"{name}: must be a finite number, got {v!r}"))
                bad_number = True
    if bad_number:
        return out
    tiers = problem.tiers
    tol = lambda a: max(ABS_TOL, REL_TOL * abs(a))  # noqa: E731
    if mode == "weighted":
        ub = bound.get("objective")
        obj = metrics["placed_value"] - metrics["cost"]
        if _num(ub) and ub < obj - tol(obj):
            out.append(("bound", f"bound.objective {ub:g} is below the plan's own objective "
                                 f"{obj:g}"))
    else:
        ubs = bound.get("placed_value_by_priority")
        reached = isinstance(ubs, dict)
        for t in tiers if reached else ():
            ub = ubs.get(str(t))
            if not _num(ub):
                reached = False
                break
            got = metrics["placed_value_by_priority"][str(t)]
            if got > ub + tol(got):
                out.append(("bound", f"bound.placed_value_by_priority.{t} {ub:g} is below the "
                                     f"plan's own tier value {got:g}"))
            if got < ub - tol(ub):
                reached = False  # lower tiers' bounds assume this tier at its bound
                break
        lb = bound.get("cost")
        if reached and _num(lb) and lb > metrics["cost"] + tol(metrics["cost"]):
            out.append(("bound", f"bound.cost {lb:g} is above the plan's own cost "
                                 f"{metrics['cost']:g}"))
    want = implied_gap(mode, tiers, metrics, bound)
    if gap is not None and want is not None and gap + 1e-6 < want:
        out.append(("bound", f"gap {gap:g} is smaller than the gap {want:g} between the "
                             "plan's metrics and its bound"))
    return out
