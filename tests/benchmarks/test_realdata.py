"""Tests of the real-data loaders and the trace-driven generator.

They read only the trimmed files committed in ``data/real/`` (the loaders'
default folder), never the upstream copies.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from allocopt.benchmarks import realdata
from allocopt.benchmarks.realdata import (
    DATA_DIR,
    HOURS_2023,
    ZONE_REGIONS,
    ZONES,
    generate_from_trace,
    gpu_load,
    hour_of_year,
    latency_links,
    region_curves,
    trace_nodes,
    trace_workload,
    write_problem,
)
from allocopt.problem import Problem

REPO = Path(realdata.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def default_problem() -> dict[str, Any]:
    """The default instance: 200 jobs, 8 regions, one week from 2023-06-05 (seed 0)."""
    return generate_from_trace(seed=0)


def _fits(demand: dict[str, float], node: dict[str, Any]) -> bool:
    return all(v <= node["capacity"].get(r, 0.0) + 1e-9 for r, v in demand.items())


# --------------------------------------------------------------------------
# Data folder
# --------------------------------------------------------------------------


def test_data_dir_is_inside_the_repository():
    """The loaders default to data/real of this repository, with its license files."""
    assert DATA_DIR == REPO / "data" / "real"
    for name in ("README.md", "carbon_intensity_2023.csv", "electricity_price_2023.csv",
                 "alibaba_gpu_pods.csv", "alibaba_gpu_nodes.csv", "datacenter_facts.json",
                 "gcp_latency_ms.csv", "gcp_region_zones.json",
                 "LICENSES/CC-BY-4.0.txt", "LICENSES/Apache-2.0.txt",
                 "LICENSES/MIT-green-dcc.txt"):
        assert (DATA_DIR / name).is_file(), name


def test_data_dir_stays_small():
    """The committed real data stays under the 5 MB budget."""
    total = sum(p.stat().st_size for p in DATA_DIR.rglob("*") if p.is_file())
    assert total < 5_000_000


# --------------------------------------------------------------------------
# Curves
# --------------------------------------------------------------------------


def test_hour_of_year():
    """Hour indices count UTC hours from 2023-01-01T00:00Z."""
    assert hour_of_year(0) == 0
    # January to May have 151 days, so 2023-06-05 is day 151 + 4 = 155 (0-based).
    assert hour_of_year("2023-06-05") == 155 * 24
    assert hour_of_year("2023-06-05T02:00+02:00") == 155 * 24  # 02:00 CEST = 00:00 UTC
    assert hour_of_year("2023-12-31T23:00Z") == HOURS_2023 - 1
    with pytest.raises(ValueError, match="whole hour"):
        hour_of_year("2023-06-05T00:30")


def test_region_curves_lengths_and_signs():
    """Every zone gets `hours` carbon and price values; carbon is never negative."""
    curves = region_curves(ZONES, start_hour=0, hours=168)
    assert list(curves) == list(ZONES)
    for zone, c in curves.items():
        assert len(c["carbon"]) == 168, zone
        assert len(c["price"]) == 168, zone
        assert min(c["carbon"]) >= 0, zone
        assert all(math.isfinite(v) for v in c["carbon"] + c["price"]), zone


def test_region_curves_whole_year_and_values():
    """The whole year loads, the first hour matches the source, and prices go negative."""
    curves = region_curves(ZONES, start_hour=0, hours=HOURS_2023)
    # First row of the Electricity Maps CAISO file: 2023-01-01 00:00 UTC, 238.69 g.
    assert curves["US-CAL-CISO"]["carbon"][0] == 238.69
    # DE-LU day-ahead at 2023-01-01 01:00 Paris = 00:00 UTC: -1.07 EUR/MWh * 1.0817 / 1000.
    assert curves["DE"]["price"][0] == pytest.approx(-1.07 * 1.0817 / 1000, abs=1e-6)
    for zone in ZONES:
        assert min(curves[zone]["carbon"]) >= 0
    # 300 negative-price hours in DE in 2023 (data/real/README.md).
    assert sum(v < 0 for v in curves["DE"]["price"]) == 300


def test_region_curves_accepts_gcp_regions_and_iso_start():
    """A GCP region id gets its zone's curves; an ISO start equals its hour index."""
    by_zone = region_curves(["GB"], 3720, 24)["GB"]
    by_region = region_curves(["europe-west2"], "2023-06-05T00:00Z", 24)["europe-west2"]
    assert by_zone == by_region


def test_region_curves_rejects_bad_windows_and_zones():
    """Windows past the end of 2023 and unknown zones are errors."""
    with pytest.raises(ValueError, match="outside 2023"):
        region_curves(["DE"], HOURS_2023 - 10, 24)
    with pytest.raises(ValueError, match="unknown zone"):
        region_curves(["XX"], 0, 24)
    with pytest.raises(ValueError, match="no curves"):
        region_curves(["europe-west1"], 0, 24)  # BE: not one of the 8 zones


