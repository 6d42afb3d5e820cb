"""Problem data model and parsing (PROBLEM.md): defaults, round trips, bad input."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from allocopt import Model, Problem, ProblemError, load_problem, save_problem


def _minimal() -> dict[str, Any]:
    return {
        "horizon": {"slots": 4},
        "resources": ["gpu", "cpu"],
        "regions": [{"id": "eu"}, {"id": "us"}],
        "links": [{"a": "eu", "b": "us", "latency_ms": 80}],
        "nodes": [{"id": "n", "region": "eu", "capacity": {"gpu": 8}}],
        "jobs": [{"id": "a", "demand": {"gpu": 4}, "duration": 2},
                 {"id": "b", "duration": 1, "after": ["a"]}],
    }


def _errors(data: Any) -> list[str]:
    """The messages of the ProblemError that parsing ``data`` must raise."""
    with pytest.raises(ProblemError) as info:
        Problem.from_dict(data)
    return info.value.errors


def _has(errors: list[str], *parts: str) -> bool:
    """True if one message contains every one of ``parts``."""
    return any(all(p in e for p in parts) for e in errors)


# ---------------------------------------------------------------------------
# Parsing and defaults
# ---------------------------------------------------------------------------


def test_defaults_keep_features_off():
    """Omitted fields take PROBLEM.md's defaults."""
    p = Problem.from_dict(_minimal())
    assert p.name == "problem"
    assert p.horizon.slot_hours == 1.0
    eu = p.regions[0]
    assert (eu.pue, eu.price_per_kwh, eu.carbon_g_per_kwh) == (1.0, 0.0, 0.0)
    assert eu.power_cap_kw is None and eu.energy_budget_kwh is None
    n = p.nodes[0]
    assert (n.type, n.count, n.idle_kw, n.cost_per_slot) == ("default", 1, 0.0, 0.0)
    assert n.kw_per_unit == {} and n.unavailable == ()
    a = p.jobs[0]
    assert (a.release, a.deadline, a.due, a.tardiness_penalty) == (0, None, None, 0.0)
    assert (a.priority, a.value, a.required) == (0, 1.0, False)
    assert (a.replicas, a.min_regions, a.max_per_region, a.max_latency_ms) == (1, 1, None, None)
    assert a.regions is None and a.node_types is None and a.after == () and a.power_kw is None
    assert p.objective.mode == "lexicographic" and p.objective.carbon_price_per_kg == 0.0


def test_parses_every_field():
    """Every field of PROBLEM.md is read, series as tuples."""
    data = _minimal()
    data["regions"][0].update(pue=1.2, price_per_kwh=[0.1, 0.2, 0.3, 0.4],
                              carbon_g_per_kwh=100, power_cap_kw=[5, 5, 6, 6],
                              energy_budget_kwh=50)
    data["nodes"][0].update(type="h100", count=2, idle_kw=1.5, kw_per_unit={"gpu": 0.7},
                            cost_per_slot=2, unavailable=[[1, 3]])
    data["jobs"][0].update(release=1, deadline=4, due=3, tardiness_penalty=2, priority=2,
                           value=5, required=True, replicas=2, min_regions=1, max_per_region=2,
                           max_latency_ms=100, regions=["eu", "us"], node_types=["h100"],
                           power_kw=3)
    data["objective"] = {"mode": "weighted", "carbon_price_per_kg": 0.05}
    p = Problem.from_dict(data)
    assert p.regions[0].price_per_kwh == (0.1, 0.2, 0.3, 0.4)
    assert p.regions[0].power_cap_kw == (5.0, 5.0, 6.0, 6.0)
    assert p.nodes[0].unavailable == ((1, 3),)
    a = p.jobs[0]
    assert (a.release, a.deadline, a.due, a.priority, a.replicas) == (1, 4, 3, 2, 2)
    assert a.regions == ("eu", "us") and a.node_types == ("h100",) and a.power_kw == 3.0
    assert p.objective.mode == "weighted"
    assert p.tiers == [2, 0]  # tiers present, highest first


