"""The shipped example problems in data/examples parse and show what they claim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allocopt.formats import load_problem

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"
NAMES = ["quickstart", "replicated_inference", "energy_shifting"]


@pytest.mark.parametrize("name", NAMES)
def test_example_parses(name):
    """Each example loads through the package's loader, with a name and a description."""
    problem = load_problem(EXAMPLES / f"{name}.json")
    assert problem.name == name
    assert problem.description
    assert problem.horizon.slots == 24


def test_quickstart_has_the_basic_features():
    """quickstart: two regions, pools, required jobs, a chain, a due date, maintenance."""
    p = load_problem(EXAMPLES / "quickstart.json")
    assert len(p.regions) == 2
    assert any(n.count > 1 for n in p.nodes)
    assert 1 <= sum(j.required for j in p.jobs) <= 2
    jobs = {j.id: j for j in p.jobs}
    assert jobs["eval-llm-7b"].after == ("train-llm-7b",)
    assert jobs["train-llm-7b"].after == ("prep-corpus",)
    assert any(j.due is not None and j.tardiness_penalty > 0 for j in p.jobs)
    assert any(n.unavailable for n in p.nodes)
    assert {j.priority for j in p.jobs} == {0, 1, 2}


def test_replicated_inference_latencies_rule_out_far_regions():
    """replicated_inference: services with replicas, spread and latency limits; the
    limit of 150 ms keeps chat-frontend out of ap-southeast (163 ms from us-west)."""
    p = load_problem(EXAMPLES / "replicated_inference.json")
    lat = p.latencies()
    assert len(p.regions) == 4
    assert lat["us-west"]["us-east"] == 65
    services = [j for j in p.jobs if j.replicas > 1]
    assert len(services) >= 4
    assert all(2 <= j.replicas <= 4 for j in services)
    assert any(j.max_per_region is not None for j in services)
    chat = next(j for j in p.jobs if j.id == "chat-frontend")
    assert chat.max_latency_ms is not None
    assert min(lat["ap-southeast"][g] for g in lat if g != "ap-southeast") > chat.max_latency_ms
    assert any(j.replicas == 1 for j in p.jobs)  # batch jobs too


def test_energy_shifting_has_curves_caps_and_budget():
    """energy_shifting: 24-hour price/carbon curves in realistic ranges, a cap, a
    budget and a lexicographic objective with a carbon price."""
    raw = json.loads((EXAMPLES / "energy_shifting.json").read_text())
    p = load_problem(EXAMPLES / "energy_shifting.json")
    for r in raw["regions"]:
        assert len(r["price_per_kwh"]) == len(r["carbon_g_per_kwh"]) == 24
        assert all(0.03 <= v <= 0.30 for v in r["price_per_kwh"])
        assert all(20 <= v <= 600 for v in r["carbon_g_per_kwh"])
        assert 1.1 <= r["pue"] <= 1.5
    assert any(r.power_cap_kw is not None for r in p.regions)
    assert any(r.energy_budget_kwh is not None for r in p.regions)
    assert p.objective.mode == "lexicographic"
    assert p.objective.carbon_price_per_kg == 0.1
    flexible = [j for j in p.jobs if j.release == 0 and j.deadline == 24]
    assert len(flexible) >= len(p.jobs) // 2
