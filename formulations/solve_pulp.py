"""The MILP back-ends as planners: ``pulp`` (CBC) and ``pulp-highs`` (HiGHS).

Both run :func:`allocopt.formulations.solve_model.plan_exact` with a
:class:`~allocopt.formulations.backends.pulp.PulpBackend`: the same constraint
families, lexicographic stages, time limit, status mapping, greedy hint and
fallback, and validation gate as ``cpsat``. Capacity uses the time-indexed
rows (``z[j,n,s]``) since PuLP has no cumulative constraint.

The time-indexed model is larger than the CP-SAT one by the z variables and
their capacity terms, which :meth:`Scope.size_estimate` does not count. So
the full-model / neighbourhood decision is made on the larger estimate of
:func:`pulp_size_estimate`: a problem whose MILP exceeds
``SolveParams.max_model_terms`` is improved by large-neighbourhood search
(each neighbourhood is a fresh, small PuLP model).
"""

from __future__ import annotations


import numpy as np

from allocopt.params import SolveParams
from allocopt.plan import Plan
from allocopt.prepared import Prepared
from allocopt.problem import Problem
from allocopt.solve import SolverInfo, register_solver

from .backends.pulp import PulpBackend, PulpHighsBackend, cbc_available, highs_available
from .scope import Scope
from .solve_model import plan_exact



def pulp_size_estimate(scope: Scope) -> int:
    """:meth:`Scope.size_estimate` plus the time-indexed capacity's z terms.

    Each z[j,n,s] appears in two link rows and in ``duration`` capacity rows
    per resource the job uses (an upper estimate: non-binding rows are
    skipped when the model is built).
    """
    p = scope.prep
    extra = 0
    for j in scope.jobs:
        uses = int(np.count_nonzero(p.demand[j] > 0))
        extra += len(scope.nodes[j]) * len(scope.starts[j]) * (3 + int(p.duration[j]) * uses)
    return scope.size_estimate() + extra


def _planner(backend_cls: type, solver: str):
    def plan(problem: Problem, prep: Prepared, params: SolveParams, greedy: Plan,
             deadline: float) -> Plan:
        # The MILP is larger than the CP-SAT model: plan_exact decides on
        # (and sizes its neighbourhoods by) the MILP's own estimate.
        return plan_exact(problem, prep, params, greedy, deadline, backend_cls, solver,
                          pulp_size_estimate)

    plan.__name__ = f"_plan_{solver.replace('-', '_')}"
    return plan


register_solver(SolverInfo(
    "pulp", "the same MILP through PuLP on CBC (time-indexed capacity), lexicographic stages",
    _planner(PulpBackend, "pulp"), "exact", cbc_available))
register_solver(SolverInfo(
    "pulp-highs", "the same MILP through PuLP on HiGHS (needs highspy), lexicographic stages",
    _planner(PulpHighsBackend, "pulp-highs"), "exact", highs_available))
