"""The terminal side of a solve: live progress lines and Ctrl-C.

:class:`LiveProgress` is an ``on_progress`` callback for
:func:`allocopt.solve`: on a terminal one live line per stage (rich),
updated at every improving solution; elsewhere (a pipe, a log file) one plain
line when each stage ends. Lines go to stderr, so stdout stays for data.

:func:`interrupt_handler` installs the Ctrl-C policy of ``allocopt solve``:
the first SIGINT stops the search (:func:`allocopt.progress.stop_all`) and
passes SIGINT on to child processes (CBC asked to stop), so the best plan so
far is written; the second one kills the children and exits at once (130).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from . import progress
from .progress import ProgressEvent

#: Exit code of a solve stopped by Ctrl-C (128 + SIGINT, the shell's convention).
EXIT_INTERRUPTED = 130

_WHAT = {"required": "required placed", "cost": "cost", "weighted": "value - cost",
         "greedy": "cost", "done": "cost"}


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    a = abs(x)
    if a >= 100:
        return f"{x:,.1f}"
    if a >= 1:
        return f"{x:,.2f}"
    return f"{x:.3g}"


def event_line(ev: ProgressEvent) -> str:
    """One human line for an event: stage, incumbent, bound, gap, elapsed."""
    base = ev.stage.removeprefix("LNS ")
    what = "placed value" if base.startswith("tier") else _WHAT.get(base, "objective")
    parts = [f"{ev.stage:<14}"]
    if ev.stage in ("greedy", "LNS") and ev.metrics:
        what = "greedy plan" if ev.stage == "greedy" else "improved plan"
        parts.append(f"{what}: {ev.metrics.get('placed_jobs', 0)} placed, value "
                     f"{_num(ev.metrics.get('placed_value'))}, cost {_num(ev.metrics.get('cost'))}")
    elif ev.stage == "model":
        parts.append("building the model..." if ev.kind == "start" else "model built")
    elif ev.kind == "start":
        parts.append("searching...")
    else:
        parts.append(f"{what} {_num(ev.incumbent)}")
        parts.append(f"bound {_num(ev.bound)}")
        parts.append("gap " + ("-" if ev.gap is None else f"{ev.gap:.2%}"))
        if ev.status:
            parts.append(ev.status)
    parts.append(f"{ev.elapsed:.1f} s")
    return "  ".join(parts)


class LiveProgress:
    """An ``on_progress`` callback drawing progress on ``console`` (stderr)."""

    def __init__(self, console: Console | None = None):
        self.console = console or Console(stderr=True, highlight=False)
        self.events: dict[str, ProgressEvent] = {}  # the last event of each stage
        self.greedy: dict[str, Any] | None = None
        self.live: Live | None = None
        self._lock = threading.Lock()
        self._clock: tuple[float, float] | None = None  # (event elapsed, perf_counter)

    def __rich__(self) -> Group:
        """The live lines; the running stage's elapsed time keeps ticking."""
        with self._lock:
            events = list(self.events.values())
            clock = self._clock
        lines = []
        for ev in events:
            if ev.kind != "end" and clock is not None:
                ev = replace(ev, elapsed=clock[0] + time.perf_counter() - clock[1])
            lines.append(Text(event_line(ev)))
        return Group(*lines)

    def __enter__(self) -> LiveProgress:
        if self.console.is_terminal:
            self.live = Live(self, console=self.console, refresh_per_second=4,
                             transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)
            self.live = None

    def __call__(self, ev: ProgressEvent) -> None:
        if ev.stage == "greedy":
            self.greedy = ev.metrics
        if ev.stage == "done" or ev.stage.startswith("LNS "):
            return  # a neighbourhood's own stages: only whole-plan improvements are shown
        with self._lock:
            self.events[ev.stage] = ev
            self._clock = (ev.elapsed, time.perf_counter())
        if self.live is None and (ev.kind == "end" or ev.stage == "LNS"):
            self.console.print(event_line(ev), soft_wrap=True, markup=False)


def _children() -> list[int]:
    """Process ids of this process's direct children (Linux /proc; else none)."""
    pids: list[int] = []
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as f:
                pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return pids


def _signal_children(sig: int) -> None:
    for pid in _children():
        try:
            os.kill(pid, sig)
        except OSError:
            pass


@contextmanager
def interrupt_handler(quiet: bool = False) -> Iterator[list[int]]:
    """Within the block, Ctrl-C stops the solve (see the module docstring).

    Yields a list that holds the number of SIGINTs received (``[n]``).
    Does nothing outside the main thread.
    """
    count = [0]
    if threading.current_thread() is not threading.main_thread():
        yield count
        return

    def on_sigint(signum: int, frame: Any) -> None:
        count[0] += 1
        if count[0] == 1:
            if not quiet:
                print("\ninterrupted: stopping the search, the best plan so far will be "
                      "written (Ctrl-C again to quit at once)", file=sys.stderr, flush=True)
            progress.stop_all()
            _signal_children(signal.SIGINT)
        else:
            _signal_children(signal.SIGKILL)
            os._exit(EXIT_INTERRUPTED)

    old = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield count
    finally:
        signal.signal(signal.SIGINT, old)
