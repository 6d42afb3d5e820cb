"""Progress events while solving, and stopping a solve early.

``solve(problem, on_progress=callback)`` calls ``callback(event)`` with a
:class:`ProgressEvent` when the greedy plan is ready, when a stage starts,
at every improving solution of a CP-SAT stage, when a stage ends, and once at
the end (stage ``"done"``). The callback may stop the solve: return ``False``
or call ``event.stop()``; the search stops at once (CP-SAT ``StopSearch``)
and ``solve`` returns the best plan found so far, valid, marked
``interrupted``. :func:`stop_all` does the same from anywhere (the CLI's
Ctrl-C handler uses it).

The active :class:`Progress` travels in a context variable, so the solver
code needs no extra parameter: :func:`current` returns it (or None).
Callbacks from CP-SAT's search run in a solver thread; keep them short.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class ProgressEvent:
    """One progress report.

    Attributes
    ----------
    stage
        ``"greedy"``, ``"model"`` (building it), ``"required"``, ``"tier <t>"``,
        ``"cost"``, ``"weighted"`` (a neighbourhood's stages of
        large-neighbourhood search are prefixed ``"LNS "``; ``"LNS"`` itself
        reports each improvement of the whole plan, with its metrics), or
        ``"done"``.
    kind
        ``"start"``, ``"solution"`` (an improving solution), ``"end"``.
    incumbent
        The stage's objective at the best solution so far, in user units:
        placed value of the tier, the cost, value - cost (weighted), or the
        number of required jobs placed. For ``greedy``/``done``: the plan's
        cost.
    bound
        The stage's proven bound in the same units (None when unknown).
    gap
        Relative gap of incumbent and bound (0 = proven), or None.
    elapsed
        Seconds since ``solve`` started.
    metrics
        The whole plan's metrics (``greedy`` and ``done`` events only).
    status
        The stage's result at ``end`` (``optimal``, ``feasible``, ...).
    """

    stage: str
    kind: str
    incumbent: float | None = None
    bound: float | None = None
    gap: float | None = None
    elapsed: float = 0.0
    metrics: dict[str, Any] | None = None
    status: str | None = None
    _progress: Progress | None = field(default=None, repr=False, compare=False)

    def stop(self) -> None:
        """Stop the solve: the best plan so far is returned (``interrupted``)."""
        if self._progress is not None:
            self._progress.request_stop()


def _rel_gap(value: float | None, bound: float | None) -> float | None:
    if value is None or bound is None:
        return None
    den = max(abs(value), abs(bound))
    return 0.0 if den < 1e-12 else max(0.0, abs(value - bound) / den)


class Progress:
    """The progress of one solve: event dispatch and the stop switch."""

    def __init__(self, callback: Callable[[ProgressEvent], Any] | None = None,
                 t0: float | None = None):
        self.callback = callback
        self.t0 = time.perf_counter() if t0 is None else t0
        self.stage = ""
        #: Prefix of stage names (``"LNS "`` during neighbourhood search).
        self.prefix = ""
        #: The planner's best plan so far, when it publishes one (neighbourhood
        #: search does): returned if the planner is busy when stopped.
        self.incumbent: Any = None
        self._stopped = threading.Event()
        self._stoppers: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._scale = 1.0
        self._sense = "max"

    # -- stopping ---------------------------------------------------------
    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def request_stop(self) -> None:
        """Stop now: the running search (if any) and every later stage."""
        self._stopped.set()
        with self._lock:
            stoppers = list(self._stoppers)
        for fn in stoppers:
            try:
                fn()
            except Exception:  # pragma: no cover - stopping must never raise
                log.debug("stop hook failed", exc_info=True)

    @contextmanager
    def stoppable(self, stop: Callable[[], None]) -> Iterator[None]:
        """Within the block, :meth:`request_stop` also calls ``stop``."""
        with self._lock:
            self._stoppers.append(stop)
        try:
            if self.stopped:
                stop()
            yield
        finally:
            with self._lock:
                self._stoppers.remove(stop)

    # -- events -----------------------------------------------------------
    def emit(self, stage: str, kind: str, incumbent: float | None = None,
             bound: float | None = None, metrics: dict[str, Any] | None = None,
             status: str | None = None) -> None:
        if self.callback is None:
            return
        ev = ProgressEvent(stage, kind, incumbent, bound, _rel_gap(incumbent, bound),
                           time.perf_counter() - self.t0, metrics, status, self)
        try:
            if self.callback(ev) is False:
                self.request_stop()
        except Exception:
            log.warning("on_progress callback failed", exc_info=True)

    def improved(self, plan: Any) -> None:
        """A planner's whole-plan improvement (neighbourhood search): keep it
        as :attr:`incumbent` and report it as stage ``"LNS"``, kind
        ``"solution"``, incumbent = the plan's cost, with its metrics."""
        self.incumbent = plan
        self.emit("LNS", "solution", plan.metrics.get("cost"), None, metrics=plan.metrics)

    def begin_stage(self, name: str, sense: str, scale: float) -> None:
        self.stage, self._sense, self._scale = name, sense, scale or 1.0
        self.emit(name, "start")

    def end_stage(self, name: str, status: str, value: float | None,
                  bound: float | None) -> None:
        self.emit(name, "end", value, bound, status=status)

    def cpsat_callback(self) -> Any:
        """A CP-SAT solution callback reporting each improving solution of
        the current stage (objective and bound scaled back to user units)."""
        from ortools.sat.python import cp_model

        progress = self

        class _Cb(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                s = progress._scale
                progress.emit(progress.stage, "solution", self.objective_value / s,
                              self.best_objective_bound / s)

        return _Cb()


_CURRENT: contextvars.ContextVar[Progress | None] = contextvars.ContextVar(
    "allocopt_progress", default=None)
_ACTIVE: set[Progress] = set()
_ACTIVE_LOCK = threading.Lock()


def current() -> Progress | None:
    """The progress of the solve running in this context, or None."""
    return _CURRENT.get()


def stopped() -> bool:
    """True when the running solve was asked to stop."""
    p = _CURRENT.get()
    return p is not None and p.stopped


@contextmanager
def activate(progress: Progress) -> Iterator[Progress]:
    """Make ``progress`` the current one (and reachable by :func:`stop_all`)."""
    token = _CURRENT.set(progress)
    with _ACTIVE_LOCK:
        _ACTIVE.add(progress)
    try:
        yield progress
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(progress)
        _CURRENT.reset(token)


def stop_all() -> int:
    """Ask every running solve of this process to stop; returns how many."""
    with _ACTIVE_LOCK:
        active = list(_ACTIVE)
    for p in active:
        p.request_stop()
    return len(active)
