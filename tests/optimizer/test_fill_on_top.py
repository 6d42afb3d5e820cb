"""The final fill of an exact solver's plan (``solve._fill_on_top``): jobs
that fit as the plan stands are placed on top, and no placed job moves."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from allocopt import solve, validate
from allocopt.plan import Unplaced
from allocopt.prepared import Prepared
from allocopt.solve import _fill_on_top
from allocopt.validate import better, compute_metrics, is_valid

sys.path.insert(0, str(Path(__file__).parents[1] / "formulations"))
from formulation_kit import random_problem  # noqa: E402


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.filter_too_much])
@given(st.integers(min_value=0, max_value=2**31 - 1), st.integers(min_value=1, max_value=3))
def test_fill_places_dropped_jobs_without_moving_others(seed, k):
    """Take jobs out of a valid plan: the fill keeps every remaining
    placement, returns a valid plan, and is better whenever it placed one."""
    p = random_problem(seed)
    full = solve(p, solver="carbon-agnostic")
    if not full.assignments:
        return
    preds = {d for j in p.jobs for d in j.after}
    required = {j.id for j in p.jobs if j.required}
    drop = [a for a in full.assignments if a.job not in preds | required][:k]
    assume(drop and is_valid(full, validate(p, full)))
    kept = tuple(a for a in full.assignments if a not in drop)
    plan = full.replace(assignments=kept,
                        unplaced=full.unplaced + tuple(Unplaced(a.job, "x") for a in drop),
                        metrics=compute_metrics(p, kept), bound=None, gap=None, status="feasible")
    assume(is_valid(plan, validate(p, plan)))
    got = _fill_on_top(p, Prepared(p), plan, time.perf_counter() + 5, 10.0)
    assert is_valid(got, validate(p, got)), validate(p, got)
    assert set(kept) <= set(got.assignments)
    if len(got.assignments) > len(kept):
        assert better(p, got.metrics, plan.metrics)
    else:
        assert got is plan


def test_canonical_leaves_re_planning_nodes_alone():
    """Renumbering copies (repair's ``canonical``) moves a lone job from copy
    #1 to #0, except when the job was planned on #1 (that would be a move)."""
    from allocopt import Problem
    from allocopt.greedy import schedule_from_plan
    from allocopt.plan import Assignment, Plan
    from allocopt.repair import canonical

    def nodes_after(planned: bool) -> tuple[str, ...]:
        job = {"id": "a", "demand": {"gpu": 1}, "duration": 1}
        if planned:
            job["planned"] = {"start": 0, "nodes": ["n#1"]}
        p = Problem.from_dict({
            "horizon": {"slots": 2}, "resources": ["gpu"], "regions": [{"id": "eu"}],
            "nodes": [{"id": "n", "region": "eu", "capacity": {"gpu": 1}, "count": 2}],
            "jobs": [job]})
        prep = Prepared(p)
        plan = Plan(problem=p.name, status="feasible", solver="x",
                    assignments=(Assignment("a", 0, 1, ("n#1",)),), unplaced=())
        sched = schedule_from_plan(prep, plan)
        canonical(sched)
        return tuple(prep.node_names[n] for n in sched.nodes[0])

    assert nodes_after(planned=False) == ("n#0",)
    assert nodes_after(planned=True) == ("n#1",)