def test_count_expands_node_names():
    """A node with count k stands for '<id>#0' .. '<id>#<k-1>'; count 1 keeps its id."""
    data = _minimal()
    data["nodes"].append({"id": "pool", "region": "us", "count": 3})
    p = Problem.from_dict(data)
    assert p.nodes[1].names == ["pool#0", "pool#1", "pool#2"]
    assert p.node_names() == ["n", "pool#0", "pool#1", "pool#2"]


def test_latencies_are_shortest_paths():
    """Latency is the shortest path over links; self 0; no path is infinite."""
    data = _minimal()
    data["regions"] += [{"id": "ap"}, {"id": "island"}]
    data["links"] += [{"a": "us", "b": "ap", "latency_ms": 100},
                      {"a": "eu", "b": "ap", "latency_ms": 300}]
    lat = Problem.from_dict(data).latencies()
    assert lat["eu"]["eu"] == 0
    assert lat["eu"]["ap"] == 180  # eu-us 80 + us-ap 100 beats the direct 300
    assert lat["island"]["eu"] == float("inf")


def test_model_builder_gives_the_same_problem():
    """The Model builder and from_dict build equal problems."""
    m = Model(slots=4, resources=["gpu", "cpu"])
    m.add_region("eu")
    m.add_region("us")
    m.add_link("eu", "us", 80)
    m.add_node("n", region="eu", capacity={"gpu": 8})
    m.add_job("a", demand={"gpu": 4}, duration=2)
    m.add_job("b", duration=1, after=["a"])
    assert m.data() == Problem.from_dict(_minimal())


# ---------------------------------------------------------------------------
# Frozen records and round trips
# ---------------------------------------------------------------------------


def test_records_are_frozen():
    """Assigning into a problem or any of its records raises."""
    p = Problem.from_dict(_minimal())
    with pytest.raises(ValidationError):
        p.name = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        p.jobs[0].duration = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        p.nodes[0].region = "us"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        p.regions[0].pue = 2.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.jobs.append(p.jobs[0])  # type: ignore[attr-defined]  # a tuple


def test_replace_returns_a_new_validated_problem():
    """replace() builds a new problem and checks it; the original is unchanged."""
    p = Problem.from_dict(_minimal())
    q = p.replace(horizon={"slots": 8})
    assert q.horizon.slots == 8 and p.horizon.slots == 4
    with pytest.raises(ProblemError, match="after names unknown job 'a'"):
        p.replace(jobs=[p.jobs[1]])  # 'b' still names 'a'


def test_round_trip_dict():
    """dict -> Problem -> to_dict -> Problem gives an equal problem."""
    data = _minimal()
    data["regions"][0].update(price_per_kwh=[0.1, 0.2, 0.3, 0.4], power_cap_kw=9)
    data["nodes"][0].update(count=2, unavailable=[[0, 1]], type="x")
    data["jobs"][0].update(regions=["eu"], due=2, tardiness_penalty=1.5, required=True)
    p = Problem.from_dict(data)
    again = Problem.from_dict(p.to_dict())
    assert again == p
    assert again.to_dict() == p.to_dict()
    assert "slot_hours" not in p.to_dict()["horizon"]  # defaults are left out


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_round_trip_file(tmp_path: Path, suffix: str):
    """save_problem then load_problem gives an equal problem (JSON and YAML)."""
    p = Problem.from_dict({**_minimal(), "name": "demo"})
    path = tmp_path / f"demo{suffix}"
    save_problem(p, path)
    assert load_problem(path) == p


def test_load_names_problem_after_file(tmp_path: Path):
    """An unnamed problem takes the file's stem as its name."""
    path = tmp_path / "cluster-a.json"
    path.write_text(json.dumps(_minimal()))
    assert load_problem(path).name == "cluster-a"