# --------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------


def test_latency_links_are_symmetric_and_complete():
    """One link per unordered pair, and the same latency whichever way it is asked."""
    regions = [ZONE_REGIONS[z] for z in ZONES]
    links = latency_links(regions)
    pairs = {frozenset((link["a"], link["b"])) for link in links}
    # 8 regions -> 8 * 7 / 2 = 28 undirected links, none repeated.
    assert len(links) == len(pairs) == 28
    assert pairs == {frozenset(p) for p in itertools.combinations(regions, 2)}
    forward = {(lk["a"], lk["b"]): lk["latency_ms"] for lk in links}
    backward = {(lk["b"], lk["a"]): lk["latency_ms"] for lk in latency_links(regions[::-1])}
    for (a, b), ms in forward.items():
        assert backward[(a, b)] == ms
        assert 0 < ms < 400


def test_latency_links_known_values_and_zone_ids():
    """Zone ids map to their GCP regions; DE-GB is 13 ms, CAISO-DE 151 ms in the matrix."""
    links = latency_links(["DE", "GB", "US-CAL-CISO"])
    got = {(lk["a"], lk["b"]): lk["latency_ms"] for lk in links}
    assert got == {("DE", "GB"): 13.0, ("DE", "US-CAL-CISO"): 151.0,
                   ("GB", "US-CAL-CISO"): 139.0}
    with pytest.raises(ValueError, match="distinct"):
        latency_links(["DE", "DE"])
    with pytest.raises(ValueError, match="unknown"):
        latency_links(["mars-north1"])


# --------------------------------------------------------------------------
# Trace shapes
# --------------------------------------------------------------------------


def test_trace_nodes_spread_over_regions():
    """Nodes are spread round-robin, so region totals differ by at most one."""
    nodes = trace_nodes(10, ["r1", "r2", "r3"], seed=1)
    per_region = {r: sum(n["count"] for n in nodes if n["region"] == r) for r in ("r1", "r2", "r3")}
    # 10 nodes over 3 regions: 4, 3, 3.
    assert per_region == {"r1": 4, "r2": 3, "r3": 3}
    for n in nodes:
        assert n["capacity"]["gpu"] >= 1
        assert n["kw_per_unit"]["gpu"] > 0
        # idle = 0.4125 kW per GPU (DGX A100: (6.5 - 8 * 0.4) / 8).
        assert n["idle_kw"] == pytest.approx(0.4125 * n["capacity"]["gpu"])


def test_trace_workload_ranges():
    """Durations are whole slots in 1..slots; time windows and priorities are consistent."""
    slots = 24
    jobs = trace_workload(300, seed=3, slots=slots)
    assert len({j["id"] for j in jobs}) == 300
    for j in jobs:
        assert 1 <= j["duration"] <= slots
        assert 0 <= j["release"] and j["release"] + j["duration"] <= j["deadline"] <= slots
        assert j["priority"] in (0, 1, 2)
        assert 0 < j["demand"]["gpu"] <= 8
        assert j["value"] > 0
    services = [j for j in jobs if j["id"].startswith("svc")]
    # 10 % of 300 jobs are services.
    assert len(services) == 30
    assert all(j["replicas"] >= 2 and j["min_regions"] == 2 for j in services)


# --------------------------------------------------------------------------
# Whole problems
# --------------------------------------------------------------------------


def test_default_problem_validates(default_problem):
    """The default generated problem passes Problem.from_dict."""
    problem = Problem.from_dict(default_problem)
    assert problem.H == 168
    assert problem.resources == ("gpu", "cpu", "mem_gb")
    assert [r.id for r in problem.regions] == [ZONE_REGIONS[z] for z in ZONES]
    for region in problem.regions:
        assert len(region.price_per_kwh) == 168
        assert len(region.carbon_g_per_kwh) == 168
        assert region.pue == 1.10  # Google fleet PUE, the default preset
    # 8 regions: complete latency graph of 28 links.
    assert len(problem.links) == 28
    assert len(problem.jobs) == 200


def test_default_problem_curves_match_loader(default_problem):
    """Region curves are the zone's 2023 curves from 2023-06-05T00:00Z on."""
    curves = region_curves(ZONES, 3720, 168)
    for zone, region in zip(ZONES, default_problem["regions"], strict=True):
        assert region["carbon_g_per_kwh"] == curves[zone]["carbon"]
        assert region["price_per_kwh"] == curves[zone]["price"]


