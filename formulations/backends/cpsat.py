"""OR-Tools CP-SAT back-end: the small interface the constraint families use.

Linear families are written once against :class:`CpSatBackend`'s methods
(``bool_var``, ``int_var``, ``add``, ``wsum``, ``add_ge_if``); capacity uses
CP-SAT's native optional intervals and ``add_cumulative``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ortools.sat.python import cp_model

#: CP-SAT status -> our status word, mapped once.
STATUS = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
    cp_model.MODEL_INVALID: "invalid",
    cp_model.UNKNOWN: "unknown",
}


def available() -> bool:
    return True  # ortools is a runtime dependency


class CpSatBackend:
    """A CP-SAT model plus solver with the family interface."""

    name = "cpsat"
    native_cumulative = True
    integer_coefficients = True

    def __init__(self, seed: int = 0, workers: int = 1, log: bool = False,
                 options: tuple[tuple[str, Any], ...] = ()):
        self.model = cp_model.CpModel()
        self.options = options
        self.seed = seed
        self.workers = workers
        self.log = log
        self.solver: cp_model.CpSolver | None = None

    # -- building --------------------------------------------------------
    def bool_var(self, name: str) -> Any:
        return self.model.new_bool_var(name)

    def int_var(self, lb: int, ub: int, name: str) -> Any:
        return self.model.new_int_var(int(lb), int(ub), name)

    def add(self, ct: Any) -> Any:
        return self.model.add(ct)

    @staticmethod
    def wsum(terms: Iterable[tuple[Any, float]]) -> Any:
        terms = list(terms)
        if not terms:
            return 0
        return cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [int(c) for _, c in terms])

    @staticmethod
    def total(vs: Iterable[Any]) -> Any:
        vs = list(vs)
        return cp_model.LinearExpr.sum(vs) if vs else 0

    def add_ge_if(self, expr: Any, rhs: int, lit: Any, big_m: int) -> None:
        """``expr >= rhs`` whenever ``lit`` is true."""
        self.model.add(expr >= rhs).only_enforce_if(lit)

    def add_at_most_one(self, vs: list[Any]) -> None:
        self.model.add_at_most_one(vs)

    def optional_interval(self, start: Any, size: int, lit: Any, name: str) -> Any:
        return self.model.new_optional_fixed_size_interval_var(start, size, lit, name)

    def fixed_interval(self, start: int, size: int, name: str) -> Any:
        return self.model.new_fixed_size_interval_var(start, size, name)

    def add_cumulative(self, intervals: list[Any], demands: list[int], capacity: int) -> None:
        self.model.add_cumulative(intervals, demands, capacity)

    def fix_to_zero(self, vs: Iterable[Any]) -> Callable[[], None]:
        """Fix ``vs`` to 0 until the returned function is called (their
        domains are narrowed in place, so presolve drops what hangs on them)."""
        proto = self.model.proto
        saved = [(v.index, int(proto.variables[v.index].domain[1])) for v in vs]
        for i, _ in saved:
            dom = proto.variables[i].domain
            assert len(dom) == 2 and dom[0] == 0, "fix_to_zero takes Boolean variables"
            dom[1] = 0

        def undo() -> None:
            for i, hi in saved:
                proto.variables[i].domain[1] = hi

        return undo

    # -- objective and solving -------------------------------------------
    def maximize(self, expr: Any) -> None:
        self.model.maximize(expr)

    def minimize(self, expr: Any) -> None:
        self.model.minimize(expr)

    def hint(self, values: dict[Any, int]) -> None:
        self.model.clear_hints()
        for var, val in values.items():
            self.model.add_hint(var, int(val))

    def solve(self, time_limit: float) -> str:
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.01, float(time_limit))
        solver.parameters.random_seed = int(self.seed) % 2**31  # an int32 (seed + round in LNS)
        solver.parameters.num_workers = int(self.workers)
        solver.parameters.log_search_progress = bool(self.log)
        for key, val in self.options:
            setattr(solver.parameters, key, val)
        self.solver = solver
        from allocopt import progress

        prog = progress.current()
        if prog is None:
            return STATUS.get(solver.solve(self.model), "unknown")
        return STATUS.get(_solve_with_progress(solver, self.model, prog, self.log), "unknown")

    def value(self, var: Any) -> int:
        assert self.solver is not None
        return int(self.solver.value(var))

    def objective_value(self) -> float:
        assert self.solver is not None
        return float(self.solver.objective_value)

    def best_bound(self) -> float:
        assert self.solver is not None
        return float(self.solver.best_objective_bound)

    def stats(self) -> dict[str, Any]:
        proto = self.model.proto
        return {"variables": len(proto.variables), "constraints": len(proto.constraints)}


def _solve_with_progress(solver: cp_model.CpSolver, model: cp_model.CpModel, prog: Any,
                         log: bool) -> Any:
    """Solve reporting improving solutions to ``prog``, stoppable by it.

    On the main thread the search runs in a helper thread while the main
    thread waits in short steps, so Python signal handlers (Ctrl-C) run
    during the search; CP-SAT's own SIGINT catching is switched off.
    """
    import sys
    import threading

    solver.parameters.catch_sigint_signal = False
    if log:  # the raw log, each line labelled with its stage
        solver.parameters.log_to_stdout = False
        label = prog.stage
        solver.log_callback = lambda line: print(f"[{label}] {line}", file=sys.stderr)
    callback = prog.cpsat_callback()
    with prog.stoppable(solver.stop_search):
        if threading.current_thread() is not threading.main_thread():
            return solver.solve(model, callback)
        out: list[Any] = []
        err: list[BaseException] = []

        def run() -> None:
            try:
                out.append(solver.solve(model, callback))
            except BaseException as e:  # pragma: no cover - re-raised below
                err.append(e)

        t = threading.Thread(target=run, name="cpsat-solve", daemon=True)
        t.start()
        while t.is_alive():
            t.join(0.05)
        if err:
            raise err[0]
        return out[0]
