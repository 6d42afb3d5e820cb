"""A cost bound computed while the search runs.

:class:`BoundWorker` runs the packing-aware relaxation of
:mod:`allocopt.formulations.packing_bound` (its LP; :data:`MIP_IN_WORKER` adds the MIP)
on HiGHS in a background *thread* (HiGHS
releases the GIL while it solves, so the thread takes a core of its own
while CP-SAT's stages run, and costs the main thread only while the
relaxation is built), and its result is merged into the plan's ``bound``:

* it waits for *floors*: tier values every final plan is known to reach.
  In the full-model path these are the values the tier stages achieved
  (:meth:`watch` polls the :class:`allocopt.formulations.stages.Stage` objects; each
  finished tier stage adds ``tier >= value`` to the model, so the final plan
  has at least that value in the tier); in the neighbourhood path they are
  the greedy plan's tier values, used only if the final plan reaches them;
* it solves once the floors are complete (every tier stage finished, or
  fixed floors given): during the tier stages it only builds the
  relaxation, so that on 2 cores it does not slow them down; if the floors
  still change, it solves again with the new ones once the running solve
  ends, until the deadline;
* with *early* floors (the start plan's tier values; given for models whose
  tier stages rarely finish within the limit, see :func:`start_bound_worker`)
  it solves at once with them, and again with each tier stage's value as
  it comes in (per tier, the higher of the two). A bound for lower floors
  is weaker, never wrong: every plan with at least the final tier values
  has at least the early ones, and :meth:`finish` checks that the returned
  plan reaches the floors of the bound it keeps;
* :meth:`finish` stops it, keeps the best lower bound whose floors the final
  plan reaches in every tier (so the bound is valid for every plan with at
  least the plan's tier values: PLAN.md, ``gaps``), caps it at the plan's
  cost and merges it with the solver's own bound (the higher of the two).

The worker never raises into the solve: any failure is logged and the plan
keeps its own bound.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Any

from allocopt.plan import Plan
from allocopt.prepared import Prepared
from allocopt.problem import Problem

log = logging.getLogger(__name__)

#: Seconds kept back before the deadline for the worker to stop and merge.
STOP_MARGIN = 0.15
#: Also solve the MIP after the LP (see :meth:`BoundWorker._loop`).
MIP_IN_WORKER = False
#: Longest wait for the thread to stop when the plan is finished, seconds.
JOIN_S = 0.5
#: Relative widening of the relaxation's bound (solver tolerances).
BOUND_TOL = 1e-6


def available() -> bool:
    """True if highspy is installed with what the worker uses (threaded
    solve and cancel: highspy 1.8 and later)."""
    try:
        import highspy
    except ImportError:
        return False
    return all(hasattr(highspy.Highs, a) for a in ("startSolve", "cancelSolve",
                                                   "changeColsIntegrality"))


class BoundWorker:
    """Compute a cost lower bound in the background (module docstring)."""

    def __init__(self, problem: Problem, prep: Prepared, deadline: float,
                 floors: dict[int, float] | None = None, threads: int = 1,
                 early: dict[int, float] | None = None):
        self.problem = problem
        self.prep = prep
        self.deadline = deadline
        self.threads = threads
        self._fixed_floors = dict(floors or {})
        #: Early floors (module docstring): solved at once, raised by the
        #: tier stages as they finish.
        self._early = {int(t): float(v) for t, v in (early or {}).items() if v > 0}
        self._stages: list[Any] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._highs: Any = None
        self._thread: threading.Thread | None = None
        #: (floors, lower bound) of every finished or cancelled solve.
        self.results: list[tuple[dict[int, float], float]] = []
        self.error: str | None = None
        self.relaxation: str | None = None

    # -- control -----------------------------------------------------------

    def start(self) -> BoundWorker:
        """Start the thread (a no-op in weighted mode or without HiGHS)."""
        if self.problem.objective.mode != "lexicographic" or not available():
            return self
        self._thread = threading.Thread(target=self._run, name="allocopt-bound", daemon=True)
        self._thread.start()
        return self

    def watch(self, stages: list[Any]) -> None:
        """Take floors from these stages as they finish (tier stages only)."""
        self._stages = stages

    def ready(self) -> bool:
        """True when the floors are complete: fixed floors were given, or
        every tier stage watched has finished. Before that the worker only
        builds the relaxation: on 2 cores a solve would slow the tier stages
        down, and a cost bound with only the top tiers fixed is near 0."""
        if self._fixed_floors or self._early:
            return True
        tiers = [st for st in list(self._stages or ()) if getattr(st, "tier", None) is not None]
        return bool(tiers) and all(getattr(st, "status", "not run") != "not run"
                                   and st.value is not None for st in tiers)

    def floors(self) -> dict[int, float]:
        """The tier floors known now.

        Early floors hold, from the highest tier down, only until the first
        tier whose stage reached more than its early floor: a plan
        lexicographically better than the start may give up value in the
        tiers below such a tier (module docstring)."""
        out = dict(self._fixed_floors)
        done: dict[int, float] = {}
        for st in list(self._stages or ()):
            tier, value = getattr(st, "tier", None), getattr(st, "value", None)
            if tier is not None and value is not None and getattr(st, "status", "") != "not run":
                done[int(tier)] = float(value)
        traded = False
        for t in sorted(set(self._early) | set(done), reverse=True):
            v = done.get(t, 0.0)
            if not traded and t in self._early:
                v = max(v, self._early[t])
                traded = done.get(t, 0.0) > self._early[t] + 1e-9 * max(1.0, self._early[t])
            if v > 0 or t in done:
                out[t] = max(out.get(t, 0.0), v)
        return out

    def stop(self) -> None:
        """Stop the thread (cancel a running solve) and wait for it."""
        self._stop.set()
        with self._lock:
            h = self._highs
        if h is not None:
            try:
                h.cancelSolve()
            except Exception:  # noqa: BLE001 - best effort
                pass
        if self._thread is not None:
            # HiGHS checks the cancel flag between steps; its own time limit
            # (the deadline) stops it anyway, so never hold the plan for long.
            self._thread.join(timeout=JOIN_S)
            if self._thread.is_alive():  # pragma: no cover - timing dependent
                log.info("bound worker still stopping after %.1f s; left to end at its "
                         "time limit (daemon thread)", JOIN_S)

    def best_for(self, tier_values: dict[str, float]) -> float | None:
        """The best bound whose floors ``tier_values`` reach in every tier."""
        best = None
        for floors, b in list(self.results):
            ok = all(float(tier_values.get(str(t), 0.0)) >= v - 1e-9 * max(1.0, abs(v))
                     for t, v in floors.items())
            if ok and (best is None or b > best):
                best = b
        return best

    def finish(self, plan: Plan) -> Plan:
        """Stop, and merge the bound into ``plan`` (module docstring)."""
        self.stop()
        plan = clamp_cost_bound(plan)
        if self.problem.objective.mode != "lexicographic":
            return plan
        b = self.best_for(plan.metrics.get("placed_value_by_priority", {}))
        if b is None:
            return plan
        return merge_cost_bound(self.problem, plan, b)

    # -- the thread ----------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # noqa: BLE001 - a bound is extra information
            self.error = traceback.format_exc()
            log.warning("bound worker failed: %s", self.error)

    def _loop(self) -> None:
        from .packing_bound import build_relaxation, dual_bound, make_highs, set_floors

        rel = build_relaxation(self.prep)
        self.relaxation = f"{rel.mode}, bucket {rel.bucket}"
        if self._stop.is_set():
            return
        h = make_highs(rel, threads=self.threads)
        with self._lock:
            self._highs = h
        solved: dict[int, float] | None = None
        relaxed = False  # integer columns made continuous (the LP) once
        while not self._stop.is_set():
            left = self.deadline - time.perf_counter() - STOP_MARGIN
            if left <= 0.05:
                return
            floors = self.floors()
            if not self.ready() or not floors or floors == solved:
                self._stop.wait(0.05)
                continue
            set_floors(h, rel, floors)
            solved = floors
            # The LP only: it takes well under a second on small models and
            # gives large ones a bound within the limit. The MIP (integer
            # node counts and placements) added 1-2% on small-s1 and, running
            # beside CP-SAT's cost stage on 2 cores, cost that stage more of
            # its own bound than it added (benchmarks/README.md), so it is
            # off (MIP_IN_WORKER).
            for integral in (False, True) if MIP_IN_WORKER else (False,):
                left = self.deadline - time.perf_counter() - STOP_MARGIN
                if left <= 0.05 or self._stop.is_set() or self.floors() != floors:
                    break
                if MIP_IN_WORKER or not relaxed:
                    _set_integrality(h, rel, integral)
                    h.clearSolver()
                    relaxed = not MIP_IN_WORKER
                # Else a re-solve with new floors: the LP warm-starts from
                # the last basis (only row bounds changed).
                set_time_limit(h, left)
                t0 = time.perf_counter()
                t = h.startSolve()
                # A solve runs to its end even if the floors change meanwhile:
                # its bound holds for its own floors (kept if the final plan
                # reaches them), and restarting at every tier stage would
                # leave medium models with no bound at all.
                while t.is_alive():
                    t.join(0.05)
                    if self._stop.is_set():
                        h.cancelSolve()
                t.join()
                b = dual_bound(h)
                log.info("bound worker (%s): floors %s -> cost bound %s (%s, %.1f s)",
                         "MIP" if integral else "LP", floors, b, h.getModelStatus(),
                         time.perf_counter() - t0)
                if b is not None:
                    self.results.append((floors, b))


def set_time_limit(h: Any, seconds: float) -> None:
    """Let the next solve of ``h`` run ``seconds`` more. HiGHS's
    ``time_limit`` counts the object's run time over every solve so far, so
    a re-solve given only the seconds left stopped at once (``kTimeLimit``)
    once the earlier solves had used that much."""
    h.setOptionValue("time_limit", float(h.getRunTime()) + float(seconds))


def _set_integrality(h: Any, rel: Any, integral: bool) -> None:
    """Make the relaxation's integer columns integer (or continuous)."""
    import highspy
    import numpy as np

    idx = np.flatnonzero(rel.integer).astype(np.int32)
    if not len(idx):
        return
    kind = highspy.HighsVarType.kInteger if integral else highspy.HighsVarType.kContinuous
    h.changeColsIntegrality(len(idx), idx, np.array([kind] * len(idx)))


