"""Shared pieces of the baselines: job orders, option keys and registration.

Every baseline is the greedy engine (:func:`allocopt.greedy.run_greedy`)
with its own job order and option score, so each one honours every hard
constraint through :class:`allocopt.greedy.Scheduler`'s feasibility checks.
A score maps a batch of options (``opts``: arrays ``(k, S)`` over candidate
nodes ``opts.nodes``, in node-class order, and starts ``opts.starts``) to
keys where lower is better; infeasible pairs are masked by the engine.

The list-scheduling baselines place a job at its *earliest feasible start*
and let their rule choose among the nodes with room at that start. Their keys
are ``start * M + rule`` with ``M`` larger than any rule value (summed over
the replicas of a replicated job), so the start always dominates; the rule
is only evaluated where it can matter (:func:`rule_columns`). Exact ties go
to the node first in the file: the engine takes the first minimum of a batch
and keeps the earlier batch on ties, and the first-fit, edf and k8s keys also
carry the node index explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from allocopt.solve import SolverInfo, register_solver

if TYPE_CHECKING:
    from allocopt.greedy import Options, Scheduler
    from allocopt.params import SolveParams
    from allocopt.plan import Plan
    from allocopt.prepared import Prepared
    from allocopt.problem import Problem

EPS = 1e-9

#: A baseline's body: (problem, prepared data, seed) -> Plan.
Impl = Callable[["Problem", "Prepared", int], "Plan"]

#: name -> ``plan(problem, *, seed=0)`` of every baseline, in registration order.
BASELINES: dict[str, Callable[..., Plan]] = {}


def register(name: str, description: str, plan_fn: Callable[..., Plan], impl: Impl
             ) -> Callable[[Problem, Prepared, SolveParams, Plan, float], Plan]:
    """Register a baseline as ``solve(problem, solver=name)`` and in :data:`BASELINES`.

    Returns the solver adapter ``(problem, prep, params, greedy_plan,
    deadline) -> Plan``; it uses ``params.seed`` and ignores the rest (the
    baselines are single fast passes).
    """

    def planner(problem: Problem, prep: Prepared, params: SolveParams, greedy_plan: Plan,
                deadline: float) -> Plan:
        return impl(problem, prep, params.seed)

    planner.__name__ = planner.__qualname__ = f"planner_{name.replace('-', '_')}"
    register_solver(SolverInfo(name, description, planner, "baseline"))
    BASELINES[name] = plan_fn
    return planner


# -- job orders -------------------------------------------------------------


def topo_order(prep: Prepared, key: Callable[[int], tuple]) -> list[int]:
    """Jobs sorted by ``key`` (then file order), moved only where ``after`` requires.

    At each step the smallest-key job whose predecessors are all listed comes
    next (a lexicographic topological sort).
    """
    graph = nx.DiGraph()
    graph.add_nodes_from(range(prep.J))
    graph.add_edges_from((q, j) for j in range(prep.J) for q in prep.preds[j])
    return list(nx.lexicographical_topological_sort(graph, key=lambda j: (*key(j), j)))


def dominant_share(prep: Prepared) -> np.ndarray:
    """(J, R) demand as a share of the largest capacity of each resource."""
    maxcap = prep.class_cap.max(axis=0) if prep.C else np.ones(prep.R)
    return prep.demand / np.maximum(maxcap, EPS)


def job_size(prep: Prepared) -> np.ndarray:
    """(J,) dominant resource share x duration x replicas."""
    share = dominant_share(prep).max(axis=1) if prep.R else np.zeros(prep.J)
    return share * prep.duration * prep.replicas


# -- option keys ------------------------------------------------------------


def window_free(sched: Scheduler, nodes: np.ndarray, starts: np.ndarray, d: int) -> np.ndarray:
    """(k, S, R) least free capacity of each node over ``[s, s + d)`` for each start."""
    if len(starts) <= 4:  # the usual case (see rule_columns): a few direct slices
        return np.stack([sched.free[nodes, s:s + d].min(axis=1) for s in starts.tolist()],
                        axis=1) if len(starts) else np.zeros((len(nodes), 0, sched.prep.R))
    s0, s1 = int(starts[0]), int(starts[-1]) + d
    free = sched.free[nodes, s0:s1]  # (k, W, R)
    win = np.lib.stride_tricks.sliding_window_view(free, d, axis=1).min(axis=-1)
    return win[:, starts - s0]


def rule_columns(opts: Options, sched: Scheduler, j: int) -> np.ndarray:
    """Indices of the starts of ``opts`` where a start-first key's rule can matter.

    For one replica, only the earliest start with a feasible node: earlier
    starts are infeasible and later ones lose on the start. A replicated job
    combines nodes per start, so every start with a feasible node counts.
    """
    cols = np.flatnonzero(opts.ok.any(axis=0))
    if int(sched.prep.replicas[j]) == 1:
        return cols[:1]
    return cols


def start_first(score: Callable) -> Callable:
    """Mark ``score`` as earliest-start-first (see :data:`allocopt.greedy.Score`):
    the engine then only looks at the earliest starts where something fits."""
    score.start_first = True  # type: ignore[attr-defined]
    return score


@start_first
def start_then_node(opts: Options, sched: Scheduler, j: int) -> np.ndarray:
    """Earliest start, then the first node in file order (exact integers)."""
    n1 = float(sched.prep.N + 1)
    return opts.starts[None, :] * n1 + opts.nodes[:, None].astype(float)


def start_then(opts: Options, rule: np.ndarray, bound: float) -> np.ndarray:
    """Earliest start, then ``rule`` (k, S), lower better, ``0 <= rule <= bound``."""
    return opts.starts[None, :] * (2.0 * bound + 1.0) + rule


def start_then_rule(opts: Options, sched: Scheduler, j: int,
                    rule: Callable[[np.ndarray], np.ndarray], bound: float) -> np.ndarray:
    """:func:`start_then` with ``rule(cols) -> (k, len(cols))`` evaluated only
    at :func:`rule_columns` (elsewhere the rule counts as 0: the start decides)."""
    cols = rule_columns(opts, sched, j)
    full = np.zeros(opts.ok.shape)
    if len(cols):
        full[:, cols] = rule(cols)
    return start_then(opts, full, bound)