def test_default_problem_is_over_subscribed_but_each_job_fits(default_problem):
    """Every job fits some node alone, yet GPU demand exceeds capacity moderately."""
    nodes = default_problem["nodes"]
    for job in default_problem["jobs"]:
        fitting = [n for n in nodes if _fits(job["demand"], n)]
        assert sum(n["count"] for n in fitting) >= job.get("replicas", 1), job["id"]
        assert len({n["region"] for n in fitting}) >= job.get("min_regions", 1), job["id"]
    # Target load 1.3; the draw of jobs makes the realised value vary a little.
    assert 1.0 < gpu_load(default_problem) < 2.0
    assert "Electricity Maps" in default_problem["description"]  # ODbL notice


def test_services_have_a_feasible_region_set(default_problem):
    """Each replicated service has min_regions regions, pairwise within its latency bound."""
    lat = {}
    for lk in default_problem["links"]:
        lat[(lk["a"], lk["b"])] = lat[(lk["b"], lk["a"])] = lk["latency_ms"]
    services = [j for j in default_problem["jobs"] if j.get("replicas", 1) > 1]
    assert services
    for job in services:
        fit: dict[str, int] = {}
        for n in default_problem["nodes"]:
            if _fits(job["demand"], n):
                fit[n["region"]] = fit.get(n["region"], 0) + n["count"]
        bound = job.get("max_latency_ms", math.inf)
        ok = any(
            sum(fit[g] for g in group) >= job["replicas"]
            and all(lat[(a, b)] <= bound for a, b in itertools.combinations(group, 2))
            for size in range(job.get("min_regions", 1), len(fit) + 1)
            for group in itertools.combinations(sorted(fit), size)
        )
        assert ok, job["id"]


def test_same_seed_same_problem(default_problem):
    """The same arguments give an identical dict."""
    assert generate_from_trace(seed=0) == default_problem


def test_different_seeds_differ(default_problem):
    """Another seed draws other nodes and jobs (the curves stay the same)."""
    other = generate_from_trace(seed=1)
    assert other["jobs"] != default_problem["jobs"]
    assert other["nodes"] != default_problem["nodes"]
    assert other["regions"] == default_problem["regions"]


def test_generator_does_not_mutate_between_calls(default_problem):
    """A caller changing a returned dict does not change later results."""
    data = generate_from_trace(n_jobs=10, n_nodes=3, zones=["DE"], slots=12, seed=5)
    snapshot = copy.deepcopy(data)
    data["regions"][0]["carbon_g_per_kwh"][0] = -1.0
    data["nodes"][0]["kw_per_unit"]["gpu"] = 99.0
    assert generate_from_trace(n_jobs=10, n_nodes=3, zones=["DE"], slots=12, seed=5) == snapshot


@pytest.mark.parametrize(
    "kwargs",
    [
        # Small Europe-only day with power caps, a carbon price and AWS PUE.
        dict(n_jobs=40, n_nodes=5, zones=["DE", "GB"], start_hour="2023-01-16", slots=24,
             seed=7, power_cap_fraction=0.8, carbon_price_per_kg=0.1, pue="aws"),
        # Last day of the year, one zone, no services, uniform pod draw.
        dict(n_jobs=30, zones=["SG"], start_hour=HOURS_2023 - 24, slots=24, seed=2,
             service_fraction=0.0, size_bias=0.0),
        # Two US zones, every job a service, fixed PUE and node cost.
        dict(n_jobs=12, n_nodes=6, zones=["US-CAL-CISO", "US-TEX-ERCO"], slots=48, seed=4,
             service_fraction=1.0, pue=1.3, cost_per_gpu_slot=0.5),
    ],
)
def test_variants_validate(kwargs):
    """Problems with caps, one zone, all services or other PUEs validate too."""
    data = generate_from_trace(**kwargs)
    problem = Problem.from_dict(data)
    assert problem.H == kwargs["slots"]
    if kwargs.get("power_cap_fraction"):
        assert all(r.power_cap_kw is not None and r.power_cap_kw > 0 for r in problem.regions)


def test_write_problem_json_and_yaml(tmp_path):
    """write_problem writes a file that reads back to the same, valid problem."""
    kwargs = dict(n_jobs=15, n_nodes=4, zones=["CA-ON", "US-MIDA-PJM"], slots=24, seed=9)
    data = write_problem(tmp_path / "p.json", **kwargs)
    assert json.loads((tmp_path / "p.json").read_text()) == data
    write_problem(tmp_path / "p.yaml", **kwargs)
    assert yaml.safe_load((tmp_path / "p.yaml").read_text()) == data
    Problem.from_dict(data)


def test_bad_arguments_are_rejected():
    """Unknown zones, windows past 2023 and impossible sizes raise ValueError."""
    with pytest.raises(ValueError, match="unknown zone"):
        generate_from_trace(zones=["XX"])
    with pytest.raises(ValueError, match="outside 2023"):
        generate_from_trace(start_hour=HOURS_2023 - 100, slots=168)
    with pytest.raises(ValueError, match="n_jobs"):
        generate_from_trace(n_jobs=0)
    with pytest.raises(ValueError, match="PUE preset"):
        generate_from_trace(pue="nope")