def start_bound_worker(problem: Problem, prep: Prepared, params: Any, greedy: Plan,
                       deadline: float, lns: bool = False, early: bool = False) -> BoundWorker:
    """A started :class:`BoundWorker` (idle if ``params.bound_worker`` is off).
    ``lns``: the neighbourhood path, whose floors are the greedy plan's tiers.
    ``early``: the full model's stages on a model large enough that its tier
    stages rarely all finish: solve at once with the start plan's tiers as
    early floors (module docstring) instead of waiting for the stages."""
    tiers = {int(t): float(v) for t, v in
             greedy.metrics.get("placed_value_by_priority", {}).items() if v > 0}
    w = BoundWorker(problem, prep, deadline, floors=tiers if lns else None,
                    early=tiers if (early and not lns) else None)
    return w.start() if getattr(params, "bound_worker", True) else w


def clamp_cost_bound(plan: Plan) -> Plan:
    """A cost bound above the plan's own cost (integer scaling of the cost
    stage can round it up by a few units in the last digit) is the plan's
    cost: a lower bound is never above a known plan's cost."""
    if plan.bound and "cost" in plan.bound and "cost" in plan.metrics:
        cost = float(plan.metrics["cost"])
        if plan.bound["cost"] > cost:
            return plan.replace(bound={**plan.bound, "cost": cost})
    return plan


