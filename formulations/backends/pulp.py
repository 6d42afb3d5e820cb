"""PuLP back-end: the family interface on a :class:`pulp.LpProblem` (a MILP).

The same constraint families that build the CP-SAT model build a mixed
integer linear program here, solved by CBC (the binary bundled with PuLP, or
a ``cbc`` on the ``PATH``) or by HiGHS (``highspy``).

Differences from :class:`~allocopt.formulations.backends.cpsat.CpSatBackend`:

* no native cumulative constraint (``native_cumulative = False``): the
  capacity family uses its time-indexed variant (``z[j,n,s]``), whose hint
  values a rule in :attr:`PulpBackend.hint_rules` derives from ``a`` and ``y``;
* conditional rules are big-M rows:
  ``add_ge_if(expr, rhs, lit, M)`` adds ``expr >= rhs - M * (1 - lit)``;
* coefficients may be floats (``integer_coefficients = False``);
* ``relax=True`` builds the LP relaxation: every variable is continuous
  within its bounds (0..1 for booleans).

Solving
-------
* CBC runs as PuLP's ``COIN_CMD`` (a child process) with ``-sec``,
  ``randomCbcSeed``, ``threads`` (when > 1), relative gap 0, and the hint as
  a MIP start (``warmStart``). It is always handed a minimisation (a
  maximisation is negated), because with ``-max`` and a MIP start CBC 2.10
  can stop at the start and call it optimal.
* HiGHS runs in a long-lived worker process that reads the MPS file PuLP
  writes, with ``time_limit``, ``random_seed``, ``threads``, relative gap 0
  and the hint as start solution (``setSolution``). It cannot run in the
  planner's process: OR-Tools ships its own, older ``libhighs.so.1``, and the
  first of the two loaded breaks the other (see the import below).
* When the objective is integral (every stage objective is: the stage
  runner scales to integers) an absolute gap below 1 is a proof, and the
  solvers are told so (:data:`INTEGRAL_ABS_GAP`).

Statuses are mapped once, in :func:`status_of`, from PuLP's (status,
solution status) pair: ``optimal`` (proven), ``feasible`` (an integer
solution without proof, e.g. at the time limit), ``infeasible``, or
``unknown`` (nothing found, or a solver error).

Best bound
----------
PuLP does not report a MIP's dual bound itself. :meth:`PulpBackend.best_bound`
reads it from the solver: HiGHS's ``mip_dual_bound``, and for CBC the
``Lower bound:`` line (or the last ``best possible``) of its log, which the
back-end always captures. When neither is available the bound implied by
the variables' domains is returned (valid but weak); when the status is
``optimal`` the objective value is returned. It is never ``None``, so the
stage runner can always convert it.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import contextlib
import json
import logging
import math
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

# OR-Tools and highspy each ship a ``libhighs.so.1`` of a different version;
# the dynamic loader keeps whichever comes first, and the other package then
# fails to import. PuLP imports highspy (if installed) when it is imported, so
# OR-Tools must be loaded first or CP-SAT breaks for the whole process.
import ortools.sat.python.cp_model  # noqa: F401  (must precede "import pulp")
import pulp

log = logging.getLogger(__name__)

#: Absolute gap accepted as a proof when the objective is integral: no
#: integer lies strictly between an integral incumbent and a bound less than
#: one above it (CBC ``allow``, HiGHS ``mip_abs_gap``).
INTEGRAL_ABS_GAP = 0.99
#: Share of a stage's time given to the solver process, and seconds kept back
#: for the file exchange around it (see :meth:`PulpBackend.solve`).
SOLVER_TIME_SHARE = 0.9
SOLVER_OVERHEAD_S = 0.15
#: Absolute gap for fractional objectives (the solvers' usual default).
FRACTIONAL_ABS_GAP = 1e-6


def status_of(status: int, sol_status: int) -> str:
    """PuLP's (``LpStatus``, ``LpSolution``) pair -> our status word.

    The solution status decides: PuLP reports a time-limited MIP with an
    incumbent as ``LpStatusOptimal`` with ``LpSolutionIntegerFeasible``.
    """
    if sol_status == pulp.LpSolutionOptimal:
        return "optimal"
    if sol_status == pulp.LpSolutionIntegerFeasible:
        return "feasible"
    if status == pulp.LpStatusInfeasible or sol_status == pulp.LpSolutionInfeasible:
        return "infeasible"
    return "unknown"


# ---------------------------------------------------------------------------
# Solvers
# ---------------------------------------------------------------------------

def _cbc_path() -> str | None:
    """The CBC binary: PuLP's bundled one if executable, else ``cbc`` on PATH."""
    bundled = getattr(pulp.PULP_CBC_CMD, "pulp_cbc_path", None)
    if bundled and os.path.isfile(bundled) and os.access(bundled, os.X_OK):
        return bundled
    cmd = pulp.COIN_CMD(msg=False)
    return cmd.path if cmd.available() else None


