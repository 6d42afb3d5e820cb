"""Process hygiene for the CLI: a clean exit on SIGTERM, and the process's age.

* :func:`exit_on_sigterm`: SIGTERM raises ``SystemExit`` (exit code 143, as a
  shell reports a process ended by SIGTERM) instead of ending the process on
  the spot, so ``finally`` blocks and context managers run: solver child
  processes are ended and temporary files removed
  (``formulations/backends/pulp.py``). SIGINT (Ctrl-C) is handled elsewhere.
* :func:`process_age`: seconds since this process started, so a CLI time
  limit covers start-up, loading and validation too.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

#: Exit code after SIGTERM (128 + 15).
EXIT_SIGTERM = 128 + signal.SIGTERM

_IMPORTED = time.monotonic()


def _raise_exit(signum: int, frame: Any) -> None:
    raise SystemExit(EXIT_SIGTERM)


def exit_on_sigterm() -> None:
    """Make SIGTERM raise ``SystemExit`` in the main thread (no-op elsewhere)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_exit)


def process_age() -> float:
    """Seconds since this process started (Linux: from ``/proc``; elsewhere
    since this module was imported)."""
    try:
        with open(f"/proc/{os.getpid()}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        age = uptime - start
        if 0 <= age < 1e7:
            return age
    except (OSError, ValueError, IndexError):
        pass
    return time.monotonic() - _IMPORTED


_START: list[float] = []


def mark_start() -> None:
    """Record that this process's clock starts at its start (``main()`` does)."""
    _START[:] = [time.monotonic() - process_age()]


def elapsed(since: float) -> float:
    """Seconds spent since the process started if :func:`mark_start` ran,
    else since ``since`` (a ``time.monotonic()`` reading)."""
    return time.monotonic() - (_START[0] if _START else since)


def quick_exit(code: object) -> None:
    """Exit with ``code`` (as ``SystemExit`` takes it) without the interpreter's
    module teardown, which takes 0.5-1 s with OR-Tools, SciPy and pandas loaded
    and would count against ``--time-limit``. Output is flushed and the
    ``atexit`` handlers (solver worker processes) run first."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    try:
        atexit._run_exitfuncs()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status & 0xFF)
