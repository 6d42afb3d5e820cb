"""``allocopt view``: the HTML page renders in a real headless browser, shows
every placed job and raises no script error; plans of other problems are refused."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from allocopt import Problem, solve
from allocopt.cli import main
from allocopt.errors import ProblemError
from allocopt.formats import write_json
from allocopt.plan import Plan
from allocopt.view import check_plan_fits, moved_jobs, render_html, stage_rows

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "data" / "examples" / "energy_shifting.json"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser() -> str:
    path = _browser()
    if path is None:
        if os.environ.get("ALLOCOPT_REQUIRE_BROWSER") == "1":
            pytest.fail("ALLOCOPT_REQUIRE_BROWSER=1 but no chromium on PATH "
                        "(apt-get install chromium; `make browser`)")
        pytest.skip("no headless browser: install Chromium (apt-get install chromium, "
                    "or `make browser`) to run the HTML view tests")
    return path


def render_in_browser(browser: str, page: Path, tmp: Path) -> tuple[str, list[str]]:
    """(DOM after the page's scripts ran, console lines) from headless Chromium."""
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
         "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


def _placed_in_dom(dom: str, plan_index: int) -> tuple[int, set[str]]:
    bars = re.findall(r'<rect class="job[^"]*" data-p="%d" data-a="\d+" data-job="([^"]*)"'
                      % plan_index, dom)
    import html

    return len(bars), {html.unescape(b) for b in bars}


@pytest.fixture(scope="module")
def example() -> tuple[Problem, Plan, Plan]:
    problem = Problem.from_dict(json.loads(EXAMPLE.read_text()))
    return (problem, solve(problem, solver="cpsat", time_limit=2),
            solve(problem, solver="greedy"))


def test_page_renders_every_placed_job_without_errors(browser, example, tmp_path):
    problem, plan, _ = example
    page = tmp_path / "plan.html"
    page.write_text(render_html(problem, plan), encoding="utf-8")
    dom, console = render_in_browser(browser, page, tmp_path)
    assert console == [], console
    assert 'data-rendered="1"' in dom
    assert "data-error=" not in dom.split("<body", 1)[1].split(">", 1)[0]
    n_bars, jobs = _placed_in_dom(dom, 0)
    assert jobs == plan.placed_ids
    assert n_bars == sum(len(a.nodes) for a in plan.assignments)


def test_compare_page_shows_both_plans_and_the_moved_jobs(browser, example, tmp_path):
    problem, plan, greedy = example
    page = tmp_path / "cmp.html"
    assert main_exit(["view", str(EXAMPLE), str(_write(tmp_path / "a.json", plan)),
                      "--compare", str(_write(tmp_path / "g.json", greedy)),
                      "--out", str(page)]) == 0
    dom, console = render_in_browser(browser, page, tmp_path)
    assert console == [], console
    assert _placed_in_dom(dom, 0)[1] == plan.placed_ids
    assert _placed_in_dom(dom, 1)[1] == greedy.placed_ids
    moved = moved_jobs(problem, plan, greedy)
    assert f"Moved jobs ({len(moved)})" in dom
    assert dom.count('class="job moved"') + dom.count('class="job req moved"') == sum(
        len(a.nodes) for p in (plan, greedy) for a in p.assignments
        if a.job in {m["job"] for m in moved})


def test_hostile_job_names_are_escaped(browser, tmp_path):
    data = json.loads(EXAMPLE.read_text())
    evil = "</script><img src=x onerror=alert(1)>&'\""
    old = data["jobs"][0]["id"]
    data["jobs"][0]["id"] = evil
    for j in data["jobs"]:
        j["after"] = [evil if a == old else a for a in j.get("after", [])]
    problem = Problem.from_dict(data)
    plan = solve(problem, solver="greedy")
    page = tmp_path / "evil.html"
    page.write_text(render_html(problem, plan), encoding="utf-8")
    dom, console = render_in_browser(browser, page, tmp_path)
    assert console == [], console
    assert '<img src="x"' not in dom  # never parsed as an element
    assert _placed_in_dom(dom, 0)[1] == plan.placed_ids


def _write(path: Path, plan: Plan) -> Path:
    write_json(plan.to_dict(), path)
    return path


def main_exit(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as e:
        main(argv)
    return int(e.value.code or 0)


def test_a_plan_of_another_problem_is_refused(example, tmp_path, capsys):
    problem, plan, _ = example
    other = plan.replace(assignments=(*plan.assignments[:1],
                                      plan.assignments[0].__class__("ghost", 0, 1, ("nowhere#9",))))
    with pytest.raises(ProblemError) as e:
        check_plan_fits(problem, other)
    text = " ".join(e.value.errors)
    assert "'ghost'" in text and "'nowhere#9'" in text
    path = _write(tmp_path / "other.json", other)
    assert main_exit(["view", str(EXAMPLE), str(path), "--out", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert "ghost" in err and "nowhere#9" in err
    assert not (tmp_path / "x.html").exists()


def test_bad_output_suffix_is_bad_input(example, tmp_path, capsys):
    _, plan, _ = example
    path = _write(tmp_path / "p.json", plan)
    assert main_exit(["view", str(EXAMPLE), str(path), "--out", str(tmp_path / "x.pdf")]) == 2
    assert "--out" in capsys.readouterr().err


def test_stage_rows_follow_the_plan_bound(example):
    problem, plan, greedy = example
    rows = stage_rows(problem, plan)
    assert [r["stage"] for r in rows] == [f"tier {t}" for t in problem.tiers] + ["cost"]
    for r in rows:
        assert r["value"] is not None
        if r["bound"] is not None:
            assert r["gap"] is not None and r["gap"] >= 0
            # a max stage's bound is >= its value, a min stage's <= it
            assert (r["bound"] >= r["value"] - 1e-9) if r["sense"] == "max" else (
                r["bound"] <= r["value"] + 1e-9)
    assert all(r["bound"] is None for r in stage_rows(problem, greedy.replace(bound=None)))


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_figure_export(example, tmp_path, suffix):
    pytest.importorskip("matplotlib")
    _, plan, _ = example
    path = _write(tmp_path / "p.json", plan)
    out = tmp_path / f"fig{suffix}"
    assert main_exit(["view", str(EXAMPLE), str(path), "--out", str(out)]) == 0
    head = out.read_bytes()[:200]
    assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in out.read_bytes()[:2000]


def test_figure_without_matplotlib_says_which_extra(example, tmp_path, capsys, monkeypatch):
    _, plan, _ = example
    path = _write(tmp_path / "p.json", plan)
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)  # import fails
    assert main_exit(["view", str(EXAMPLE), str(path), "--out", str(tmp_path / "f.png")]) == 2
    assert "allocopt[plots]" in capsys.readouterr().err
    # the HTML view needs no plotting library
    assert main_exit(["view", str(EXAMPLE), str(path), "--out", str(tmp_path / "f.html")]) == 0
