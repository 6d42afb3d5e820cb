"""Adaptive large-neighbourhood search (ALNS) over small sub-models.

Each round frees a *neighbourhood* of the current plan -- a few nodes, a
time window and the jobs inside them -- keeps every other job fixed as
background capacity and power (:func:`allocopt.formulations.scope.neighbourhood_scope`),
builds a small model of it, and solves it once, with a short limit, under one
combined lexicographic objective (:func:`combined_terms`; the stage-by-stage
solve when the combined weights would overflow). The merged plan is kept
only if it is lexicographically better (:func:`allocopt.validate.better`)
and passes the validator.

Neighbourhood kinds (:data:`KINDS`):

``unplaced``
    unplaced jobs of the highest tiers plus the placed jobs in their way
    (tier value);
``window``
    the jobs of one region in a time window (price and carbon curves);
``node``
    every job on the least-used active nodes, plus jobs on other nodes of
    their regions: room to move them and close the node (node cost, idle
    power);
``swap``
    replicated jobs with the jobs overlapping them in other regions (region
    swaps).

Kinds are drawn with adaptive weights (success raises a kind's weight);
each kind's neighbourhood size grows after a success or a round that proved
its sub-model has nothing better, and shrinks after a round that found no
solution. Model size follows the neighbourhood: freed
jobs only get a window of starts around their current one on long horizons
and a small pool of busy nodes (idle nodes are always allowed).

The search serves large problems throughout (instead of the full model)
and medium ones after the full-model stages. Per-kind statistics (rounds,
improvements, seconds) are logged and returned.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocopt import progress
from allocopt.params import SolveParams
from allocopt.plan import Plan
from allocopt.prepared import Prepared
from allocopt.problem import Problem
from allocopt.validate import better, is_valid, validate

from .scope import Scope, neighbourhood_scope
from .stages import Stage, build, make_stages, run_stages

log = logging.getLogger(__name__)

KINDS = ("unplaced", "window", "node", "swap")

#: Largest sub-model (estimated terms): building stays in the tens of ms.
ALNS_MAX_TERMS = 20_000
#: Solve limit of one sub-model, seconds (less when little time is left).
STEP_S = 1.5
#: Busy nodes a neighbourhood may use besides its jobs' own (idle ones always).
POOL_EXTRA = 8
#: Sizes (freed jobs) start here and stay within [MIN_SIZE, params.lns_jobs].
START_SIZE, MIN_SIZE = 8, 3
#: Largest total coefficient of a combined objective (CP-SAT needs int64 sums).
MAX_COEF_SUM = 2 ** 60
#: Integer range the cost gets in a combined objective (coarse; the accept
#: test uses exact metrics).
COST_RANGE = 10 ** 6


@dataclass
class KindStats:
    rounds: int = 0
    improvements: int = 0
    seconds: float = 0.0
    unknown: int = 0


@dataclass
class AlnsStats:
    kinds: dict[str, KindStats] = field(default_factory=lambda: {k: KindStats() for k in KINDS})

    def table(self) -> str:
        return "; ".join(f"{k}: {s.rounds} rounds, {s.improvements} improvements, "
                         f"{s.unknown} without solution, {s.seconds:.1f}s"
                         for k, s in self.kinds.items() if s.rounds)


def combined_terms(stages: list[Stage]) -> list[tuple[Any, int]] | None:
    """One maximisation equivalent to the stages in order: each stage's terms
    weighted above the whole range of every later one (exact for the value
    stages; the cost is scaled into :data:`COST_RANGE` integers). None when
    the weights would overflow."""
    out: list[tuple[Any, int]] = []
    weight = 1
    for i, st in enumerate(reversed(stages)):
        sign = 1 if st.sense == "max" else -1
        terms = [(v, sign * int(c)) for v, c in st.terms if c]
        span = sum(abs(c) for _, c in terms)
        if i == 0 and st.sense == "min" and span > COST_RANGE:
            f = span / COST_RANGE
            terms = [(v, int(round(c / f))) for v, c in terms]
            terms = [t for t in terms if t[1]]
            span = sum(abs(c) for _, c in terms)
        out += [(v, c * weight) for v, c in terms]
        weight *= span + 1
        if weight > MAX_COEF_SUM:
            return None
    return out


def half_width(prep: Prepared) -> int | None:
    """Start-window half-width of a freed job on long horizons (None: any
    start, on horizons up to 48 slots)."""
    return None if prep.H <= 48 else max(3, prep.H // 28)


class Alns:
    """The search state: current plan arrays, adaptive weights and sizes."""

    def __init__(self, problem: Problem, prep: Prepared, params: SolveParams, plan: Plan,
                 backend_cls: Any, solver: str, seed: int = 0):
        from .solve_model import plan_arrays

        self.problem, self.prep, self.params = problem, prep, params
        self.backend_cls, self.solver = backend_cls, solver
        self.rng = np.random.default_rng(seed)
        self.start, self.nodes = plan_arrays(prep, plan)
        self.metrics = plan.metrics
        self.weights = dict.fromkeys(KINDS, 1.0)
        self.size = dict.fromkeys(KINDS, float(START_SIZE))
        self.stats = AlnsStats()
        self.half_width = half_width(prep)
        self.tried: set[int] = set()
        self.round = 0

    # -- neighbourhoods ----------------------------------------------------

    def _applicable(self) -> list[str]:
        p = self.prep
        kinds = ["window", "node"]
        unplaced = [j for j in np.flatnonzero(self.start < 0) if int(j) not in p.static_reasons]
        if unplaced:
            kinds.insert(0, "unplaced")
        if any(p.replicas[j] > 1 for j in self.nodes):
            kinds.append("swap")
        return kinds

    def pick_kind(self) -> str:
        kinds = self._applicable()
        w = np.array([self.weights[k] for k in kinds])
        return kinds[int(self.rng.choice(len(kinds), p=w / w.sum()))]

    def neighbourhood(self, kind: str, size: int) -> tuple[list[int], dict[int, int]]:
        from .solve_model import _neighbourhood

        p, start, nodes, rng = self.prep, self.start, self.nodes, self.rng
        if kind in ("unplaced", "window"):
            free, centre = _neighbourhood(p, start, nodes, rng, size,
                                          1 if kind == "unplaced" else 2, self.half_width,
                                          frozenset(self.tried))
            return free, centre
        if kind == "node":
            load = np.zeros(p.N)
            for j, ns in nodes.items():
                for n in ns:
                    load[n] += float(p.duration[j]) * float(p.demand[j].sum() /
                                                            max(p.capacity[n].sum(), 1e-9))
            act = np.flatnonzero(load > 0)
            if not len(act):
                return [], {}
            # Least-used nodes first, with some randomness.
            pick = act[np.argsort(load[act] * (0.5 + rng.random(len(act))))][:2]
            free = [j for j, ns in nodes.items() if any(n in pick for n in ns)]
            regions = set(p.node_region[pick].tolist())
            others = [j for j, ns in nodes.items()
                      if j not in free and any(int(p.node_region[n]) in regions for n in ns)]
            free += [int(j) for j in rng.permutation(others)[:max(0, size - len(free))]]
            return free[:max(size, 1)], {}
        # swap: replicated jobs and the jobs overlapping them in their regions.
        reps = [j for j in nodes if p.replicas[j] > 1]
        chosen = [int(j) for j in rng.permutation(reps)[:max(1, size // 4)]]
        free = list(chosen)
        for j in chosen:
            s, e = start[j], start[j] + p.duration[j]
            regs = set(p.class_region[p.eligible_classes(j)].tolist())
            near = [k for k, ns in nodes.items() if k not in free
                    and start[k] < e and start[k] + p.duration[k] > s
                    and any(int(p.node_region[n]) in regs for n in ns)]
            free += [int(k) for k in rng.permutation(near)[:max(1, size // len(chosen))]]
        return free[:size], {}

    def scope_of(self, free: list[int], centre: dict[int, int]) -> Scope:
        p = self.prep
        pool = np.zeros(p.N, dtype=bool)
        for j in free:
            pool[list(self.nodes.get(j, ()))] = True
        pool[self.rng.choice(p.N, size=min(p.N, POOL_EXTRA), replace=False)] = True
        return neighbourhood_scope(p, self.start, self.nodes, set(free), centre=centre,
                                   half_width=self.half_width, node_pool=pool)

    # -- one round -----------------------------------------------------------

    def step(self, deadline: float) -> bool:
        """One round; True if the plan improved."""
        from .solve_model import _new_backend, extract, hint_values, refiller, to_plan

        t0 = time.perf_counter()
        self.round += 1
        kind = self.pick_kind()
        ks = self.stats.kinds[kind]
        ks.rounds += 1
        size = int(round(self.size[kind]))
        free, centre = self.neighbourhood(kind, size)
        scope = self.scope_of(free, centre)
        cap = min(ALNS_MAX_TERMS, self.params.lns_max_terms)
        while len(free) > 2 and scope.size_estimate() > cap:
            free = free[: len(free) // 2]
            scope = self.scope_of(free, centre)
        improved = no_solution = proven = False
        if scope.jobs:
            m = _new_backend(self.backend_cls, self.params, self.params.seed + self.round,
                             self.params.log, scope.size_estimate())
            x = build(m, scope)
            stages = make_stages(self.problem, scope, x)
            hint = hint_values(scope, x, self.start, self.nodes)
            limit = max(0.05, min(STEP_S, deadline - time.perf_counter()))
            terms = combined_terms(stages) if getattr(m, "integer_coefficients", False) else None
            values = hint
            if terms is not None:
                m.maximize(m.wsum(terms))
                m.hint(hint)
                prog = progress.current()
                if prog is not None:
                    prog.begin_stage(f"LNS {kind}", "max", 1.0)
                status = m.solve(limit)
                if prog is not None:
                    prog.end_stage(f"LNS {kind}", status, None, None)
                if status in ("optimal", "feasible"):
                    values = {v: m.value(v) for v in x.all_vars()}
                    proven = status == "optimal"
                else:
                    ks.unknown += 1
                    no_solution = True
            else:
                values = run_stages(m, stages, x, hint, self.params,
                                    time.perf_counter() + limit, scope,
                                    refiller(scope, x, self.start, self.nodes))
            st, nd = extract(scope, x, values, self.start, self.nodes)
            plan = to_plan(self.problem, self.prep, st, nd, self.solver,
                           "not placed by the optimizer")
            if better(self.problem, plan.metrics, self.metrics):
                probe = plan.replace(status="infeasible")
                if is_valid(probe, validate(self.problem, plan)):
                    self.start, self.nodes, self.metrics = st, nd, plan.metrics
                    improved = True
                    prog = progress.current()
                    if prog is not None:
                        prog.improved(plan)  # reported; returned if stopped while busy
                else:  # pragma: no cover - a model bug; keep the last valid plan
                    log.error("ALNS round %d (%s) produced an invalid plan; discarded",
                              self.round, kind)
        if kind == "unplaced":
            self.tried |= {j for j in free if self.start[j] < 0}
        # Adapt: weights follow success, sizes grow on success and shrink
        # when the sub-model found nothing in its limit.
        self.weights[kind] = max(0.1, 0.8 * self.weights[kind] + (0.8 if improved else 0.0))
        if improved:
            ks.improvements += 1
            self.size[kind] = min(float(self.params.lns_jobs), self.size[kind] * 1.25)
        elif no_solution:
            self.size[kind] = max(float(MIN_SIZE), self.size[kind] * 0.8)
        elif proven:  # nothing better in a neighbourhood this size: look wider
            self.size[kind] = min(float(self.params.lns_jobs), self.size[kind] * 1.2)
        ks.seconds += time.perf_counter() - t0
        return improved

    def run(self, deadline: float) -> Plan:
        from .solve_model import to_plan

        t0 = time.perf_counter()
        prog = progress.current()
        if prog is not None:
            prog.prefix = "LNS "  # stage names of the rounds
        # A round cannot be interrupted while its model is built: start one
        # only while an average round still fits.
        try:
            while (not progress.stopped()
                   and deadline - time.perf_counter() > max(0.3, (time.perf_counter() - t0)
                                                            / max(1, self.round))):
                self.step(deadline)
        finally:
            if prog is not None:
                prog.prefix = ""
        log.info("%s ALNS: %d rounds; %s", self.solver, self.round, self.stats.table())
        return to_plan(self.problem, self.prep, self.start, self.nodes, self.solver,
                       "not placed by the optimizer")


def alns(problem: Problem, prep: Prepared, params: SolveParams, plan: Plan, deadline: float,
         backend_cls: Any, solver: str) -> tuple[Plan, AlnsStats]:
    """Improve ``plan`` (valid, with metrics) until ``deadline``; see module docstring."""
    search = Alns(problem, prep, params, plan, backend_cls, solver, params.seed)
    out = search.run(deadline)
    return out, search.stats
