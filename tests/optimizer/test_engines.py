"""The local and Ray engines run the same tasks to the same results."""

from __future__ import annotations

import pytest

from allocopt.benchmarks.generators import generate_size
from allocopt import Problem, SolveParams
from allocopt.decompose import partition, solve_parts
from allocopt.engines import LocalEngine, RayEngine, make_engine
from allocopt.errors import SolverError
from allocopt.prepared import Prepared

ray = pytest.importorskip("ray")


def square(x: int) -> int:
    return x * x


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray with 2 CPUs for the module."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_local_engine_without_tasks_starts_nothing():
    engine = LocalEngine(2)
    assert engine.map(square, []) == []
    assert engine._pool is None
    assert LocalEngine(1).map(square, [3]) == [9]  # one task, one worker: in process


def test_unknown_engine():
    with pytest.raises(SolverError, match="unknown engine"):
        make_engine("spark")


def test_ray_engine_map_in_order(local_ray):
    engine = RayEngine(2)
    assert engine.map(square, [3, 1, 2]) == [9, 1, 4]
    engine.close()  # joined an existing Ray: leaves it running
    assert ray.is_initialized()


def test_same_parts_on_local_and_ray(local_ray):
    """Each part (one worker, fixed seed) finishes well within its limit,
    so the merged placements must be identical on both engines."""
    problem = Problem.from_dict(generate_size("small", seed=2, num_jobs=16, num_nodes=12,
                                              slots=12))
    prep = Prepared(problem)
    parts = partition(prep, 2)
    out = {}
    for engine in ("local", "ray"):
        params = SolveParams(seed=3, workers=2, engine=engine)
        placements, info = solve_parts(problem, prep, parts, params, time_limit=20)
        assert len(info) == 2
        out[engine] = sorted(placements)
    assert out["local"] == out["ray"]
    assert out["local"]


def test_bench_rows_on_ray_resume(local_ray, tmp_path):
    from allocopt.benchmarks.run import read_rows, run_bench

    out = tmp_path / "rows.jsonl"
    run_bench("gen:small", ["greedy"], time_limit=5, seeds=[4], out=out, progress=False,
              engine="ray")
    rows = read_rows(out)
    got = [(r["instance"], r["solver"], r["valid"]) for r in rows]
    assert got == [("small-s4", "greedy", True)]
    run_bench("gen:small", ["greedy"], time_limit=5, seeds=[4], out=out, progress=False,
              engine="ray")
    assert len(read_rows(out)) == 1  # resumed: nothing left to run
