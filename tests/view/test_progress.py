"""Progress events, stopping from the callback, and Ctrl-C on ``allocopt solve``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from allocopt import Problem, load_problem, solve
from allocopt.plan import Plan, SolveStatus
from allocopt.progress import ProgressEvent, stop_all
from allocopt.validate import compute_metrics, is_valid, validate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "data" / "examples" / "energy_shifting.json"
QUICKSTART = ROOT / "data" / "examples" / "quickstart.json"
SMALL = ROOT / "data" / "bench" / "small" / "small-s0.json"
MEDIUM = ROOT / "data" / "bench" / "medium" / "medium-s0.json"


@pytest.fixture(scope="module")
def example() -> Problem:
    return load_problem(EXAMPLE)


def test_events_follow_the_stages_and_end_with_the_plan():
    # quickstart is proven optimal in a few seconds: every stage runs
    example = load_problem(QUICKSTART)
    events: list[ProgressEvent] = []
    plan = solve(example, time_limit=60, on_progress=events.append)
    assert events[0].stage == "greedy" and events[0].metrics is not None
    assert events[-1].stage == "done" and events[-1].metrics == plan.metrics
    assert events[-1].incumbent == pytest.approx(plan.metrics["cost"])
    elapsed = [e.elapsed for e in events]
    assert elapsed == sorted(elapsed)
    middle = events[1:-1]
    starts = [e.stage for e in middle if e.kind == "start"]
    ends = [e.stage for e in middle if e.kind == "end"]
    assert starts == ends and starts  # each stage starts and ends once, in order
    # the portfolio start, then the model's stages
    assert starts[:2] == ["portfolio", "model"] and starts[-1] == "cost"
    costs = [e.incumbent for e in middle if e.stage == "cost" and e.kind == "solution"]
    assert costs == sorted(costs, reverse=True)  # improving solutions of a min stage
    tiers = [f"tier {t}" for t in example.tiers]
    assert [s for s in starts if s.startswith("tier")] == tiers
    for e in middle:
        if e.kind == "end" and e.status in ("optimal", "feasible") and e.bound is not None:
            assert e.gap is not None and 0 <= e.gap <= 1
            if e.status == "optimal":
                assert e.gap == pytest.approx(0.0, abs=1e-9)
        if e.stage.startswith("tier") and e.kind == "end":
            # a tier stage's incumbent is the tier's placed value at that point,
            # never below what the final plan keeps (later stages fix it)
            tier = e.stage.split()[1]
            assert e.incumbent <= plan.metrics["placed_value_by_priority"][tier] + 1e-6
    assert not plan.interrupted


@pytest.mark.parametrize("how", ["return_false", "event_stop", "stop_all"])
def test_stopping_returns_a_valid_interrupted_plan(how):
    problem = load_problem(SMALL)
    seen: list[ProgressEvent] = []

    def cb(ev: ProgressEvent):
        seen.append(ev)
        if ev.stage.startswith("tier") and ev.kind == "start":
            if how == "return_false":
                return False
            if how == "event_stop":
                ev.stop()
            else:
                assert stop_all() == 1
        return None

    plan = solve(problem, time_limit=60, on_progress=cb)
    assert plan.interrupted and plan.to_dict()["interrupted"] is True
    assert is_valid(plan, validate(problem, plan))
    assert plan.status in (SolveStatus.FEASIBLE, SolveStatus.INFEASIBLE)
    # no stage after the stopped one started
    first_tier = next(k for k, e in enumerate(seen) if e.stage.startswith("tier"))
    assert not any(e.kind == "start" for e in seen[first_tier + 1:])
    again = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again.interrupted


def test_a_failing_callback_does_not_break_the_solve(example):
    def cb(ev):
        raise RuntimeError("boom")

    plan = solve(example, solver="greedy", on_progress=cb)
    assert is_valid(plan, validate(example, plan)) and not plan.interrupted


def test_solve_from_a_thread_reports_progress(example):
    # no signal handling off the main thread, the callback still works
    got: list[ProgressEvent] = []
    t = threading.Thread(target=lambda: got.append(solve(example, time_limit=1,
                                                         on_progress=lambda e: None)))
    t.start()
    t.join(60)
    assert got and is_valid(got[0], validate(example, got[0]))


def test_ctrl_c_writes_the_best_plan_so_far_and_exits_130(tmp_path):
    out = tmp_path / "plan.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "allocopt", "solve", str(MEDIUM), "--time-limit", "60",
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        lines = []
        for line in proc.stderr:  # progress lines: wait until the search is under way
            lines.append(line)
            if line.startswith("greedy"):
                break
        assert lines and lines[-1].startswith("greedy"), "".join(lines)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    data = json.loads(out.read_text())
    assert data["interrupted"] is True
    problem = load_problem(MEDIUM)
    plan = Plan.from_dict(data)
    assert is_valid(plan, validate(problem, plan))
    again = compute_metrics(problem, plan.assignments)
    for key in ("placed_jobs", "energy_kwh", "cost", "carbon_kg"):
        assert plan.metrics[key] == pytest.approx(again[key])


def test_quiet_prints_nothing_and_log_labels_stages(tmp_path):
    out = tmp_path / "p.json"
    quiet = subprocess.run([sys.executable, "-m", "allocopt", "solve", str(EXAMPLE), "-q",
                            "--time-limit", "5", "--out", str(out)],
                           capture_output=True, text=True, timeout=120, check=False)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    logged = subprocess.run([sys.executable, "-m", "allocopt", "solve", str(EXAMPLE),
                             "--log", "--time-limit", "5", "--out", str(out)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert logged.returncode == 0
    assert "[cost] " in logged.stderr  # CP-SAT's log lines, labelled by stage
    assert any(line.startswith("cost ") for line in logged.stderr.splitlines())  # progress


def test_stopping_neighbourhood_search_keeps_its_progress():
    from allocopt import SolveParams
    from allocopt.validate import better

    problem = load_problem(SMALL)
    greedy = solve(problem, solver="greedy")
    ends = []

    def cb(ev: ProgressEvent):
        if ev.stage.startswith("LNS ") and ev.kind == "end":
            ends.append(ev.stage)
            if len(ends) >= 6:
                return False
        return None

    plan = solve(problem, params=SolveParams(time_limit=60, max_model_terms=1), on_progress=cb)
    assert ends, "neighbourhood search never reported a stage"
    assert plan.interrupted and is_valid(plan, validate(problem, plan))
    assert not better(problem, greedy.metrics, plan.metrics)  # never worse than greedy


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_ctrl_c_ends_the_cbc_child_too(tmp_path):
    out = tmp_path / "plan.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "allocopt", "solve", str(MEDIUM), "--solver", "pulp",
         "--time-limit", "60", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        kids: list[int] = []
        while not kids and proc.poll() is None:  # wait for a CBC process
            time.sleep(0.01)
            kids = _children(proc.pid)
        assert kids, "the solve ended before CBC ran"
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert not any(_running(k) for k in kids)
    problem = load_problem(MEDIUM)
    plan = Plan.from_dict(json.loads(out.read_text()))
    assert plan.interrupted and is_valid(plan, validate(problem, plan))


def test_second_ctrl_c_quits_at_once(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "allocopt", "solve", str(MEDIUM), "--time-limit", "60",
         "--out", str(tmp_path / "plan.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        for line in proc.stderr:
            if line.startswith("greedy"):
                proc.send_signal(signal.SIGINT)
            if line.startswith("interrupted: stopping"):  # the first one was handled
                proc.send_signal(signal.SIGINT)
                break
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