def cbc_available() -> bool:
    """True if a CBC binary can be run."""
    try:
        return _cbc_path() is not None
    except Exception:  # pragma: no cover - a broken PuLP install
        return False


@functools.cache
def highs_available() -> bool:
    """True if ``highspy`` can be imported (checked once, in a child process).

    HiGHS always runs in a child process: OR-Tools ships its own, older
    ``libhighs.so.1``, and whichever of the two libraries a process loads
    first breaks the other (the dynamic loader shares a SONAME). CP-SAT is
    loaded by every planner process, so ``highspy`` cannot live there.
    """
    if importlib.util.find_spec("highspy") is None:
        return False
    try:
        done = subprocess.run([sys.executable, "-c", "import highspy"], capture_output=True,
                              timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):  # pragma: no cover
        return False
    return done.returncode == 0


def available(solver_name: str = "cbc") -> bool:
    """True if the named PuLP solver (``cbc`` or ``highs``) is usable."""
    return highs_available() if solver_name == "highs" else cbc_available()


#: The HiGHS worker: a long-lived child process (started once, reused) that
#: reads one request per line -- an MPS file, a JSON config (options, start
#: values by column name) and an output path --, solves, writes a JSON
#: result there and answers one line. Its fd 1 is pointed at stderr so the
#: HiGHS log cannot corrupt the protocol.
_HIGHS_WORKER = r"""
import json, os, sys
proto = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
import highspy

threads = None

def solve(mps, cfg_path, out_path):
    global threads
    with open(cfg_path) as f:
        cfg = json.load(f)
    opts = dict(cfg["options"])
    want = opts.pop("threads", None)
    if want is not None and want != threads:
        if threads is not None:
            highspy.Highs.resetGlobalScheduler(True)
        threads = want
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(cfg["msg"]))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    if h.readModel(mps) == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS could not read " + mps)
    for k, v in opts.items():
        h.setOptionValue(k, v)
    names = list(h.getLp().col_names_)
    start = cfg.get("start")
    if start:
        sol = highspy.HighsSolution()
        sol.col_value = [float(start.get(n, 0.0)) for n in names]
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    info = h.getInfo()
    has_sol = int(info.primal_solution_status) == 2
    out = {"model_status": h.getModelStatus().name, "has_solution": has_sol,
           "mip_dual_bound": float(info.mip_dual_bound),
           "values": dict(zip(names, h.getSolution().col_value)) if has_sol else None}
    with open(out_path, "w") as f:
        json.dump(out, f)

for line in sys.stdin:
    try:
        solve(*json.loads(line))
        reply = {"ok": True}
    except Exception as e:
        reply = {"ok": False, "error": repr(e)}
    proto.write(json.dumps(reply) + "\n")
    proto.flush()
"""


