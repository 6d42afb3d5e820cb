"""The portfolio start: the best of the cheap planners seeds the exact search.

Before an exact back-end runs, :func:`portfolio_start` runs the cheap
planners -- greedy variants (other job orders and option scores) and the
registered baselines -- cheapest first, within a share of the time limit
(:data:`PORTFOLIO_SHARE`; no member is started once the share is spent or
would overrun it, except the :data:`FAST_MEMBERS`, which run while half the
limit is left),
validates each plan, and keeps the lexicographically best one
(:func:`allocopt.validate.better`). The repair pass and the cost-lowering
reinsertion (:mod:`allocopt.repair`, a fixed amount of work each) are applied
to the best plan of the fast members -- exactly what the ``greedy`` planner
returns -- and to the overall best, and the better result is kept. The winner hints the
exact search and is the fallback ``solve()`` returns when the back-end finds
nothing better, so ``cpsat`` never returns a plan worse than any member that
ran. The plan's ``seeded_by`` field names the winner.

The ``greedy`` planner itself uses the fast part of this portfolio
(:data:`FAST_MEMBERS`: the greedy variants, ``carbon-agnostic`` and repair),
so it never places less than that naive baseline.

Every member's time is logged (``--debug``) and returned in
:class:`PortfolioResult`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .greedy import cost_score, job_order, member_deadline, run_greedy
from .params import SolveParams
from .plan import Plan
from .prepared import Prepared
from .problem import Problem
from .repair import reinsert, repair
from .validate import better, compute_metrics, is_valid, validate

log = logging.getLogger(__name__)

#: Share of the time limit the portfolio may use before the exact search.
PORTFOLIO_SHARE = 0.12

#: Members of the ``greedy`` planner's own (fast) portfolio.
FAST_MEMBERS = ("carbon-agnostic", "greedy-value", "greedy-early")

#: Members that score every node class (no pruning by cost bounds) and their
#: time against the greedy pass: 1.1-1.2x at 2,000 jobs, 2.3x at 20,000
#: (carbon-agnostic 31 s after a 13.5 s pass); a fast member is only started
#: when this estimate fits (a member cut short by its deadline is wasted).
EVERY_CLASS_MEMBERS = frozenset({"carbon-agnostic", "greedy-early", "greedy-early-value"})
EVERY_CLASS_FACTOR = 2.5

#: Baselines in the order they are tried (strongest on the benchmarks first).
BASELINE_ORDER = ("carbon-agnostic", "k8s-most-allocated", "priority-greedy",
                  "k8s-least-allocated", "best-fit-decreasing", "first-fit-decreasing",
                  "carbon-greedy", "first-fit", "edf", "random")


@dataclass
class PortfolioResult:
    plan: Plan
    seeded_by: str
    #: (member, seconds, lexicographic key or None if invalid/failed)
    runs: list[tuple[str, float, tuple[float, ...] | None]] = field(default_factory=list)

    def table(self) -> str:
        return "; ".join(f"{n} {s:.2f}s" + ("" if k is not None else " (rejected)")
                         for n, s, k in self.runs)


def _value_order(p: Prepared) -> list[int]:
    return job_order(p, key=lambda j: (-float(p.value[j]), int(p.deadline[j])))


def _early_score(opts, sched, j):  # type: ignore[no-untyped-def]
    """Earliest start (packs tightly, like the list schedulers), then cost."""
    span = float(np.abs(opts.cost).max() + 1.0) * 4.0
    return opts.starts[None, :] * span + cost_score(opts, sched, j)


def greedy_variants(problem: Problem, prep: Prepared) -> dict[str, Callable[[], Plan]]:
    """The greedy planner with other job orders and option scores: by value
    (big jobs of a tier first), earliest start first (packs like the list
    schedulers), and both."""
    return {
        "greedy-value": lambda: run_greedy(problem, prep=prep, order=_value_order(prep),
                                           solver="greedy-value"),
        "greedy-early": lambda: run_greedy(problem, prep=prep, score=_early_score, prune=False,
                                           solver="greedy-early"),
        "greedy-early-value": lambda: run_greedy(problem, prep=prep, order=_value_order(prep),
                                                 score=_early_score, prune=False,
                                                 solver="greedy-early-value"),
    }


def _baselines(problem: Problem, prep: Prepared, params: SolveParams, greedy: Plan,
               deadline: float) -> dict[str, Callable[[], Plan]]:
    from .solve import solvers

    table = solvers()
    names = [n for n in BASELINE_ORDER if n in table]
    names += sorted(n for n, i in table.items() if i.kind == "baseline" and n not in names)
    return {n: (lambda n=n: table[n].fn(problem, prep, params, greedy, deadline))  # type: ignore[misc]
            for n in names}


def _checked(problem: Problem, plan: Plan) -> Plan | None:
    """``plan`` with recomputed metrics if valid (infeasible status allowed
    for unplaced required jobs), else None."""
    plan = plan.replace(metrics=compute_metrics(problem, plan.assignments))
    probe = plan.replace(status="infeasible")
    return plan if is_valid(probe, validate(problem, plan)) else None


def _improve(problem: Problem, prep: Prepared, plan: Plan, name: str, until: float,
             result: PortfolioResult) -> tuple[Plan, str]:
    """Repair, then reinsertion, each kept if it improves (``until``: a
    safety net; both passes do a fixed amount of work otherwise)."""
    for label, fn in (("repair", repair), ("reinsert", reinsert)):
        now = time.perf_counter()
        out = _checked(problem, fn(problem, plan, prep, deadline=max(until, now + 0.2)))
        result.runs.append((label, time.perf_counter() - now, None if out is None else ()))
        if out is not None and better(problem, out.metrics, plan.metrics):
            plan, name = out, f"{name}+{label}"
    return plan, name


def portfolio_start(problem: Problem, prep: Prepared, params: SolveParams, greedy: Plan,
                    deadline: float, *, members: tuple[str, ...] | None = None,
                    share: float | None = None) -> PortfolioResult:
    """Run the portfolio (module docstring) and return the best valid plan.

    ``greedy`` is the greedy planner's plan (already validated): it is a
    member and the starting best. ``members`` restricts the portfolio to
    those names (in the default order); the time share is ``share`` of
    ``params.time_limit``, never past ``deadline``.
    """
    t0 = time.perf_counter()
    share = PORTFOLIO_SHARE if share is None else share
    stop = min(deadline, t0 + share * params.time_limit)
    half = min(deadline, t0 + 0.5 * params.time_limit)
    result = PortfolioResult(greedy, "greedy", [("greedy", greedy.solve_seconds, ())])
    base = _baselines(problem, prep, params, greedy, deadline)
    variants = greedy_variants(problem, prep)
    # The fast members first (carbon-agnostic: the strongest naive baseline
    # on the benchmarks, and the one the greedy planner must never place
    # less than), then the rest.
    rest = {**variants, **base}
    table = {n: rest.pop(n) for n in FAST_MEMBERS if n in rest}
    table.update(rest)
    names = list(table) if members is None else [n for n in table if n in members]
    last = greedy.solve_seconds
    fast = (greedy, "greedy")  # best of greedy and the fast members
    for name in names:
        now = time.perf_counter()
        # The fast members (the greedy planner's own portfolio) run whenever
        # half the limit is still left after them, so that the exact search
        # never starts from less than the greedy planner returns.
        est = last * (EVERY_CLASS_FACTOR if name in EVERY_CLASS_MEMBERS else 1.0)
        must = name in FAST_MEMBERS and now + est < half
        if not must and (now >= stop or now + est > stop):
            log.debug("portfolio: %s skipped (time share spent)", name)
            continue
        # A member cut short by its deadline leaves the rest of its jobs
        # untried (a valid, weaker plan): the time limit holds whatever the
        # member's speed on this problem.
        token = member_deadline.set(half if must else stop)
        try:
            plan = table[name]()
        except Exception:  # a member's bug never stops the solve
            log.warning("portfolio member %s failed", name, exc_info=True)
            result.runs.append((name, time.perf_counter() - now, None))
            continue
        finally:
            member_deadline.reset(token)
        last = time.perf_counter() - now
        checked = _checked(problem, plan)
        result.runs.append((name, last, None if checked is None else ()))
        if checked is not None and better(problem, checked.metrics, result.plan.metrics):
            result.plan, result.seeded_by = checked, name
        if checked is not None and name in FAST_MEMBERS and better(
                problem, checked.metrics, fast[0].metrics):
            fast = (checked, name)
    # Repair and reinsertion of the best fast plan (what the greedy planner
    # returns: the same work, so the exact search never starts below it) and
    # of the overall best if that is another plan; the better result wins.
    starts = [fast] + ([(result.plan, result.seeded_by)]
                       if result.seeded_by != fast[1] else [])
    result.plan, result.seeded_by = fast
    for plan, name in starts:
        plan, name = _improve(problem, prep, plan, name, half, result)
        if better(problem, plan.metrics, result.plan.metrics):
            result.plan, result.seeded_by = plan, name
    log.info("portfolio: seeded by %s (%s)", result.seeded_by, result.table())
    return result
