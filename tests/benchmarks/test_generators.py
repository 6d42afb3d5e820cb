"""Tests of the seeded synthetic problem generator (benchmarks/generators.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocopt.benchmarks.generators import (
    FEATURES,
    SIZES,
    generate,
    generate_size,
    write_suite,
)
from allocopt.formats import load_problem
from allocopt.problem import Problem

BENCH_DIR = Path(__file__).resolve().parents[2] / "data" / "bench"


def _series(value: Any, H: int) -> list[float] | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return [float(value)] * H
    return [float(v) for v in value]


def _required_placeable_alone(data: dict[str, Any], job: dict[str, Any]) -> bool:
    """Whether ``job`` fits on some node by itself, all hard rules included.

    Checks eligibility, capacity, the window against maintenance, and the
    region's power cap (the node's idle draw counts in every slot) and energy
    budget with only this job in the plan.
    """
    H = data["horizon"]["slots"]
    hours = data["horizon"].get("slot_hours", 1.0)
    regions = {r["id"]: r for r in data["regions"]}
    d = job["duration"]
    release = job.get("release", 0)
    deadline = min(job.get("deadline", H), H)
    for node in data["nodes"]:
        region = regions[node["region"]]
        if job.get("regions") is not None and node["region"] not in job["regions"]:
            continue
        node_type = node.get("type", "default")
        if job.get("node_types") is not None and node_type not in job["node_types"]:
            continue
        if any(v > node.get("capacity", {}).get(r, 0) for r, v in job["demand"].items()):
            continue
        pue = region.get("pue", 1.0)
        idle = node.get("idle_kw", 0.0)
        dyn = sum(v * node.get("kw_per_unit", {}).get(r, 0.0) for r, v in job["demand"].items())
        cap = _series(region.get("power_cap_kw"), H)
        budget = region.get("energy_budget_kwh")
        if budget is not None and pue * (idle * H + dyn * d) * hours > budget + 1e-9:
            continue
        if cap is not None and any(pue * idle > c + 1e-9 for c in cap):
            continue
        for s in range(release, deadline - d + 1):
            if any(a < s + d and s < b for a, b in node.get("unavailable", [])):
                continue
            if cap is not None and any(pue * (idle + dyn) > cap[t] + 1e-9 for t in range(s, s + d)):
                continue
            return True
    return False


def _check_structure(data: dict[str, Any], num_jobs: int, num_nodes: int, num_regions: int,
                     slots: int) -> None:
    """Sizes, series lengths, precedence and required jobs of a generated problem."""
    Problem.from_dict(data)  # raises ProblemError listing every problem
    assert len(data["jobs"]) == num_jobs
    assert sum(n.get("count", 1) for n in data["nodes"]) == num_nodes
    assert len(data["regions"]) == num_regions
    for region in data["regions"]:
        for key in ("price_per_kwh", "carbon_g_per_kwh", "power_cap_kw"):
            if isinstance(region.get(key), list):
                assert len(region[key]) == slots
    position = {j["id"]: k for k, j in enumerate(data["jobs"])}
    graph = nx.DiGraph()
    graph.add_nodes_from(position)
    for k, job in enumerate(data["jobs"]):
        for p in job.get("after", []):
            assert position[p] < k  # predecessors come first, so no cycle can form
            graph.add_edge(p, job["id"])
        assert job["duration"] <= slots
        assert job.get("release", 0) + job["duration"] <= job.get("deadline", slots)
    assert nx.is_directed_acyclic_graph(graph)
    for job in data["jobs"]:
        if job.get("required"):
            assert job.get("replicas", 1) == 1 and not job.get("after")
            assert _required_placeable_alone(data, job), job["id"]


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_identical_problem():
    """Two calls with the same arguments give the same data, byte for byte."""
    a = generate(60, 14, 3, 36, seed=7, tightness=1.3)
    b = generate(60, 14, 3, 36, seed=7, tightness=1.3)
    assert json.dumps(a) == json.dumps(b)


def test_different_seeds_give_different_problems():
    """Seeds 0 and 1 of the small size differ."""
    assert generate_size("small", seed=0)["jobs"] != generate_size("small", seed=1)["jobs"]


def test_no_global_rng_use():
    """The global numpy RNG state neither changes the result nor is consumed."""
    import numpy as np

    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = generate_size("small", seed=3)
    assert (np.random.get_state()[1] == before).all()
    np.random.seed(999)
    assert generate_size("small", seed=3) == a


# ---------------------------------------------------------------- sizes


@pytest.mark.parametrize("size", ["small", "medium"])
@pytest.mark.parametrize("seed", [0, 1])
def test_named_sizes_parse_and_are_well_formed(size, seed):
    """small and medium parse, with the sizes of SIZES (xl is too slow for tests)."""
    data = generate_size(size, seed=seed)
    _check_structure(data, **SIZES[size])
    assert data["name"] == f"{size}-s{seed}"


def test_generate_size_rejects_unknown_size():
    """A size that is not in SIZES is a ValueError naming the sizes."""
    with pytest.raises(ValueError, match="unknown size 'huge'"):
        generate_size("huge")


def test_generate_size_accepts_overrides():
    """Overrides replace the size's parameters."""
    data = generate_size("small", seed=2, num_jobs=7, slots=12)
    _check_structure(data, 7, 12, 3, 12)


@pytest.mark.parametrize("bad", [
    dict(num_nodes=0), dict(num_regions=0), dict(slots=0), dict(num_jobs=-1),
    dict(tightness=0.0), dict(slot_hours=-1.0), dict(mode="fast"),
])
def test_bad_arguments_raise(bad):
    """Out-of-range arguments raise ValueError instead of producing a bad file."""
    args: dict[str, Any] = dict(num_jobs=5, num_nodes=3, num_regions=2, slots=8)
    args.update(bad)
    with pytest.raises(ValueError):
        generate(**args)