class _HighsWorker:
    """The one HiGHS worker process of this interpreter (see :data:`_HIGHS_WORKER`)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.lock = threading.Lock()
        self.show_log = False

    def _start(self, show_log: bool) -> subprocess.Popen:
        self.show_log = show_log
        proc = subprocess.Popen(
            [sys.executable, "-c", _HIGHS_WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=None if show_log else subprocess.DEVNULL, text=True)
        return proc

    def run(self, mps: str, cfg: str, out: str, timeout: float, show_log: bool) -> None:
        with self.lock:
            if self.proc is None or self.proc.poll() is not None or show_log != self.show_log:
                self.close()
                self.proc = self._start(show_log)
            proc = self.proc
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps([mps, cfg, out]) + "\n")
                proc.stdin.flush()
                ready, _, _ = select.select([proc.stdout], [], [], timeout)
                line = proc.stdout.readline() if ready else ""
            except (OSError, ValueError) as e:
                self.close()
                raise pulp.PulpSolverError(f"HiGHS worker failed: {e}") from None
            if not line:
                self.close()
                raise pulp.PulpSolverError("HiGHS worker did not answer in time" if not ready
                                           else "HiGHS worker exited")
            reply = json.loads(line)
            if not reply.get("ok"):
                raise pulp.PulpSolverError(f"HiGHS failed: {reply.get('error')}")

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()  # only the worker this object started
            proc.wait()


_WORKER = _HighsWorker()
atexit.register(_WORKER.close)


class _TrackedSubprocess:
    """Stands in for ``subprocess`` in PuLP's CBC module: every CBC process
    starts in its own process group and is recorded for the thread that
    started it, so :func:`_ended_children` can end it (and anything it
    started) on any exit path -- an exception, SystemExit on SIGTERM, Ctrl-C."""

    def __init__(self) -> None:
        self.local = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def Popen(self, *args: Any, **kwargs: Any) -> subprocess.Popen:  # noqa: N802 - the API's name
        if os.name != "posix":  # pragma: no cover
            proc = subprocess.Popen(*args, **kwargs)
            getattr(self.local, "procs", []).append(proc)
            return proc
        kwargs.setdefault("start_new_session", True)
        # SIGTERM/SIGINT wait until the process is recorded: raised inside
        # Popen (after the fork) they would leave CBC running unrecorded.
        # The child gets the caller's signal mask back before exec.
        stop = {signal.SIGTERM, signal.SIGINT}
        old = signal.pthread_sigmask(signal.SIG_BLOCK, stop)
        try:
            proc = subprocess.Popen(
                *args, preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_SETMASK, old),
                **kwargs)
            getattr(self.local, "procs", []).append(proc)
            _LIVE_PROCS.add(proc)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        return proc


_TRACKED = _TrackedSubprocess()
pulp.apis.coin_api.subprocess = _TRACKED  # type: ignore[attr-defined]


def _end(proc: subprocess.Popen) -> None:
    """End ``proc`` and anything it started (its own process group)."""
    if proc.poll() is None:
        try:
            if os.name == "posix":
                os.killpg(proc.pid, 9)  # its own group: CBC and its children
            else:  # pragma: no cover
                proc.kill()
        except OSError:
            pass
        proc.wait()


#: Every solver process and temporary folder in use, across threads: a solve
#: running in a worker thread (``allocopt.solve`` with progress) does not
#: reach its ``finally`` blocks when the process exits on SIGTERM, so the
#: exit handler :func:`_end_all` ends and removes what is left.
_LIVE_PROCS: set[subprocess.Popen] = set()
_LIVE_DIRS: set[str] = set()


@atexit.register
def _end_all() -> None:
    for proc in list(_LIVE_PROCS):
        _end(proc)
    for path in list(_LIVE_DIRS):
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _ended_children() -> Any:
    """End every CBC process started inside the block that is still running."""
    procs: list[subprocess.Popen] = []
    outer = getattr(_TRACKED.local, "procs", None)
    _TRACKED.local.procs = procs
    try:
        yield
    finally:
        _TRACKED.local.procs = outer
        for proc in procs:
            _end(proc)
            _LIVE_PROCS.discard(proc)


@contextlib.contextmanager
def _temp_dir() -> Any:
    """A temporary folder for the solver's files, removed on every exit path."""
    with tempfile.TemporaryDirectory(prefix="allocopt-pulp-") as tmp:
        _LIVE_DIRS.add(tmp)
        try:
            yield tmp
        finally:
            _LIVE_DIRS.discard(tmp)


