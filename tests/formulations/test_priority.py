"""Priority (PROBLEM.md hard constraint 6 and the objective's tiers and modes)."""

from __future__ import annotations

import pytest
from formulation_kit import full_model, placed, problem, reasons, solve_exact

from allocopt.formulations.priority import required_terms, tier_terms
from allocopt.formulations.stages import make_stages

# One 8-GPU node for two slots: an 8-GPU job and two 4-GPU jobs cannot all run.
HI = {"id": "hi", "demand": {"gpu": 8}, "duration": 2, "priority": 1, "value": 1.0}
LO = [{"id": f"lo{k}", "demand": {"gpu": 4}, "duration": 2, "value": 5.0} for k in (1, 2)]


def test_lexicographic_never_trades_a_higher_tier_for_lower_value(solver):
    """hi (tier 1, value 1) or lo1 + lo2 (tier 0, value 10): lexicographic keeps hi."""
    p = problem([HI, *LO], slots=2)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    assert set(placed(plan)) == {"hi"}
    # tier 1 placed value 1; tier 0 gets nothing (no GPU left in either slot)
    assert plan.metrics["placed_value_by_priority"] == {"1": 1.0, "0": 0.0}
    assert all("capacity" in reasons(plan)[j] for j in ("lo1", "lo2"))


def test_weighted_mode_ignores_tiers(solver):
    """The same jobs weighted: lo1 + lo2 are worth 10 against hi's 1, cost is 0."""
    p = problem([HI, *LO], slots=2, objective={"mode": "weighted"})
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    assert set(placed(plan)) == {"lo1", "lo2"}  # 4 + 4 GPUs side by side
    assert plan.metrics["objective"] == pytest.approx(10.0)  # value 10 - cost 0


@pytest.mark.parametrize("mode", ["lexicographic", "weighted"])
def test_required_job_comes_before_every_tier(solver, mode):
    """A required tier-0 job worth 1 and a tier-2 job worth 10 want the whole
    node: the required one is placed in both modes."""
    p = problem([{"id": "req", "demand": {"gpu": 8}, "duration": 2, "required": True},
                 {"id": "vip", "demand": {"gpu": 8}, "duration": 2, "priority": 2,
                  "value": 10.0}], slots=2, objective={"mode": mode})
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    assert set(placed(plan)) == {"req"}
    assert plan.metrics["required_placed"] == 1
    assert "capacity" in reasons(plan)["vip"]


def test_required_jobs_that_cannot_all_fit(solver):
    """Three required 4-GPU jobs, room for two: as many required jobs as fit
    are placed, the third is unplaced for capacity and the plan is infeasible."""
    jobs = [{"id": f"r{k}", "demand": {"gpu": 4}, "duration": 2, "required": True,
             "priority": k} for k in range(3)]
    p = problem(jobs, slots=2)
    plan = solve_exact(p, solver)
    assert str(plan.status) == "infeasible"
    # most required first, then tiers from the top: r2 and r1, not r0
    assert set(placed(plan)) == {"r1", "r2"}
    assert plan.metrics["required_placed"] == 2
    assert "capacity" in reasons(plan)["r0"]


@pytest.mark.parametrize(("mode", "expected"), [
    # lexicographic: value first, so the job runs at cost 4 kW x 2 h x 0.2 = 1.6
    ("lexicographic", {"a"}),
    # weighted: value 1.0 - cost 1.6 < 0, so leaving it out (objective 0) is better
    ("weighted", set()),
])
def test_weighted_mode_leaves_out_jobs_that_cost_more_than_they_are_worth(
        solver, mode, expected):
    """A job worth 1.0 whose energy costs 1.6."""
    p = problem([{"id": "a", "demand": {"gpu": 4}, "duration": 2, "value": 1.0}],
                regions=[{"id": "eu", "price_per_kwh": 0.2}], objective={"mode": mode})
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    assert set(placed(plan)) == expected
    if mode == "weighted":
        assert plan.metrics["objective"] == pytest.approx(0.0)
        assert reasons(plan)["a"]
    else:
        assert plan.metrics["cost"] == pytest.approx(1.6)