def test_tightness_scales_demand():
    """GPU work (GPUs x replicas x slots) grows with tightness for the same seed."""

    def gpu_work(data: dict[str, Any]) -> int:
        return sum(j["demand"].get("gpu", 0) * j.get("replicas", 1) * j["duration"]
                   for j in data["jobs"])

    works = [gpu_work(generate_size("medium", seed=1, tightness=t)) for t in (0.5, 1.0, 2.0)]
    assert works[0] < works[1] < works[2]


# ---------------------------------------------------------------- property


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    num_jobs=st.integers(0, 40),
    num_nodes=st.integers(1, 16),
    num_regions=st.integers(1, 10),
    slots=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
    tightness=st.floats(0.2, 3.0),
    slot_hours=st.sampled_from([0.25, 0.5, 1.0, 2.0]),
    features=st.one_of(st.just("all"), st.frozensets(st.sampled_from(sorted(FEATURES)))),
)
def test_every_generated_problem_is_valid(num_jobs, num_nodes, num_regions, slots, seed,
                                          tightness, slot_hours, features):
    """Any small parameters give a problem that parses, with acyclic precedence
    and required jobs that are each placeable on their own."""
    data = generate(num_jobs, num_nodes, num_regions, slots, seed=seed, features=features,
                    tightness=tightness, slot_hours=slot_hours)
    _check_structure(data, num_jobs, num_nodes, num_regions, slots)


# ---------------------------------------------------------------- features


def _jobs_have(data: dict[str, Any], *keys: str) -> bool:
    return any(k in j for j in data["jobs"] for k in keys)


def _regions_have(data: dict[str, Any], *keys: str) -> bool:
    return any(k in r for r in data["regions"] for k in keys)


def _nodes_have(data: dict[str, Any], *keys: str) -> bool:
    return any(k in n for n in data["nodes"] for k in keys)


# What each family puts into a problem; switched off, none of it may appear.
PRESENT = {
    "pools": lambda d: any(n.get("count", 1) > 1 for n in d["nodes"]),
    "maintenance": lambda d: _nodes_have(d, "unavailable"),
    "energy": lambda d: (_regions_have(d, "pue", "price_per_kwh", "carbon_g_per_kwh")
                         or _nodes_have(d, "idle_kw", "kw_per_unit")
                         or "carbon_price_per_kg" in d["objective"]),
    "power_caps": lambda d: _regions_have(d, "power_cap_kw", "energy_budget_kwh"),
    "node_cost": lambda d: _nodes_have(d, "cost_per_slot"),
    "latency": lambda d: bool(d.get("links")) or _jobs_have(d, "max_latency_ms"),
    "replication": lambda d: _jobs_have(d, "replicas", "min_regions", "max_per_region"),
    "precedence": lambda d: _jobs_have(d, "after"),
    "windows": lambda d: _jobs_have(d, "release", "deadline"),
    "tardiness": lambda d: _jobs_have(d, "due", "tardiness_penalty"),
    "required": lambda d: _jobs_have(d, "required"),
    "eligibility": lambda d: _jobs_have(d, "regions", "node_types"),
    "priorities": lambda d: _jobs_have(d, "priority"),
}


def test_feature_table_covers_every_family():
    """Every family in FEATURES has a presence check here."""
    assert set(PRESENT) == set(FEATURES)


@pytest.mark.parametrize("family", sorted(FEATURES))
def test_switching_a_family_off_removes_it(family):
    """The family is in the full medium instance and gone when switched off."""
    full = generate_size("medium", seed=0)
    assert PRESENT[family](full)
    off = generate_size("medium", seed=0, features=FEATURES - {family})
    assert not PRESENT[family](off)
    _check_structure(off, **SIZES["medium"])
    if family == "energy":  # caps need the power model: they go too
        assert not PRESENT["power_caps"](off)


def test_features_none_is_a_plain_problem():
    """features='none' leaves no family at all, and the problem still parses."""
    data = generate_size("small", seed=4, features="none")
    assert not any(check(data) for check in PRESENT.values())
    _check_structure(data, **SIZES["small"])


def test_unknown_feature_name_is_rejected():
    """A typo in a family name fails loudly instead of switching nothing off."""
    with pytest.raises(ValueError, match="unknown family 'replicaton'"):
        generate(5, 3, 2, 8, features={"replicaton"})
    with pytest.raises(ValueError):
        generate(5, 3, 2, 8, features="energy")  # a bare string is not a collection


# ---------------------------------------------------------------- files


def test_write_suite_writes_loadable_files(tmp_path):
    """write_suite writes <group>/<group>-s<seed>.json files that load, named after the file."""
    paths = write_suite(tmp_path, ["small"], [0, 1], tag="tight", tightness=2.0)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "tight-small/tight-small-s0.json", "tight-small/tight-small-s1.json"]
    problem = load_problem(paths[1])
    assert problem.name == "tight-small-s1"
    assert json.loads(paths[1].read_text()) == generate_size(
        "small", seed=1, tightness=2.0, name="tight-small-s1")


@pytest.mark.skipif(not BENCH_DIR.is_dir(), reason="no stored benchmark suite")
def test_stored_suite_files_parse():
    """Every stored instance in data/bench parses and is named after its file."""
    paths = sorted(BENCH_DIR.glob("*/*.json"))
    assert paths
    for path in paths:
        assert load_problem(path).name == path.stem