def test_yaml_loads_like_json(tmp_path: Path):
    """A YAML file with the same structure gives the same problem as the JSON one."""
    (tmp_path / "p.json").write_text(json.dumps(_minimal()))
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(_minimal()))
    assert load_problem(tmp_path / "p.yaml") == load_problem(tmp_path / "p.json")


def test_yaml_aliases_rejected(tmp_path: Path):
    """YAML anchors/aliases are refused (they can blow up in size)."""
    text = yaml.safe_dump(_minimal()) + "extra_a: &big [1, 2]\nextra_b: *big\n"
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ProblemError) as info:
        load_problem(path)
    (msg,) = info.value.errors
    assert "p.yaml" in msg and "aliases are not accepted" in msg
    assert "\n" not in msg  # one message, one line


def test_bad_yaml_is_one_message(tmp_path: Path):
    """A YAML syntax error is reported as one line naming the file and position."""
    path = tmp_path / "p.yml"
    path.write_text("horizon: [1\n")
    with pytest.raises(ProblemError) as info:
        load_problem(path)
    (msg,) = info.value.errors
    assert "p.yml" in msg and "not valid YAML" in msg and "line" in msg and "\n" not in msg


def test_file_not_json(tmp_path: Path):
    """A .json file that is not JSON is an input error naming the file."""
    path = tmp_path / "p.json"
    path.write_text("horizon: 4\n")
    with pytest.raises(ProblemError) as info:
        load_problem(path)
    assert _has(info.value.errors, "p.json", "not valid JSON")


def test_missing_file(tmp_path: Path):
    """An unreadable file is an input error, not an OSError."""
    with pytest.raises(ProblemError, match="cannot be read"):
        load_problem(tmp_path / "nope.json")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_non_finite_rejected(tmp_path: Path, constant: str):
    """NaN and Infinity in a JSON file are rejected."""
    text = json.dumps(_minimal()).replace('"latency_ms": 80', f'"latency_ms": {constant}')
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(ProblemError) as info:
        load_problem(path)
    assert _has(info.value.errors, constant, "not a finite number")


# ---------------------------------------------------------------------------
# Bad input: one kind at a time
# ---------------------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """A mutation: set data[path] (dotted, list indices as numbers) to value."""

    def apply(data: dict) -> None:
        *head, last = path.split(".")
        obj: Any = data
        for key in head:
            obj = obj[int(key)] if key.isdigit() else obj[key]
        obj[int(last) if last.isdigit() else last] = value

    return apply


def _append(path: str, value: Any) -> Callable[[dict], None]:
    def apply(data: dict) -> None:
        data[path].append(copy.deepcopy(value))

    return apply