def merge_cost_bound(problem: Problem, plan: Plan, lower: float) -> Plan:
    """``plan`` with ``lower`` merged into its cost bound (higher of the two,
    never above the plan's cost) and its gap recomputed."""
    from .stages import gap_of

    cost = float(plan.metrics["cost"])
    lower = lower - BOUND_TOL * max(1.0, abs(lower))
    lower = min(max(lower, 0.0), cost)
    bound = dict(plan.bound or {})
    if "cost" in bound and bound["cost"] >= lower:
        return plan
    bound["cost"] = lower
    if "placed_value_by_priority" not in bound:
        # No tier bounds (neighbourhood search): the trivial ones, so that
        # the plan's gap never hides an unbounded tier.
        bound["placed_value_by_priority"] = trivial_tier_bounds(problem)
    gap = gap_of(problem, plan.metrics, bound)
    if plan.gap == 0.0:
        gap = 0.0
    return plan.replace(bound=bound, gap=gap)


def trivial_tier_bounds(problem: Problem) -> dict[str, float]:
    """Per tier, the value of placing every one of its jobs."""
    out: dict[str, float] = {}
    for j in problem.jobs:
        if j.value > 0:
            out[str(j.priority)] = out.get(str(j.priority), 0.0) + float(j.value)
    return out