def _highs_status(model_status: str, has_solution: bool) -> tuple[int, int]:
    """A HiGHS model status -> PuLP's (``LpStatus``, ``LpSolution``) pair, as
    ``pulp.HiGHS`` maps it, so that :func:`status_of` stays the one mapping."""
    if model_status == "kOptimal":
        return pulp.LpStatusOptimal, pulp.LpSolutionOptimal
    if model_status in ("kInfeasible", "kUnboundedOrInfeasible"):
        return pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible
    if model_status == "kUnbounded":
        return pulp.LpStatusUnbounded, pulp.LpSolutionUnbounded
    if has_solution:  # time, iteration, solution or objective limit
        return pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible
    return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound


# ---------------------------------------------------------------------------
# Back-end
# ---------------------------------------------------------------------------

class PulpBackend:
    """A PuLP model plus solver with the family interface.

    Parameters
    ----------
    seed, workers, log
        Random seed (CBC ``randomCbcSeed``, HiGHS ``random_seed``), threads,
        and whether to show the solver's log.
    solver_name
        ``"cbc"`` or ``"highs"``.
    relax
        Build the LP relaxation instead of the MILP.
    """

    name = "pulp"
    native_cumulative = False
    integer_coefficients = False
    default_solver = "cbc"

    def __init__(self, seed: int = 0, workers: int = 1, log: bool = False,
                 solver_name: str | None = None, relax: bool = False):
        self.seed = int(seed) % (2**31 - 1)  # CBC and HiGHS take an int32
        self.workers = int(workers)
        self.log = bool(log)
        self.solver_name = solver_name or self.default_solver
        if self.solver_name not in ("cbc", "highs"):
            raise ValueError(f"unknown PuLP solver {self.solver_name!r} (cbc or highs)")
        self.relax = bool(relax)
        self.prob = pulp.LpProblem("allocopt", pulp.LpMaximize)
        self._names: set[str] = set()
        self._vars: list[pulp.LpVariable] = []
        self._objective: pulp.LpAffineExpression = pulp.LpAffineExpression()
        self._hint: dict[Any, float] = {}
        #: Functions deriving hint values of auxiliary variables (e.g. the
        #: time-indexed capacity's z) from the values of the core variables.
        self.hint_rules: list[Callable[[dict[Any, int]], dict[Any, int]]] = []
        self._status = "unknown"
        self._bound: float | None = None
        self._num_constraints = 0
        self._cbc_mips_crashed = False

    # -- building --------------------------------------------------------
    def _unique(self, name: str) -> str:
        # PuLP maps "-+[] ->/" to "_", so distinct ids may collide.
        base = name.translate(pulp.LpElement.trans)
        out, k = base, 1
        while out in self._names:
            out = f"{base}~{k}"
            k += 1
        self._names.add(out)
        return out

    def _new_var(self, name: str, lb: float, ub: float, integer: bool) -> pulp.LpVariable:
        cat = pulp.LpInteger if integer and not self.relax else pulp.LpContinuous
        if hasattr(self.prob, "add_variable"):  # PuLP >= 3.3 (LpVariable(...) is deprecated)
            v = self.prob.add_variable(self._unique(name), lb, ub, cat=cat)
        else:  # pragma: no cover - older PuLP
            v = pulp.LpVariable(self._unique(name), lowBound=lb, upBound=ub, cat=cat)
        self._vars.append(v)
        return v

    def bool_var(self, name: str) -> Any:
        return self._new_var(name, 0, 1, True)

    def int_var(self, lb: int, ub: int, name: str) -> Any:
        return self._new_var(name, int(lb), int(ub), True)

    def add(self, ct: Any) -> Any:
        if isinstance(ct, (bool, np.bool_)):
            # Both sides constant (e.g. an empty sum compared with 0).
            if not ct:
                self.prob += pulp.LpConstraint(pulp.LpAffineExpression(constant=1),
                                               pulp.LpConstraintLE, rhs=0)
                self._num_constraints += 1
            return None
        self._num_constraints += 1
        self.prob.addConstraint(ct, f"c{self._num_constraints}")
        return ct

    @staticmethod
    def wsum(terms: Iterable[tuple[Any, float]]) -> Any:
        # LpAffineExpression(list) keeps the last of duplicate keys: sum them.
        acc: dict[Any, float] = {}
        for v, c in terms:
            if c:
                acc[v] = acc.get(v, 0.0) + float(c)
        return pulp.LpAffineExpression(acc)

    @staticmethod
    def total(vs: Iterable[Any]) -> Any:
        acc: dict[Any, float] = {}
        for v in vs:
            acc[v] = acc.get(v, 0.0) + 1.0
        return pulp.LpAffineExpression(acc)

    def add_ge_if(self, expr: Any, rhs: float, lit: Any, big_m: float) -> None:
        """``expr >= rhs`` whenever ``lit`` is 1, as ``expr >= rhs - M (1 - lit)``.

        ``big_m`` must make the row slack when ``lit`` is 0, i.e.
        ``min(expr) >= rhs - big_m``; the caller derives it from the data.
        """
        self.add(expr - big_m * lit >= rhs - big_m)

    def add_at_most_one(self, vs: list[Any]) -> None:
        self.add(self.total(vs) <= 1)

    def optional_interval(self, start: Any, size: int, lit: Any, name: str) -> Any:
        raise NotImplementedError("PuLP has no interval variables (native_cumulative is False)")

    def fixed_interval(self, start: int, size: int, name: str) -> Any:
        raise NotImplementedError("PuLP has no interval variables (native_cumulative is False)")

    def add_cumulative(self, intervals: list[Any], demands: list[int], capacity: int) -> None:
        raise NotImplementedError("PuLP has no cumulative constraint (native_cumulative is False)")

    def fix_to_zero(self, vs: Iterable[Any]) -> Callable[[], None]:
        """Fix ``vs`` to 0 until the returned function is called."""
        saved = [(v, v.upBound) for v in vs]
        for v, _ in saved:
            v.upBound = 0

        def undo() -> None:
            for v, ub in saved:
                v.upBound = ub

        return undo

    # -- objective and solving -------------------------------------------
    def maximize(self, expr: Any) -> None:
        self._set_objective(expr, pulp.LpMaximize)

    def minimize(self, expr: Any) -> None:
        self._set_objective(expr, pulp.LpMinimize)

    def _set_objective(self, expr: Any, sense: int) -> None:
        expr = expr if isinstance(expr, pulp.LpAffineExpression) else pulp.LpAffineExpression(expr)
        self._objective = expr
        self.prob.sense = sense
        self.prob.setObjective(expr)

    def hint(self, values: dict[Any, int]) -> None:
        """Start from ``values`` (replaces any earlier hint)."""
        values = dict(values)
        for rule in self.hint_rules:
            for v, val in rule(values).items():
                values.setdefault(v, val)
        self._hint = values

    def _integral_objective(self) -> bool:
        if self.relax:
            return False
        return all(float(c).is_integer() for c in self._objective.values()) and all(
            v.cat == pulp.LpInteger for v in self._objective)

    def _gap_abs(self) -> float:
        return INTEGRAL_ABS_GAP if self._integral_objective() else FRACTIONAL_ABS_GAP

    def solve(self, time_limit: float) -> str:
        """Solve within ``time_limit`` seconds; returns the status word.

        The solver itself gets :data:`SOLVER_TIME_SHARE` of it less
        :data:`SOLVER_OVERHEAD_S`: writing the model file, starting the
        child process and reading the solution back take the rest (on the
        small benchmark, runs overshot a 10 s limit by up to 1.4 s without).
        """
        time_limit = max(0.01, SOLVER_TIME_SHARE * float(time_limit) - SOLVER_OVERHEAD_S)
        self._bound = None
        with _temp_dir() as tmp:
            try:
                if self.solver_name == "highs":
                    self._solve_highs(time_limit, tmp)
                else:
                    self._solve_cbc(time_limit, tmp)
            except (pulp.PulpSolverError, OSError, subprocess.SubprocessError, ValueError) as e:
                log.warning("PuLP/%s failed: %s", self.solver_name, e)
                self._status = "unknown"
                return self._status
        self._status = status_of(self.prob.status, self.prob.sol_status)
        return self._status

    def _solve_cbc(self, time_limit: float, tmp: str) -> None:
        warm = bool(self._hint) and not self.relax and not self._cbc_mips_crashed
        if warm:
            for v in self._vars:
                v.setInitialValue(self._hint.get(v, 0), check=False)
        log_path = os.path.join(tmp, "cbc.log")
        t_end = time.perf_counter() + time_limit
        # CBC always gets a minimisation: with ``-max`` and a MIP start
        # (``-mips``) it can take a worse start for the optimum and stop
        # there ("optimal" yet below the true maximum; seen with CBC 2.10).
        maximize = self.prob.sense == pulp.LpMaximize
        if maximize:
            self.prob.sense = pulp.LpMinimize
            self.prob.setObjective(-self._objective)
        try:
            try:
                self._run_cbc(warm, time_limit, log_path)
            except pulp.PulpSolverError as e:
                # The bundled CBC 2.10 sometimes crashes (SIGSEGV) at the end
                # of a time-limited run with a MIP start (seen on later stages
                # of the small benchmark instances; never without -mips): the
                # stage keeps its hint, and this model's later stages run
                # without a MIP start; with time left, this one is retried.
                if not warm:
                    raise
                self._cbc_mips_crashed = True
                left = t_end - time.perf_counter()
                if left < 0.05:
                    raise
                log.warning("CBC failed with the MIP start (%s); retrying without it", e)
                self._run_cbc(False, left, log_path)
        finally:
            if maximize:
                self.prob.sense = pulp.LpMaximize
                self.prob.setObjective(self._objective)
        with open(log_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if self.log:
            log.info("CBC log:\n%s", text)
        if not self.relax:
            b = self._cbc_bound(text)
            if b is not None:
                self._bound = (-b if maximize else b) + float(self._objective.constant)

    def _run_cbc(self, warm: bool, time_limit: float, log_path: str) -> None:
        solver = pulp.COIN_CMD(
            path=_cbc_path(), mip=not self.relax, msg=False, timeLimit=time_limit,
            gapRel=0.0, gapAbs=self._gap_abs(),
            threads=self.workers if self.workers > 1 else None,
            warmStart=warm, logPath=log_path, options=[f"randomCbcSeed {self.seed + 1}"])
        # PuLP's model, start and solution files go to this solve's own temp
        # directory (removed on every exit path), not the shared temp folder.
        solver.tmpDir = os.path.dirname(log_path)
        try:
            with _ended_children():
                self.prob.solve(solver)
        except pulp.PulpSolverError as e:
            tail = ""
            if os.path.exists(log_path):
                with open(log_path, encoding="utf-8", errors="replace") as f:
                    tail = " | ".join(f.read().strip().splitlines()[-3:])
            raise pulp.PulpSolverError(f"{e}; CBC log ends: {tail}") from None

    @staticmethod
    def _cbc_bound(text: str) -> float | None:
        """CBC's lower bound (of the minimisation it solved) from its log.

        The objective constant is not in the MPS file; the caller adds it.
        """
        m = re.search(r"^Lower bound:\s*(\S+)", text, re.M)
        if m:
            try:
                return float(m.group(1))
            except ValueError:
                pass
        found = re.findall(r"best possible (-?[0-9.eE+]+)", text)
        return float(found[-1]) if found else None

    def _solve_highs(self, time_limit: float, tmp: str) -> None:
        mps, cfg_path, out_path = (os.path.join(tmp, f) for f in ("m.mps", "cfg.json", "out.json"))
        _, names, _, _ = self.prob.writeMPS(mps, rename=1, mip=not self.relax, with_objsense=True)
        options: dict[str, Any] = {"time_limit": time_limit, "random_seed": self.seed,
                                   "threads": self.workers}
        if not self.relax:
            options.update(mip_rel_gap=0.0, mip_abs_gap=self._gap_abs())
        start = None
        if self._hint and not self.relax:
            start = {names[v.name]: float(self._hint.get(v, 0)) for v in self._vars}
        with open(cfg_path, "w") as f:
            json.dump({"msg": self.log, "options": options, "start": start}, f)
        # Generous wall-clock guard: HiGHS stops itself at time_limit.
        _WORKER.run(mps, cfg_path, out_path, time_limit + 60, self.log)
        with open(out_path) as f:
            out = json.load(f)
        status, sol_status = _highs_status(out["model_status"], out["has_solution"])
        values = out["values"]
        for v in self._vars:  # a variable in no row and not in the objective is 0
            v.varValue = None if values is None else values.get(names.get(v.name, ""), 0.0)
        self.prob.assignStatus(status, sol_status)
        b = out["mip_dual_bound"]
        if not self.relax and math.isfinite(b) and out["has_solution"]:
            # HiGHS reports in the objective's sense (OBJSENSE is in the file),
            # without the constant PuLP does not write.
            self._bound = b + float(self._objective.constant)

    def value(self, var: Any) -> Any:
        v = var.varValue if hasattr(var, "varValue") else pulp.value(var)
        v = 0.0 if v is None else float(v)
        return v if self.relax else int(round(v))

    def objective_value(self) -> float:
        """The objective at the (rounded, for a MILP) solution values."""
        total = float(self._objective.constant)
        for v, c in self._objective.items():
            total += c * self.value(v)
        return total

    def _domain_bound(self) -> float:
        maximize = self.prob.sense == pulp.LpMaximize
        total = float(self._objective.constant)
        for v, c in self._objective.items():
            lo = -math.inf if v.lowBound is None else v.lowBound
            hi = math.inf if v.upBound is None else v.upBound
            total += max(c * lo, c * hi) if maximize else min(c * lo, c * hi)
        return total

    def best_bound(self) -> float:
        """Proven bound on the objective (see the module docstring)."""
        obj = self.objective_value()
        if self._status == "optimal":
            return obj
        maximize = self.prob.sense == pulp.LpMaximize
        b = self._bound if self._bound is not None else self._domain_bound()
        # A bound never lies on the wrong side of a solution it covers.
        return max(b, obj) if maximize else min(b, obj)

    def stats(self) -> dict[str, Any]:
        return {"variables": len(self._vars), "constraints": self._num_constraints}

    # -- export ------------------------------------------------------------
    def write(self, path: str, fmt: str) -> None:
        """Write the model as ``mps`` or ``lp`` (PuLP's writers).

        MPS: PuLP puts the ``OBJSENSE`` section before ``NAME``, which CBC's
        reader rejects; it is moved after ``NAME`` (the free-MPS layout that
        HiGHS, Gurobi and CPLEX read; CBC reads the file but ignores the
        sense, so pass it ``-max`` for a maximisation).
        """
        if fmt == "mps":
            self.prob.writeMPS(path, with_objsense=True)
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            if len(lines) > 2 and lines[0] == "OBJSENSE" and lines[2].startswith("NAME"):
                sense = lines[1].strip()
                lines = [f"* allocopt model, objective sense {sense}", lines[2],
                         "OBJSENSE", f"    {sense}", *lines[3:]]
                with open(path, "w", encoding="utf-8") as f:
                    f.write("\n".join(lines))
        elif fmt == "lp":
            self.prob.writeLP(path, max_length=255)
        else:
            raise ValueError(f"unknown model format {fmt!r} (mps or lp)")


class PulpHighsBackend(PulpBackend):
    """:class:`PulpBackend` solving with HiGHS."""

    name = "pulp-highs"
    default_solver = "highs"
