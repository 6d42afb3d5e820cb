"""Executors for independent tasks: a local process pool or a Ray cluster.

One small interface, :class:`Engine`: ``map(fn, tasks)`` runs a picklable,
module-level ``fn`` on every task and returns the results in task order.
The decomposition (:mod:`allocopt.decompose`) solves its parts through it
and the benchmark runner (``allocopt bench --engine``) its rows.

* ``local`` (default): a :class:`concurrent.futures.ProcessPoolExecutor`
  with the ``forkserver`` start method where the platform has it (else
  ``spawn``), at most the machine's cores.
* ``ray``: Ray tasks (``pip install allocopt[ray]``); ``address`` joins an
  existing cluster (``ray://...`` or ``auto``), otherwise a local Ray with
  ``workers`` CPUs is started (and shut down by :meth:`Engine.close`).

Results do not depend on the engine: each task carries its own seed and
worker count.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .errors import SolverError

ENGINES = ("local", "ray")


def cores() -> int:
    """CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


class Engine:
    """Run ``fn(task)`` for every task; results in task order."""

    name = "engine"
    workers = 1

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the engine's processes (idempotent)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalEngine(Engine):
    """A process pool on this machine (at most its cores)."""

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = max(1, min(workers or cores(), cores()))
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._pool

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        if not tasks:
            return []
        if self.workers == 1 and len(tasks) == 1:
            return [fn(tasks[0])]  # nothing to run in parallel: no process to start
        return list(self._executor().map(fn, tasks))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class RayEngine(Engine):
    """Ray tasks: join ``address`` or start a local Ray with ``workers`` CPUs."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None):
        try:
            import ray
        except ImportError:
            raise SolverError("--engine ray needs Ray: pip install 'allocopt[ray]'") from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=max(1, workers or cores()), include_dashboard=False,
                         log_to_driver=False)
                self._started = True
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        if not tasks:
            return []
        remote = self._ray.remote(num_cpus=1, max_retries=0)(fn)
        return self._ray.get([remote.remote(t) for t in tasks])

    def close(self) -> None:
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
            self._started = False


def make_engine(name: str = "local", workers: int | None = None,
                address: str | None = None) -> Engine:
    """The engine called ``name`` (``local`` or ``ray``)."""
    if name == "local":
        return LocalEngine(workers)
    if name == "ray":
        return RayEngine(workers, address or None)
    raise SolverError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}")