BAD_INPUT = [
    # (case, mutation, substrings one message must contain)
    ("unknown top key", _set("colour", "red"), ["problem", "unknown key 'colour'"]),
    ("unknown horizon key", _set("horizon.slot", 3), ["horizon", "unknown key 'slot'"]),
    ("unknown region key", _set("regions.0.prices", 1), ["region 'eu'", "unknown key 'prices'"]),
    ("unknown node key", _set("nodes.0.gpus", 8), ["node 'n'", "unknown key 'gpus'"]),
    ("unknown job key", _set("jobs.0.deadlin", 3), ["job 'a'", "unknown key 'deadlin'"]),
    ("unknown link key", _set("links.0.ms", 3), ["link", "unknown key 'ms'"]),
    ("unknown objective key", _set("objective", {"mode": "weighted", "x": 1}),
     ["objective", "unknown key 'x'"]),
    ("unknown resource in capacity", _set("nodes.0.capacity", {"gpus": 8}),
     ["node 'n'", "capacity", "unknown resource 'gpus'", "resources are gpu, cpu"]),
    ("unknown resource in demand", _set("jobs.0.demand", {"ram": 1}),
     ["job 'a'", "demand", "unknown resource 'ram'"]),
    ("unknown resource in kw_per_unit", _set("nodes.0.kw_per_unit", {"tpu": 1}),
     ["node 'n'", "kw_per_unit", "unknown resource 'tpu'"]),
    ("node region unknown", _set("nodes.0.region", "mars"),
     ["node 'n'", "region", "unknown region 'mars'"]),
    ("link end unknown", _set("links.0.b", "mars"), ["link", "unknown region 'mars'"]),
    ("job regions unknown", _set("jobs.0.regions", ["eu", "moon"]),
     ["job 'a'", "regions", "unknown region 'moon'"]),
    ("job after unknown", _set("jobs.1.after", ["a", "zz"]),
     ["job 'b'", "after names unknown job 'zz'"]),
    ("price series length", _set("regions.0.price_per_kwh", [0.1] * 3),
     ["region 'eu'", "price_per_kwh has 3 entries, horizon has 4 slots"]),
    ("carbon series length", _set("regions.1.carbon_g_per_kwh", [1] * 5),
     ["region 'us'", "carbon_g_per_kwh has 5 entries"]),
    ("power cap series length", _set("regions.0.power_cap_kw", [1]),
     ["region 'eu'", "power_cap_kw has 1 entries"]),
    ("negative demand", _set("jobs.0.demand", {"gpu": -1}),
     ["job 'a'", "demand.gpu", "greater than or equal to 0"]),
    ("negative capacity", _set("nodes.0.capacity", {"gpu": -8}), ["node 'n'", "capacity.gpu"]),
    ("negative latency", _set("links.0.latency_ms", -5), ["link", "latency_ms"]),
    ("negative release", _set("jobs.0.release", -1), ["job 'a'", "release"]),
    ("negative idle", _set("nodes.0.idle_kw", -0.5), ["node 'n'", "idle_kw"]),
    ("negative carbon", _set("regions.0.carbon_g_per_kwh", -1),
     ["region 'eu'", "carbon_g_per_kwh"]),
    ("pue below 1", _set("regions.0.pue", 0.9), ["region 'eu'", "pue"]),
    ("zero duration", _set("jobs.0.duration", 0), ["job 'a'", "duration"]),
    ("zero slots", _set("horizon.slots", 0), ["horizon", "slots"]),
    ("NaN value", _set("jobs.0.value", float("nan")), ["job 'a'", "value", "finite"]),
    ("infinite capacity", _set("nodes.0.capacity", {"gpu": float("inf")}),
     ["node 'n'", "capacity.gpu", "finite"]),
    ("infinite power cap", _set("regions.0.power_cap_kw", [1, 2, float("inf"), 3]),
     ["region 'eu'", "power_cap_kw", "finite"]),
    ("fractional count", _set("nodes.0.count", 2.5), ["node 'n'", "count", "integer"]),
    ("fractional slots", _set("horizon.slots", 4.5), ["horizon", "slots", "integer"]),
    ("float-typed slot index", _set("jobs.0.deadline", 3.0), ["job 'a'", "deadline", "integer"]),
    ("fractional window", _set("nodes.0.unavailable", [[0.5, 2]]),
     ["node 'n'", "unavailable", "integer"]),
    ("empty window", _set("nodes.0.unavailable", [[2, 2]]),
     ["node 'n'", "unavailable[0]", "empty"]),
    ("string as number", _set("jobs.0.replicas", "2"), ["job 'a'", "replicas"]),
    ("bad mode", _set("objective", {"mode": "fast"}), ["objective", "mode"]),
    ("missing duration", _set("jobs.1", {"id": "b"}),
     ["job 'b'", "missing required field 'duration'"]),
    ("missing top field", lambda d: d.pop("jobs"), ["problem", "missing required field 'jobs'"]),
    ("duplicate region", _append("regions", {"id": "eu"}), ["region 'eu'", "duplicate id"]),
    ("duplicate node", _append("nodes", {"id": "n", "region": "us"}), ["node 'n'", "duplicate id"]),
    ("duplicate job", _append("jobs", {"id": "a", "duration": 1}), ["job 'a'", "duplicate id"]),
    ("duplicate resource", _set("resources", ["gpu", "cpu", "gpu"]),
     ["resources", "'gpu' is listed twice"]),
    ("expanded name clash", _append("nodes", {"id": "n#0", "region": "eu"}),
     ["node", "'n#0'"]),
    ("self cycle", _set("jobs.0.after", ["a"]), ["jobs 'a' -> 'a' form a cycle"]),
    ("two-job cycle", _set("jobs.0.after", ["b"]), ["jobs 'a' -> 'b' -> 'a' form a cycle"]),
    ("not a list", _set("jobs", {"a": 1}), ["jobs", "must be a list"]),
    ("not an object", _set("jobs.0", "a"), ["job #0", "must be an object"]),
]