def test_value_zero_job_is_left_out_when_it_only_adds_cost(solver):
    """Lexicographic: a job worth 0 adds no tier value and 1.6 of cost."""
    p = problem([{"id": "a", "demand": {"gpu": 4}, "duration": 2, "value": 0.0},
                 {"id": "b", "demand": {"gpu": 4}, "duration": 2, "value": 1.0}],
                regions=[{"id": "eu", "price_per_kwh": 0.2}])
    plan = solve_exact(p, solver)
    assert str(plan.status) == "optimal"
    assert set(placed(plan)) == {"b"}
    assert plan.metrics["cost"] == pytest.approx(1.6)  # b alone: 4 kW x 2 h x 0.2


# -- the objective terms and stages -------------------------------------------

def test_stages_are_required_then_tiers_from_the_top_then_cost():
    """Tiers 2 and 0 with a required job: stages required, tier 2, tier 0, cost;
    weighted: required, then one value-minus-cost stage."""
    jobs = [{"id": "r", "demand": {"gpu": 1}, "duration": 1, "required": True},
            {"id": "t2", "demand": {"gpu": 1}, "duration": 1, "priority": 2, "value": 3.0},
            {"id": "t0", "demand": {"gpu": 1}, "duration": 1, "value": 2.0}]
    p = problem(jobs)
    _, scope, x = full_model(p)
    assert [s.name for s in make_stages(p, scope, x)] == ["required", "tier 2", "tier 0", "cost"]
    assert [id(v) for v, _ in required_terms(scope, x)] == [id(x.placed[0])]
    assert [(id(v), c) for v, c in tier_terms(scope, x, 2)] == [(id(x.placed[1]), 3.0)]
    pw = problem(jobs, objective={"mode": "weighted"})
    _, scope, x = full_model(pw)
    assert [s.name for s in make_stages(pw, scope, x)] == ["required", "weighted"]


def test_a_tier_stage_leaves_out_lower_tiers_but_not_what_it_needs():
    """Tier 1's stage drops the tier-0 jobs, except a predecessor of a tier-1
    job and a required one; the required stage keeps only required jobs and
    their predecessors."""
    from allocopt.formulations.scope import full_scope
    from allocopt.formulations.stages import droppable
    from allocopt.prepared import Prepared

    jobs = [{"id": "pre", "demand": {"gpu": 1}, "duration": 1},
            {"id": "top", "demand": {"gpu": 1}, "duration": 1, "priority": 1, "after": ["pre"]},
            {"id": "req", "demand": {"gpu": 1}, "duration": 1, "required": True},
            {"id": "low", "demand": {"gpu": 1}, "duration": 1}]
    p = problem(jobs, slots=4)
    scope = full_scope(Prepared(p))
    ids = scope.prep.job_ids
    pr, rq = scope.prep.priority, scope.prep.required
    tier1 = droppable(scope, lambda j: bool(pr[j] >= 1 or rq[j]))
    assert [ids[j] for j in tier1] == ["low"]
    req = droppable(scope, lambda j: bool(rq[j]))
    assert sorted(ids[j] for j in req) == ["low", "pre", "top"]
    m, scope2, x = full_model(p)
    stages = make_stages(p, scope2, x)
    assert {st.name: sorted(ids[j] for j in st.drop) for st in stages} == {
        "required": ["low", "pre", "top"], "tier 1": ["low"], "tier 0": [], "cost": []}


@pytest.mark.parametrize("seed", range(6))
def test_leaving_lower_tiers_out_changes_no_stage_value(seed):
    """Stages solved with and without the left-out jobs reach the same values
    (both proven): dropping lower tiers is exact, not a heuristic."""
    from formulation_kit import random_problem

    from allocopt.formulations.solve_model import hint_values, plan_arrays, refiller
    from allocopt.formulations.stages import run_stages
    from allocopt.greedy import run_greedy
    from allocopt.params import SolveParams
    import time

    p = random_problem(seed)
    values = []
    for use_drop in (True, False):
        m, scope, x = full_model(p)
        stages = make_stages(p, scope, x)
        start, nodes = plan_arrays(scope.prep, run_greedy(p, prep=scope.prep))
        run_stages(m, stages, x, hint_values(scope, x, start, nodes),
                   SolveParams(time_limit=30), time.perf_counter() + 30,
                   scope if use_drop else None,
                   refiller(scope, x, start, nodes) if use_drop else None)
        assert all(st.status == "optimal" for st in stages), [st.status for st in stages]
        values.append([round(st.value, 6) for st in stages])
    assert values[0] == values[1]
