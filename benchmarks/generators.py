"""Seeded synthetic problem generator for benchmarks (PROBLEM.md v1 format).

:func:`generate` builds one problem as plain data (the dict that
:meth:`allocopt.problem.Problem.from_dict` reads), deterministically from a
seed: the same arguments always give the same dict, byte for byte once dumped.
:func:`generate_size` does the same for a named size in :data:`SIZES`, and
:func:`write_suite` writes instance files; ``python -m allocopt.benchmarks.generators``
regenerates the stored suite in ``data/bench/`` (see :data:`STORED_SUITE`).

What a generated problem looks like
-----------------------------------
- **Regions** are drawn from eight templates modelled on real grids and cloud
  regions (California, Virginia, Great Britain, Germany, Singapore, Texas,
  Ontario, New South Wales); more than eight regions repeat the templates as
  ``us-west-2`` etc. Each has a UTC offset, so the daily shapes of its price
  and carbon curves (solar midday dip, windy nights, flat fossil or hydro grids)
  fall at the right slots of a common UTC clock starting at slot 0.
- **Latencies** between templates are round-trip times from the GCP
  inter-region latency matrix (SMU AT&T Center, via umassos/decarbonization-
  potential, Apache-2.0); repeated templates add 5 ms per generation. Up to
  16 regions every pair is linked; beyond that each region links to its three
  nearest regions and its first-generation twin.
- **Nodes** come in pools (``count`` > 1) of four types with realistic
  capacity and power: ``h100`` (8 GPUs, 1.5 kW idle, 0.7 kW per GPU), ``a100``,
  ``l4`` and ``cpu``. Every region gets a GPU pool before any region gets a
  second pool, and the first pool is always ``h100``, which fits every demand.
- **Jobs** are of five kinds: ``train`` (long, 4-8 GPUs, sometimes several
  nodes in one region), ``ft`` (fine-tunes), ``svc`` (replicated inference
  services), ``etl`` (CPU pipelines in precedence chains) and ``batch`` (small
  GPU batch and evaluation jobs). Chains run ``etl -> ... -> etl``, then
  sometimes into a ``train`` job, which is sometimes followed by a ``batch``
  evaluation; every ``after`` names a job with a smaller index, so precedence
  is acyclic by construction.
- **Load**: every job has a relative duration drawn by kind (services
  longest, then training, fine-tunes, batch, pipelines), and one time scale
  for all of them is chosen so that the GPU work (GPUs x replicas x slots) is
  ``1.1 * tightness`` times the GPU capacity left after maintenance. GPUs are
  the scarce resource; CPU nodes are usually less busy.
  ``tightness=1.0`` over-subscribes moderately, so priorities matter;
  ``tightness=0.5`` leaves room for almost everything; ``2.0`` is tight.
  Durations are capped per kind (training 2/3 of the horizon, services the
  whole horizon, others 1/3 or 1/2); where the caps keep the work below the
  target (few jobs per node), fine-tunes and batch jobs ask for more GPUs.
- **Required** jobs are few (about 1 %, at least one) and small: one replica,
  at most 2 GPUs or a CPU job, duration at most ``slots // 6``, the whole
  horizon as window, no predecessors and no eligibility restriction. Power caps
  and energy budgets are floored so that any single node at full load fits, so
  each required job is placeable on its own.

Feature families
----------------
``features`` is ``"all"`` (the default), ``"none"``, or a collection of the
family names to keep; a family that is not named is switched off, e.g.
``features=FEATURES - {"energy", "replication"}``. An unknown name raises
``ValueError``. Random numbers are drawn the same way whatever the features,
so switching a family off leaves the rest of the instance largely unchanged.

================  =========================================================
family            what it adds (absent when switched off)
================  =========================================================
``pools``         node pools with ``count`` > 1 (off: one record per node)
``maintenance``   ``unavailable`` windows on about 20 % of pools
``energy``        region ``pue``, ``price_per_kwh`` and ``carbon_g_per_kwh``
                  curves, node ``idle_kw`` and ``kw_per_unit``, the
                  objective's ``carbon_price_per_kg`` (off also removes
                  ``power_caps``, which would be meaningless)
``power_caps``    per-slot ``power_cap_kw`` on about half the regions (at
                  45-70 % of the region's full-load power, lower in the
                  evening peak) and an ``energy_budget_kwh`` on the cleanest
                  region
``node_cost``     ``cost_per_slot`` (rental price) on about 40 % of pools
``latency``       ``links`` and ``max_latency_ms``
``replication``   ``replicas`` > 1, ``min_regions``, ``max_per_region``
                  (services, and multi-node training runs)
``precedence``    ``after`` chains
``windows``       ``release`` and ``deadline`` other than ``0`` and ``H``
``tardiness``     ``due`` and ``tardiness_penalty``
``required``      ``required: true`` jobs
``eligibility``   ``regions`` and ``node_types`` restrictions
``priorities``    priority tiers 0..3 (off: every job has priority 0)
================  =========================================================

Examples
--------
>>> from allocopt.benchmarks.generators import generate, FEATURES
>>> data = generate(20, 6, 2, 24, seed=1, features=FEATURES - {"energy"})
>>> len(data["jobs"]), data["horizon"]["slots"], "pue" in data["regions"][0]
(20, 24, False)
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

FEATURES: frozenset[str] = frozenset({
    "pools", "maintenance", "energy", "power_caps", "node_cost", "latency",
    "replication", "precedence", "windows", "tardiness", "required",
    "eligibility", "priorities",
})

SIZES: dict[str, dict[str, int]] = {
    "small": dict(num_jobs=50, num_nodes=12, num_regions=3, slots=24),
    "medium": dict(num_jobs=200, num_nodes=40, num_regions=4, slots=48),
    "large": dict(num_jobs=2000, num_nodes=400, num_regions=4, slots=168),
    "xl": dict(num_jobs=20000, num_nodes=4000, num_regions=8, slots=168),
}

# The instances kept in data/bench/: (tag, sizes, seeds, overrides).
STORED_SUITE: tuple[tuple[str | None, tuple[str, ...], tuple[int, ...], dict[str, Any]], ...] = (
    (None, ("small",), (0, 1, 2, 3, 4), {}),
    (None, ("medium",), (0, 1, 2), {}),
    (None, ("large",), (0,), {}),
    ("tight", ("small", "medium"), (0, 1, 2), {"tightness": 2.0}),
)

RESOURCES = ("gpu", "cpu", "mem_gb")
LOAD_AT_TIGHTNESS_1 = 1.1  # demand / capacity at tightness 1.0

# Node types: capacity, power (idle kW, kW per unit of demand) and rental price
# per hour (charged as cost_per_slot * slot_hours). H100 power follows the
# 700 W SXM5 TDP; DGX-class nodes draw roughly 7-10 kW under load.
NODE_TYPES: dict[str, dict[str, Any]] = {
    "h100": {"capacity": {"gpu": 8, "cpu": 192, "mem_gb": 2048}, "idle_kw": 1.5,
             "kw_per_unit": {"gpu": 0.7, "cpu": 0.004}, "rent": 24.0},
    "a100": {"capacity": {"gpu": 8, "cpu": 128, "mem_gb": 1024}, "idle_kw": 1.2,
             "kw_per_unit": {"gpu": 0.4, "cpu": 0.004}, "rent": 14.0},
    "l4": {"capacity": {"gpu": 4, "cpu": 48, "mem_gb": 192}, "idle_kw": 0.3,
           "kw_per_unit": {"gpu": 0.072, "cpu": 0.004}, "rent": 3.2},
    "cpu": {"capacity": {"cpu": 96, "mem_gb": 384}, "idle_kw": 0.25,
            "kw_per_unit": {"cpu": 0.005}, "rent": 1.5},
}
TYPE_NAMES = tuple(NODE_TYPES)
TYPE_SHARE = (0.25, 0.25, 0.2, 0.3)
_CAP = np.array([[NODE_TYPES[t]["capacity"].get(r, 0) for r in RESOURCES] for t in TYPE_NAMES])
_KW = np.array([[NODE_TYPES[t]["kw_per_unit"].get(r, 0.0) for r in RESOURCES] for t in TYPE_NAMES])
_IDLE = np.array([NODE_TYPES[t]["idle_kw"] for t in TYPE_NAMES])
_FULL_KW = _IDLE + (_CAP * _KW).sum(axis=1)  # one node at full load

# Region templates: id, UTC offset (h), mean carbon (g/kWh; Electricity Maps
# 2023 direct means of the zone in brackets), curve shape, mean price per kWh
# (wholesale 2023 mean in USD plus ~0.06 for delivery).
_REGIONS: tuple[tuple[str, float, float, str, float], ...] = (
    ("us-west", -8, 194, "solar", 0.12),       # US-CAL-CISO
    ("us-east", -5, 322, "flat", 0.10),        # US-MIDA-PJM
    ("eu-west", 0, 129, "wind", 0.18),         # GB
    ("eu-central", 1, 308, "solar_wind", 0.16),  # DE
    ("ap-southeast", 8, 369, "flat", 0.20),    # SG
    ("us-central", -6, 317, "wind", 0.11),     # US-TEX-ERCO
    ("ca-central", -5, 47, "hydro", 0.08),     # CA-ON
    ("au-east", 10, 502, "solar", 0.13),       # AU-NSW
)
# Round-trip latency (ms) between the templates above, from the GCP matrix
# (us-west2, us-east4, europe-west2, europe-west3, asia-southeast1, us-south1,
# northamerica-northeast2, australia-southeast1).
_LATENCY = np.array([
    [0, 65, 139, 151, 163, 34, 67, 137],
    [65, 0, 76, 87, 211, 32, 21, 192],
    [139, 76, 0, 13, 200, 105, 84, 262],
    [151, 87, 13, 0, 193, 118, 95, 278],
    [163, 211, 200, 193, 0, 201, 210, 93],
    [34, 32, 105, 118, 201, 0, 33, 171],
    [67, 21, 84, 95, 210, 33, 0, 190],
    [137, 192, 262, 278, 93, 171, 190, 0],
], dtype=float)

KINDS = ("train", "ft", "svc", "etl", "batch")
KIND_SHARE = (0.12, 0.22, 0.10, 0.36, 0.20)
_TRAIN, _FT, _SVC, _ETL, _BATCH = range(5)


def _sig(x: float, digits: int = 4) -> float:
    """``x`` rounded to ``digits`` significant digits, as a plain float."""
    return float(f"{x:.{digits}g}")


def _sig_list(a: np.ndarray) -> list[float]:
    return [float(f"{v:.4g}") for v in a.tolist()]


def _num(x: float) -> int | float:
    """An integral value as int (shorter files), else 4 significant digits."""
    x = _sig(float(x))
    return int(x) if x == int(x) and abs(x) < 1e15 else x


def _bump(hour: np.ndarray, centre: float, width: float) -> np.ndarray:
    """A daily Gaussian bump around ``centre`` (hours, wrapping at 24)."""
    d = np.abs((hour - centre + 12.0) % 24.0 - 12.0)
    return np.exp(-0.5 * (d / width) ** 2)


def _resolve_features(features: str | Iterable[str]) -> frozenset[str]:
    if isinstance(features, str):
        if features == "all":
            return FEATURES
        if features == "none":
            return frozenset()
        raise ValueError(
            f"features: expected 'all', 'none' or a collection of names, got {features!r}")
    chosen = frozenset(features)
    unknown = sorted(chosen - FEATURES)
    if unknown:
        raise ValueError(
            f"features: unknown family {', '.join(map(repr, unknown))} "
            f"(families are {', '.join(sorted(FEATURES))})"
        )
    return chosen


def generate(
    num_jobs: int,
    num_nodes: int,
    num_regions: int,
    slots: int,
    *,
    seed: int = 0,
    features: str | Collection[str] = "all",
    tightness: float = 1.0,
    slot_hours: float = 1.0,
    mode: str = "lexicographic",
    name: str | None = None,
) -> dict[str, Any]:
    """Generate one synthetic problem as plain data (PROBLEM.md format).

    Parameters
    ----------
    num_jobs
        Number of jobs (>= 0).
    num_nodes
        Number of nodes after ``count`` expansion (>= 1).
    num_regions
        Number of regions (>= 1); regions may end up without nodes when
        ``num_regions > num_nodes``.
    slots
        Horizon length ``H`` in slots (>= 1).
    seed
        Seed of the ``numpy.random.default_rng`` generator (spawned into one
        stream per part); the result is a pure function of all the arguments.
    features
        ``"all"``, ``"none"`` or the collection of feature families to keep
        (see the module docstring); the others are switched off.
    tightness
        Demand relative to capacity (> 0): ``1.0`` is moderately
        over-subscribed, ``0.5`` fits easily, ``2.0`` is tight.
    slot_hours
        Hours per slot (> 0); the daily price, carbon and cap shapes follow it.
    mode
        The objective mode, ``"lexicographic"`` or ``"weighted"``.
    name
        The problem's ``name``; by default one derived from the arguments.

    Returns
    -------
    dict
        JSON-ready problem data, floats rounded to 4 significant digits.

    Raises
    ------
    ValueError
        If an argument is out of range or a feature name is unknown.

    Notes
    -----
    Time and memory are ``O(num_jobs + num_nodes + num_regions * slots)``:
    curves are computed with numpy, pools keep the node list short, and the
    only Python loops run over jobs, pools and regions. The xl size (20,000
    jobs, 4,000 nodes, 168 slots) takes well under a second.
    """
    for label, val, low in (("num_jobs", num_jobs, 0), ("num_nodes", num_nodes, 1),
                            ("num_regions", num_regions, 1), ("slots", slots, 1)):
        if int(val) != val or val < low:
            raise ValueError(f"{label} must be an integer >= {low}, got {val!r}")
    if not tightness > 0 or not math.isfinite(tightness):
        raise ValueError(f"tightness must be a finite number > 0, got {tightness!r}")
    if not slot_hours > 0 or not math.isfinite(slot_hours):
        raise ValueError(f"slot_hours must be a finite number > 0, got {slot_hours!r}")
    if mode not in ("lexicographic", "weighted"):
        raise ValueError(f"mode must be 'lexicographic' or 'weighted', got {mode!r}")
    on = _resolve_features(features)
    if "energy" not in on:
        on = on - {"power_caps"}
    num_jobs, num_nodes, num_regions = int(num_jobs), int(num_nodes), int(num_regions)
    H = int(slots)
    # One independent stream per part, so that the number of draws in one part
    # (which can depend on the features) never shifts the others.
    rng_regions, rng_pools, rng_curves, rng_jobs, rng_records = (
        np.random.default_rng(seed).spawn(5))

    regions = _make_regions(rng_regions, num_regions)
    pools = _make_pools(rng_pools, num_nodes, num_regions, H, on)
    curves = _make_curves(rng_curves, regions, H, float(slot_hours))
    jobs = _make_jobs(rng_jobs, num_jobs, H, regions, pools, on, float(tightness))

    if name is None:
        name = f"synthetic-j{num_jobs}-n{num_nodes}-r{num_regions}-h{H}-s{seed}"
    feat_txt = "all" if on == FEATURES else "{" + ", ".join(sorted(on)) + "}"
    problem: dict[str, Any] = {
        "name": name,
        "description": (
            f"allocopt synthetic benchmark: generate(num_jobs={num_jobs}, num_nodes={num_nodes}, "
            f"num_regions={num_regions}, slots={H}, seed={seed}, tightness={tightness}, "
            f"slot_hours={slot_hours}, features={feat_txt})"
        ),
        "horizon": {"slots": H, "slot_hours": float(slot_hours)},
        "resources": list(RESOURCES),
        "regions": _region_records(rng_records, regions, pools, curves, H, float(slot_hours),
                                   on),
    }
    if "latency" in on and num_regions > 1:
        problem["links"] = _links(regions)
    problem["nodes"] = _node_records(pools, regions.ids, float(slot_hours), on)
    problem["jobs"] = jobs
    objective: dict[str, Any] = {"mode": mode}
    carbon_price = _sig(rng_records.uniform(0.05, 0.2), 3)
    if "energy" in on:
        objective["carbon_price_per_kg"] = carbon_price
    problem["objective"] = objective
    return problem


# --------------------------------------------------------------------------
# Regions, latencies and curves
# --------------------------------------------------------------------------


class _Regions:
    """Per-region arrays: ids, template index, UTC offset, latency matrix."""

    def __init__(self, ids: list[str], template: np.ndarray, generation: np.ndarray):
        self.ids = ids
        self.template = template
        self.generation = generation
        self.offset = np.array([_REGIONS[k][1] for k in template], dtype=float)
        base = _LATENCY[np.ix_(template, template)]
        same = template[:, None] == template[None, :]
        extra = 5.0 * (generation[:, None] + generation[None, :])
        lat = np.where(same, 8.0 + extra, base + extra)
        np.fill_diagonal(lat, 0.0)
        self.latency = lat

    def __len__(self) -> int:
        return len(self.ids)


def _make_regions(rng: np.random.Generator, num_regions: int) -> _Regions:
    first = min(num_regions, len(_REGIONS))
    # A random subset of templates for up to eight regions, kept in table order.
    picked = np.sort(rng.permutation(len(_REGIONS))[:first])
    extra = np.arange(num_regions - first) % len(_REGIONS)
    template = np.concatenate([picked, extra]).astype(int)
    generation = np.concatenate(
        [np.zeros(first, dtype=int), 1 + np.arange(num_regions - first) // len(_REGIONS)])
    ids = [_REGIONS[k][0] + (f"-{g + 1}" if g else "") for k, g in zip(template, generation)]
    return _Regions(ids, template, generation)


def _links(regions: _Regions) -> list[dict[str, Any]]:
    """All pairs for up to 16 regions; beyond that each region links to its
    template twin of the first generation and its three nearest regions (the
    first generation is fully linked, so the graph stays connected)."""
    R = len(regions)
    pairs: set[tuple[int, int]] = set()
    if R <= 16:
        pairs = {(a, b) for a in range(R) for b in range(a + 1, R)}
    else:
        first = [g for g in range(R) if regions.generation[g] == 0]
        pairs = {(a, b) for a in first for b in first if a < b}
        base_of = {int(regions.template[g]): g for g in first}
        for g in range(R):
            if regions.generation[g]:
                twin = base_of[int(regions.template[g])]
                pairs.add((min(g, twin), max(g, twin)))
            order = np.argsort(regions.latency[g], kind="stable")
            for h in [int(h) for h in order if h != g][:3]:
                pairs.add((min(g, h), max(g, h)))
    return [
        {"a": regions.ids[a], "b": regions.ids[b], "latency_ms": _num(regions.latency[a, b])}
        for a, b in sorted(pairs)
    ]


def _make_curves(
    rng: np.random.Generator, regions: _Regions, H: int, slot_hours: float
) -> dict[str, np.ndarray]:
    """Price (per kWh) and carbon (g/kWh) curves, shape ``(R, H)``, in UTC slots; also
    ``evening``, the local evening-peak bump that shapes the power caps."""
    R = len(regions)
    hours = np.arange(H) * slot_hours + slot_hours / 2  # slot midpoints, UTC
    local = hours[None, :] + regions.offset[:, None]
    hour = local % 24.0
    day = np.floor(local / 24.0).astype(int) - int(np.floor(regions.offset.min() / 24.0))
    num_days = int(day.max()) + 1
    sun = rng.uniform(0.45, 1.0, size=(R, num_days))  # per-day sunshine
    sunny = np.take_along_axis(sun, day, axis=1)
    # Multi-day weather (wind) as a smooth random wave per region.
    period = rng.uniform(30.0, 90.0, size=(R, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(R, 1))
    weather = np.sin(2 * np.pi * hours[None, :] / period + phase)
    noise = rng.normal(0.0, 0.05, size=(2, R, H + 4))
    kernel = np.ones(5) / np.sqrt(5)  # smoothed, same spread as the raw noise
    smooth = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="valid"), 2, noise)
    level = rng.uniform(0.85, 1.15, size=(2, R, 1))

    evening = _bump(hour, 19.0, 2.0)
    midday = _bump(hour, 13.0, 3.0) * sunny
    night = _bump(hour, 3.5, 3.0)
    shape = np.ones((R, H))
    price_link = np.ones((R, 1))
    for g in range(R):
        kind = _REGIONS[regions.template[g]][3]
        if kind == "solar":
            shape[g] = 1.0 - 0.6 * midday[g] + 0.3 * evening[g]
            price_link[g] = 1.1
        elif kind == "solar_wind":
            shape[g] = 1.0 - 0.35 * midday[g] + 0.2 * evening[g] + 0.25 * weather[g]
            price_link[g] = 1.0
        elif kind == "wind":
            shape[g] = 1.0 + 0.3 * weather[g] - 0.1 * night[g] + 0.15 * evening[g]
            price_link[g] = 0.6
        elif kind == "hydro":
            shape[g] = 1.0 + 0.35 * evening[g] - 0.35 * night[g]
            price_link[g] = 0.5
        else:  # flat fossil grid
            shape[g] = 1.0 + 0.06 * evening[g] - 0.04 * night[g]
            price_link[g] = 0.3
    mean_carbon = np.array([_REGIONS[k][2] for k in regions.template])[:, None]
    mean_price = np.array([_REGIONS[k][4] for k in regions.template])[:, None]
    carbon = mean_carbon * level[0] * shape * np.exp(smooth[0])
    # Prices follow the carbon shape partly (merit order) plus a demand peak.
    price = mean_price * level[1] * (
        1.0 + price_link * (shape - 1.0) + 0.25 * evening - 0.1 * night
    ) * np.exp(smooth[1])
    return {
        "carbon": np.clip(carbon, 10.0, 800.0),
        "price": np.clip(price, 0.02, 0.40),
        "evening": _bump(hour, 18.5, 1.5),
    }


def _region_records(
    rng: np.random.Generator, regions: _Regions, pools: dict[str, np.ndarray],
    curves: dict[str, np.ndarray], H: int, slot_hours: float, on: frozenset[str],
) -> list[dict[str, Any]]:
    R = len(regions)
    pue = np.round(rng.uniform(1.08, 1.45, size=R), 2)
    has_cap = rng.random(R) < 0.5
    cap_frac = rng.uniform(0.45, 0.70, size=R)
    budget_frac = rng.uniform(0.30, 0.50)
    # Full-load power per region, and of its largest single node (the floor
    # that keeps every required job placeable on its own).
    full = np.zeros(R)
    np.add.at(full, pools["region"], pools["count"] * _FULL_KW[pools["type"]])
    biggest = np.zeros(R)
    np.maximum.at(biggest, pools["region"], _FULL_KW[pools["type"]])
    with_nodes = np.flatnonzero(full > 0)
    if with_nodes.size and not has_cap[with_nodes].any():
        # At least one capped region: the cheapest, where everyone wants to run.
        has_cap[with_nodes[np.argmin(curves["price"][with_nodes].mean(axis=1))]] = True
    budget_region = (
        int(with_nodes[np.argmin(curves["carbon"][with_nodes].mean(axis=1))])
        if with_nodes.size else -1
    )
    out = []
    for g in range(R):
        rec: dict[str, Any] = {"id": regions.ids[g]}
        if "energy" in on:
            rec["pue"] = float(pue[g])
            rec["price_per_kwh"] = _sig_list(curves["price"][g])
            rec["carbon_g_per_kwh"] = _sig_list(curves["carbon"][g])
        if "power_caps" in on and full[g] > 0:
            floor_kw = 1.2 * pue[g] * biggest[g]
            if has_cap[g]:
                cap = cap_frac[g] * pue[g] * full[g] * (1.0 - 0.25 * curves["evening"][g])
                rec["power_cap_kw"] = _sig_list(np.maximum(cap, floor_kw))
            if g == budget_region:
                budget = budget_frac * pue[g] * full[g] * H * slot_hours
                rec["energy_budget_kwh"] = _sig(max(budget, floor_kw * H * slot_hours))
        out.append(rec)
    return out


# --------------------------------------------------------------------------
# Nodes
# --------------------------------------------------------------------------


def _make_pools(
    rng: np.random.Generator, num_nodes: int, num_regions: int, H: int, on: frozenset[str]
) -> dict[str, np.ndarray]:
    """Pools as arrays: region, type index, count, maintenance, rental flag."""
    # Every per-pool array is drawn for num_nodes pools (the most there can
    # be) and then cut, so the draws do not depend on the features.
    N = num_nodes
    max_pool = max(1, round(math.sqrt(N) / 2))
    sizes = rng.integers(1, max_pool + 1, size=N)
    drawn_type = rng.choice(len(TYPE_NAMES), size=N, p=TYPE_SHARE)
    maint_u = rng.random(N)
    two = rng.random(N) < 0.25
    longest = max(1, H // 8)  # maintenance windows up to H // 8 slots (>= 1)
    length = rng.integers(1, longest + 1, size=(N, 2))
    start = np.floor(rng.random((N, 2)) * (H - length + 1)).astype(int)
    rental_u = rng.random(N)
    rent_noise = rng.uniform(0.8, 1.2, size=N)

    if "pools" not in on:
        sizes = np.ones(N, dtype=int)
    ends = np.cumsum(sizes)
    P = int(np.searchsorted(ends, N) + 1)
    sizes = sizes[:P].copy()
    sizes[-1] -= int(ends[P - 1] - N)
    region = np.arange(P) % num_regions
    # One GPU pool per region first (h100 and a100 alternating, so pool 0 is
    # h100 and fits every demand), then one CPU pool per region, then L4, then
    # random types.
    rank = np.arange(P) // num_regions
    ptype = np.select([rank == 0, rank == 1, rank == 2],
                      [np.arange(P) % 2, 3, 2], drawn_type[:P])
    # Maintenance on about 20 % of pools, a second window on a quarter of those.
    has_maint = (maint_u[:P] < 0.2) & (H >= 4) & ("maintenance" in on)
    rental = (rental_u[:P] < 0.4) & ("node_cost" in on)
    return {
        "region": region, "type": ptype, "count": sizes, "has_maint": has_maint,
        "two": two[:P], "start": start[:P], "length": length[:P], "rental": rental,
        "rent_noise": rent_noise[:P],
    }


def _windows(pools: dict[str, np.ndarray], p: int) -> list[list[int]]:
    if not pools["has_maint"][p]:
        return []
    wins = []
    for k in range(2 if pools["two"][p] else 1):
        a = int(pools["start"][p, k])
        wins.append([a, a + int(pools["length"][p, k])])
    wins.sort()
    merged: list[list[int]] = []
    for a, b in wins:  # overlapping windows are merged into one
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged


def _node_records(pools: dict[str, np.ndarray], region_ids: list[str], slot_hours: float,
                  on: frozenset[str]) -> list[dict[str, Any]]:
    out = []
    for p in range(len(pools["count"])):
        t = TYPE_NAMES[pools["type"][p]]
        spec = NODE_TYPES[t]
        rec: dict[str, Any] = {
            "id": f"{region_ids[pools['region'][p]]}-{t}-{p}",
            "region": region_ids[pools["region"][p]],
            "type": t,
        }
        if pools["count"][p] > 1:
            rec["count"] = int(pools["count"][p])
        rec["capacity"] = dict(spec["capacity"])
        if "energy" in on:
            rec["idle_kw"] = spec["idle_kw"]
            rec["kw_per_unit"] = dict(spec["kw_per_unit"])
        if pools["rental"][p]:
            rec["cost_per_slot"] = _sig(spec["rent"] * slot_hours * pools["rent_noise"][p])
        wins = _windows(pools, p)
        if wins:
            rec["unavailable"] = wins
        out.append(rec)
    return out


# --------------------------------------------------------------------------
# Jobs
# --------------------------------------------------------------------------


_KEY_ORDER = (
    "id", "demand", "duration", "release", "deadline", "due", "tardiness_penalty", "priority",
    "value", "required", "replicas", "min_regions", "max_per_region", "max_latency_ms",
    "regions", "node_types", "after",
)


def _duration_scale(rel: np.ndarray, units: np.ndarray, dmax: np.ndarray,
                    target: float) -> float:
    """The factor ``s`` for which durations ``clip(round(rel * s), 1, dmax)``
    bring ``sum(units * duration)`` up to ``target`` (bisection)."""
    if rel.size == 0:
        return 1.0

    def work(s: float) -> float:
        return float((units * np.clip(np.rint(rel * s), 1, dmax)).sum())

    lo, hi = 0.0, 1.0
    while work(hi) < target and hi < 1e6 and work(hi) < float((units * dmax).sum()):
        hi *= 2.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if work(mid) < target:
            lo = mid
        else:
            hi = mid
    return hi


def _make_jobs(
    rng: np.random.Generator, J: int, H: int, regions: _Regions,
    pools: dict[str, np.ndarray], on: frozenset[str], tightness: float,
) -> list[dict[str, Any]]:
    R = len(regions)
    # Nodes per (region, type), capacity left after maintenance.
    nodes_rt = np.zeros((R, len(TYPE_NAMES)), dtype=int)
    np.add.at(nodes_rt, (pools["region"], pools["type"]), pools["count"])
    down = np.array([sum(b - a for a, b in _windows(pools, p)) for p in range(len(pools["count"]))])
    node_slots = pools["count"] * (H - down)
    gpu_capacity = float((node_slots * _CAP[pools["type"], 0]).sum())
    present = nodes_rt.sum(axis=0) > 0

    # ---- every random draw, for every job, whatever its kind or features
    kind = rng.choice(len(KINDS), size=J, p=KIND_SHARE)
    u = rng.random((J, 16))
    gpu = np.select(
        [kind == _TRAIN, kind == _FT, kind == _SVC, kind == _BATCH],
        [np.where(u[:, 0] < 0.7, 8, 4),
         np.array([1, 2, 4, 8])[np.searchsorted([0.2, 0.55, 0.85], u[:, 0])],
         np.where(u[:, 0] < 0.6, 1, 2),
         np.array([1, 2, 4])[np.searchsorted([0.45, 0.85], u[:, 0])]],
        0,
    )
    cpu_per_gpu = np.array([8, 12, 16])[np.floor(u[:, 1] * 3).astype(int)]
    etl_cpu = np.array([8, 16, 32, 64, 96])[np.floor(u[:, 1] * 5).astype(int)]
    mem_per = np.where(kind == _TRAIN, np.array([64, 96, 128])[np.floor(u[:, 2] * 3).astype(int)],
                       np.where(kind == _ETL, np.where(u[:, 2] < 0.5, 2, 4) * 1.0, 32.0))
    log_mu = np.array([2.0, 1.2, 2.6, 0.6, 1.0])[kind]  # train, ft, svc, etl, batch
    rel = np.exp(log_mu + 0.5 * rng.standard_normal(J))
    dmax = np.maximum(1, np.array([H * 2 // 3, H // 2, H, H // 3, H // 3])[kind])
    replicas_svc = 2 + np.floor(u[:, 4] * 3).astype(int)  # 2..4
    replicas_train = np.where(u[:, 4] < 0.2, 2 + np.floor(u[:, 5] * 2).astype(int), 1)  # 2..3
    if "replication" in on:
        replicas = np.select([kind == _SVC, kind == _TRAIN], [replicas_svc, replicas_train], 1)
    else:
        replicas = np.ones(J, dtype=int)
    priority = np.where(
        kind == _SVC,
        np.searchsorted([0.1, 0.4, 0.75], u[:, 6]),
        np.searchsorted([0.4, 0.7, 0.9], u[:, 6]),
    )
    value_noise = rng.uniform(0.6, 1.4, size=J)
    window_u = rng.random((J, 3))
    due_u = rng.random((J, 2))
    restrict_u = rng.random((J, 4))
    chain_len = rng.integers(1, 6, size=max(J, 1))
    pred_u = rng.random((J, 2))

    # ---- durations: one time scale for every job, set by the GPU load
    # target (GPUs are the scarce resource; CPU pipelines keep their length
    # relative to the GPU jobs, and services are the longest).
    # When capped durations cannot reach the target (few jobs per node),
    # fine-tunes and batch jobs ask for twice the GPUs, up to 8, and the scale
    # is fitted again.
    etl = kind == _ETL
    target = LOAD_AT_TIGHTNESS_1 * tightness * gpu_capacity
    for _ in range(3):
        scale = _duration_scale(rel[~etl], (gpu * replicas)[~etl], dmax[~etl], target)
        duration = np.clip(np.rint(rel * scale), 1, dmax).astype(int)
        grow = ((kind == _FT) | (kind == _BATCH)) & (gpu < 8)
        if float((gpu * replicas * duration)[~etl].sum()) >= 0.97 * target or not grow.any():
            break
        gpu = np.where(grow, 2 * gpu, gpu)
    cpu = np.where(etl, etl_cpu, gpu * cpu_per_gpu)
    mem = np.where(etl, cpu * mem_per, gpu * mem_per).astype(int)

    # ---- precedence: etl chains, chain tail -> train, train -> batch (eval)
    pred = np.full(J, -1)
    etl_idx = np.flatnonzero(etl)
    tails: list[int] = []
    pos = 0
    for length in chain_len:
        chain = etl_idx[pos:pos + int(length)]
        if chain.size == 0:
            break
        pred[chain[1:]] = chain[:-1]
        tails.append(int(chain[-1]))
        pos += int(length)
    tails_arr = np.array(tails, dtype=int)
    train_idx = np.flatnonzero(kind == _TRAIN)
    # 30 % of training jobs follow a chain that ends earlier in the file, and
    # 30 % of batch jobs follow an earlier training job (an evaluation).
    for idx, pool in ((train_idx, tails_arr), (np.flatnonzero(kind == _BATCH), train_idx)):
        if pool.size == 0:
            continue
        earlier = np.searchsorted(pool, idx)  # how many candidates have a smaller index
        pick = (pred_u[idx, 0] < 0.3) & (earlier > 0)
        which = np.minimum(np.floor(pred_u[idx, 1] * earlier).astype(int),
                           np.maximum(earlier - 1, 0))
        pred[idx[pick]] = pool[which[pick]]
    if "precedence" not in on:
        pred[:] = -1

    # ---- required: few, small, unconstrained
    small = (((kind == _ETL) | (kind == _BATCH) | (kind == _FT)) & (gpu <= 2) & (pred < 0)
             & (replicas == 1))
    candidates = np.flatnonzero(small)
    num_required = min(candidates.size, max(1, round(0.01 * J))) if J else 0
    required = np.zeros(J, dtype=bool)
    order = rng.permutation(candidates.size)
    if "required" in on:
        required[candidates[order[:num_required]]] = True

    # ---- eligibility, vectorised: fitting types, wished types, fitting nodes
    need = np.stack([gpu, cpu, mem], axis=1)
    fits = present[None, :] & (_CAP[None, :, :] >= need[:, None, :]).all(axis=2)
    # Wished node types per kind and bucket of restrict_u[:, 0].
    names = {t: n for n, t in enumerate(TYPE_NAMES)}
    wish = np.zeros((J, len(TYPE_NAMES)), dtype=bool)
    r0 = restrict_u[:, 0]
    for k, rules in (
        (_TRAIN, ((0.2, ("h100",)), (0.6, ("a100", "h100")))),
        (_FT, ((0.3, ("a100", "h100")), (0.4, ("l4",)))),
        (_BATCH, ((0.3, ("a100", "h100")), (0.4, ("l4",)))),
        (_SVC, ((0.15, ("l4",)), (0.55, ("a100", "l4")))),
        (_ETL, ((0.5, ("cpu",)),)),
    ):
        low = 0.0
        for high, types in rules:
            rows = (kind == k) & (r0 >= low) & (r0 < high)
            for t in types:
                wish[rows, names[t]] = True
            low = high
    wished = wish & fits
    use_wish = wished.any(axis=1) & ~required & ("eligibility" in on)
    types_ok = np.where(use_wish[:, None], wished, fits)
    fit_nodes_all = (types_ok.astype(int) @ nodes_rt.T).tolist()  # fitting nodes per region
    residency = (restrict_u[:, 1] < 0.12) & (kind != _SVC) & ~required & ("eligibility" in on)
    by_latency = np.argsort(regions.latency, axis=1, kind="stable").tolist()

    width = len(str(max(J - 1, 0)))
    ids = [f"{KINDS[k]}-{i:0{width}d}" for i, k in enumerate(kind)]
    earliest_end = [0] * J
    jobs: list[dict[str, Any]] = []
    L = dict(  # plain Python lists: much faster to index one by one
        kind=kind.tolist(), duration=duration.tolist(), gpu=gpu.tolist(), cpu=cpu.tolist(),
        mem=mem.tolist(), replicas=replicas.tolist(), required=required.tolist(),
        use_wish=use_wish.tolist(), residency=residency.tolist(), pred=pred.tolist(),
        priority=priority.tolist(), value_noise=value_noise.tolist(), window=window_u.tolist(),
        due=due_u.tolist(), restrict=restrict_u.tolist(), u=u.tolist(),
    )
    wish_types = [[t for t, w in zip(TYPE_NAMES, row) if w] for row in wish.tolist()]
    for i in range(J):
        k = L["kind"][i]
        d = L["duration"][i]
        g_i, c_i, m_i = L["gpu"][i], L["cpu"][i], L["mem"][i]
        demand = {"gpu": g_i, "cpu": c_i, "mem_gb": m_i} if g_i else {"cpu": c_i, "mem_gb": m_i}
        rec: dict[str, Any] = {"id": ids[i], "demand": demand, "duration": d}
        reps = L["replicas"][i]
        is_req = L["required"][i]

        # Eligibility: only restrictions that keep the job placeable (a
        # fitting type present in an allowed region).
        if L["use_wish"][i]:
            rec["node_types"] = wish_types[i]
        fit_nodes = fit_nodes_all[i]
        if L["residency"][i]:
            # Data residency: one or two regions that can host the job.
            hosts = [g for g in range(R) if fit_nodes[g] >= reps]
            if hosts:
                ru = L["restrict"][i]
                first = int(ru[3] * len(hosts))
                allowed = sorted({hosts[first], hosts[(first + 1) % len(hosts)]} if ru[2] < 0.4
                                 else {hosts[first]})
                rec["regions"] = [regions.ids[g] for g in allowed]
                fit_nodes = [n if g in allowed else 0 for g, n in enumerate(fit_nodes)]

        # Replication.
        if k == _SVC and reps > 1:
            _replicate(rec, reps, fit_nodes, regions, by_latency, L["u"][i], on)
        elif k == _TRAIN and reps > 1:
            # Multi-node training: all replicas in one region.
            most = max(fit_nodes)
            if most >= 2:
                rec["replicas"] = min(reps, most)
                if "latency" in on:
                    rec["max_latency_ms"] = 0
        reps = rec.get("replicas", 1)

        # Time window and precedence.
        release, deadline = 0, H
        if "windows" in on and not is_req:
            wu = L["window"][i]
            if k == _SVC:
                if wu[0] < 0.3 and d < H:
                    release = int(wu[1] * (H - d + 1))
            elif wu[0] < 0.6:
                release = int(wu[1] * (H - d + 1))
                deadline = min(H, release + math.ceil(d * (1.3 + 2.7 * wu[2])))
        p = L["pred"][i]
        earliest = release
        if p >= 0:
            earliest = max(earliest, earliest_end[p])
            if earliest + d > H:
                if H - earliest >= 1:
                    d = H - earliest
                    rec["duration"] = d
                else:  # no room after the predecessor: drop the link
                    p, earliest = -1, release
            if p >= 0:
                rec["after"] = [ids[p]]
        if is_req:
            d = min(d, max(1, H // 6))
            rec["duration"] = d
        deadline = max(deadline, min(H, earliest + d))
        earliest_end[i] = earliest + d
        if release:
            rec["release"] = release
        if deadline < H:
            rec["deadline"] = deadline

        # Value, priority, due date.
        value = max(0.1, (g_i + c_i / 32.0) * d * reps * L["value_noise"][i])
        du = L["due"][i]
        if "tardiness" in on and k != _SVC and not is_req and du[0] < 0.3:
            rec["due"] = min(H, earliest + d + math.floor(du[1] * 0.5 * d))
            rec["tardiness_penalty"] = _num(max(0.01, value * (0.02 + 0.13 * du[1])))
        prio = 3 if is_req else L["priority"][i]
        if "priorities" in on and prio:
            rec["priority"] = prio
        rec["value"] = _num(value)
        if is_req:
            rec["required"] = True
        jobs.append({key: rec[key] for key in _KEY_ORDER if key in rec})
    return jobs


def _replicate(rec: dict[str, Any], reps: int, fit: list[int], regions: _Regions,
               by_latency: list[list[int]], u: list[float], on: frozenset[str]) -> None:
    """Set replication needs of a service that some set of regions can meet.

    Picks ``min_regions`` m, a cluster of the m hosting regions nearest to a
    random anchor, ``max_per_region = ceil(replicas / m)`` (raised if the
    cluster needs it) and a latency limit just above the diameter of the
    cluster (or of the two nearest hosting regions when m = 1). Shrinks
    ``replicas`` when the cluster cannot hold them on distinct fitting nodes,
    so the cluster always witnesses that the needs can be met.
    """
    hosts = [g for g, n in enumerate(fit) if n > 0]
    if not hosts:  # unplaceable anyway: keep the request as drawn
        rec["replicas"] = reps
        return
    m = 1 + int(u[7] * min(3, reps, len(hosts)))  # 1 .. min(3, replicas, hosts)
    anchor = hosts[int(u[8] * len(hosts))]
    near = [g for g in by_latency[anchor] if fit[g] > 0]
    cluster = near[:m]
    set_per_region = u[10] < 0.7
    set_latency = "latency" in on and u[11] < 0.7
    per_region = math.ceil(reps / m) if set_per_region else reps
    reps = max(1, min(reps, sum(min(fit[g], per_region) for g in cluster)))
    if reps < 2:
        return
    m = min(m, reps)
    if set_per_region:
        per_region = math.ceil(reps / m)
        while sum(min(fit[g], per_region) for g in cluster) < reps:
            per_region += 1
    rec["replicas"] = reps
    if m > 1:
        rec["min_regions"] = m
    if set_per_region and per_region < reps:
        rec["max_per_region"] = per_region
    if set_latency:
        span = near[:max(m, 2)]
        diameter = max(float(regions.latency[a, b]) for a in span for b in span)
        rec["max_latency_ms"] = _num(5 * math.ceil((diameter + 1) / 5))




# --------------------------------------------------------------------------
# Named sizes and suites
# --------------------------------------------------------------------------


def generate_size(name: str, /, seed: int = 0, **overrides: Any) -> dict[str, Any]:
    """Generate a problem of a named size in :data:`SIZES`.

    Parameters
    ----------
    name
        ``"small"``, ``"medium"``, ``"large"`` or ``"xl"``.
    seed
        The generator seed.
    **overrides
        Any other :func:`generate` argument (``tightness``, ``features``, a
        different ``num_jobs``, the problem's ``name``...). ``name`` is
        positional-only here, so ``name=`` sets the problem's name, which
        defaults to ``"<size>-s<seed>"``.

    Raises
    ------
    ValueError
        If the size is unknown.
    """
    if name not in SIZES:
        raise ValueError(f"unknown size {name!r} (sizes are {', '.join(SIZES)})")
    params: dict[str, Any] = dict(SIZES[name])
    params.update(overrides)
    params.setdefault("name", f"{name}-s{seed}")
    return generate(seed=seed, **params)


def write_suite(
    directory: str | Path,
    sizes: Sequence[str],
    seeds: Iterable[int],
    *,
    tag: str | None = None,
    **overrides: Any,
) -> list[Path]:
    """Write one JSON instance per (size, seed) and return the paths.

    Files go to ``<directory>/<group>/<group>-s<seed>.json`` where ``group``
    is the size name, prefixed by ``<tag>-`` when a tag is given (e.g.
    ``data/bench/tight-small/tight-small-s0.json`` for ``tag="tight"``);
    the problem's ``name`` is the file stem. Files are compact JSON.

    Parameters
    ----------
    directory
        The root folder, e.g. ``data/bench``.
    sizes
        Size names from :data:`SIZES`.
    seeds
        Seeds to generate for every size.
    tag
        Optional group prefix for variants.
    **overrides
        Passed to :func:`generate` (e.g. ``tightness=2.0``).
    """
    root = Path(directory)
    seeds = list(seeds)
    paths = []
    for size in sizes:
        group = f"{tag}-{size}" if tag else size
        folder = root / group
        folder.mkdir(parents=True, exist_ok=True)
        for seed in seeds:
            stem = f"{group}-s{seed}"
            data = generate_size(size, seed=seed, name=stem, **overrides)
            path = folder / f"{stem}.json"
            path.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
            paths.append(path)
    return paths


def write_stored_suite(directory: str | Path = "data/bench") -> list[Path]:
    """(Re)write every instance of :data:`STORED_SUITE` under ``directory``."""
    paths = []
    for tag, sizes, seeds, overrides in STORED_SUITE:
        paths += write_suite(directory, sizes, seeds, tag=tag, **overrides)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: rewrite the stored suite, or write one instance.

    ``python -m allocopt.benchmarks.generators`` rewrites ``data/bench``;
    ``python -m allocopt.benchmarks.generators --size xl --seed 0 --out xl-s0.json``
    writes a single instance.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="folder for the suite, or file for --size")
    parser.add_argument("--size", choices=sorted(SIZES), help="write one instance of this size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tightness", type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.size:
        data = generate_size(args.size, seed=args.seed, tightness=args.tightness)
        out = Path(args.out or f"{args.size}-s{args.seed}.json")
        out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
        print(out)
        return 0
    for path in write_stored_suite(args.out or "data/bench"):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