@pytest.mark.parametrize(("case", "mutate", "parts"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_named(case: str, mutate: Callable[[dict], None], parts: list[str]):
    """Each kind of bad input gives a message naming the object and field."""
    data = _minimal()
    if case == "expanded name clash":
        data["nodes"][0]["count"] = 2  # 'n' expands to 'n#0', 'n#1'
    mutate(data)
    errors = _errors(data)
    assert _has(errors, *parts), errors


def test_many_errors_reported_together():
    """Ten different errors in one problem are all reported in one ProblemError."""
    data = _minimal()
    data["typo"] = 1                                      # 1 unknown top-level key
    data["regions"][0]["price_per_kwh"] = [0.1, 0.2]      # 2 series length (4 slots)
    data["regions"][1]["pue"] = 0.5                       # 3 pue below 1 ...
    data["regions"].append({"id": "us"})                  # 4 ... and a duplicate of it
    data["links"][0]["b"] = "mars"                        # 5 unknown link end
    data["nodes"][0]["region"] = "moon"                   # 6 unknown node region
    data["nodes"][0]["count"] = 1.5                       # 7 non-integer count, same node
    data["jobs"][0]["demand"] = {"gpu": -4}               # 8 negative demand
    data["jobs"][0]["after"] = ["b"]                      # 9 cycle a -> b -> a
    data["jobs"][1]["colour"] = "red"                     # 10 unknown nested key
    data["jobs"].append({"id": "c", "duration": 1, "after": ["nope"]})  # 11 unknown job
    errors = _errors(data)
    expected = [
        ("problem", "unknown key 'typo'"),
        ("region 'eu'", "price_per_kwh has 2 entries, horizon has 4 slots"),
        ("region 'us'", "pue"),
        ("region 'us'", "duplicate id"),
        ("link", "unknown region 'mars'"),
        ("node 'n'", "unknown region 'moon'"),
        ("node 'n'", "count"),
        ("job 'a'", "demand.gpu"),
        ("jobs 'a' -> 'b' -> 'a' form a cycle",),
        ("job 'b'", "unknown key 'colour'"),
        ("job 'c'", "after names unknown job 'nope'"),
    ]
    missing = [parts for parts in expected if not _has(errors, *parts)]
    assert not missing, errors
    assert len(errors) == len(expected), errors  # and nothing spurious


def test_problem_error_message_lists_every_error():
    """str(ProblemError) holds every message (for library users who print it)."""
    data = _minimal()
    data["jobs"][0]["duration"] = 0
    data["nodes"][0]["region"] = "mars"
    with pytest.raises(ProblemError) as info:
        Problem.from_dict(data)
    text = str(info.value)
    assert "2 error(s)" in text and "duration" in text and "'mars'" in text


@pytest.mark.parametrize("data", [[], "problem", 3, None])
def test_top_level_not_an_object(data: Any):
    """A problem that is not a JSON object is rejected with one message."""
    assert _errors(data) == [f"problem: must be an object, got {type(data).__name__}"]


def test_negative_price_is_allowed():
    """Prices may be negative (wholesale markets); every other number is >= 0."""
    data = _minimal()
    data["regions"][0]["price_per_kwh"] = [-0.05, 0.1, 0.1, 0.1]
    assert Problem.from_dict(data).regions[0].price_per_kwh[0] == -0.05
