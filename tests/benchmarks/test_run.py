"""The benchmark runner: one row per (instance, solver, seed), resumable, CSV copy."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from allocopt.benchmarks.run import BENCH_DIR, read_rows, run_bench

SMALL = BENCH_DIR / "small" / "small-s0.json"


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    d = tmp_path / "mini"
    d.mkdir()
    shutil.copy(SMALL, d / "small-s0.json")
    return d


def test_rows_resume_and_csv(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "res.jsonl"
    run_bench(str(suite), ["greedy", "first-fit"], time_limit=5, seeds=[0, 1], out=out,
              progress=False)
    rows = read_rows(out)
    assert sorted((r["solver"], r["seed"]) for r in rows) == [
        ("first-fit", 0), ("first-fit", 1), ("greedy", 0), ("greedy", 1)]
    for r in rows:
        assert r["valid"] is True and r["status"] in ("optimal", "feasible")
        assert r["instance"] == "small-s0" and r["jobs"] == 50
        assert r["peak_mb"] > 0 and r["git"] and r["version"]
        assert set(r["placed_value_by_priority"]) == {"0", "1", "2", "3"}
    # Resuming runs nothing twice; a new seed adds only its rows.
    run_bench(str(suite), ["greedy", "first-fit"], time_limit=5, seeds=[0, 1, 2], out=out,
              progress=False)
    rows = read_rows(out)
    assert len(rows) == 6 and sum(r["seed"] == 2 for r in rows) == 2
    with out.with_suffix(".csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 6


def test_lp_bound_columns(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "res.jsonl"
    run_bench(str(suite), ["greedy"], time_limit=10, out=out, progress=False, lp_bound=True)
    (row,) = read_rows(out)
    assert row["lp_bound"] is not None and 0.0 <= row["lp_gap"] <= 1.0
    # An upper bound on every tier's placed value.
    for tier, got in row["placed_value_by_priority"].items():
        assert row["lp_bound"]["placed_value_by_priority"][tier] >= got - 1e-6


def test_sample_takes_the_first_instances(tmp_path: Path) -> None:
    d = tmp_path / "two"
    d.mkdir()
    for name in ("b.json", "a.json"):
        shutil.copy(SMALL, d / name)
    out = tmp_path / "res.jsonl"
    run_bench(str(d), ["greedy"], time_limit=5, out=out, progress=False, sample=1)
    assert [r["instance"] for r in read_rows(out)] == ["a"]


def test_unknown_suite_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown suite 'nope'"):
        run_bench("nope", ["greedy"], out=tmp_path / "r.jsonl", progress=False)


def test_classic_rows_carry_the_gap_to_the_known_optimum(tmp_path: Path) -> None:
    """A PSPLIB file with its optimum in a ``*optimum*.csv`` one folder up."""
    spec = importlib.util.spec_from_file_location(
        "_importer_cases", Path(__file__).with_name("test_importers.py"))
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    (tmp_path / "rcpsp" / "j30").mkdir(parents=True)
    (tmp_path / "rcpsp" / "j30_optimum.csv").write_text("problem,optimum\ntiny.sm,7\n")
    path = tmp_path / "rcpsp" / "j30" / "tiny.sm"
    path.write_text(cases.SM_TINY)
    out = tmp_path / "r.jsonl"
    run_bench(f"psplib:{path}", ["greedy"], time_limit=5, out=out, progress=False)
    (row,) = read_rows(out)
    assert row["valid"] and row["known_optimum"] == 7.0
    assert row["classic_objective"] >= 7.0
    assert row["gap_to_optimum"] == pytest.approx((row["classic_objective"] - 7.0) / 7.0)
    json.dumps(row)
