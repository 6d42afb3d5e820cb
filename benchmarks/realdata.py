"""Real-data loaders and a trace-driven problem generator.

Everything here reads the trimmed files in ``data/real/`` (see
``data/real/README.md`` for sources, licenses, units and every conversion)
and turns them into pieces of the problem format (PROBLEM.md v1):

- :func:`region_curves`: hourly grid carbon intensity (gCO2eq/kWh, direct,
  Electricity Maps) and wholesale electricity price (USD/kWh) for 8 zones in
  2023, hour 0 = 2023-01-01T00:00Z;
- :func:`latency_links`: undirected ``links`` from the GCP inter-region
  latency matrix;
- :func:`trace_nodes` and :func:`trace_workload`: node and job shapes sampled
  from the Alibaba ``cluster-trace-gpu-v2023``;
- :func:`generate_from_trace`: a complete problem dict from all of the above,
  and :func:`write_problem` to validate and store it.

Units and conventions
---------------------
- Time: one slot is one hour (``slot_hours`` = 1); slot 0 is ``start_hour``
  hours after 2023-01-01T00:00Z (UTC, hour starts).
- Money: USD. Prices were converted at fixed 2023-average FX rates (Federal
  Reserve G.5A): 1 EUR = 1.0817 USD, 1 CAD = 1/1.3494 USD, 1 SGD = 1/1.3428
  USD, 1 AUD = 0.6644 USD. Prices can be negative (DE, AU-NSW, US-CAL-CISO...).
- Resources: ``gpu`` in GPUs (fractional for shared GPUs), ``cpu`` in vCPUs,
  ``mem_gb`` in GiB (MiB / 1024).
- Power: kW. ``kw_per_unit["gpu"]`` is the board power (TDP) of the node's GPU
  model; ``idle_kw`` is the non-GPU share of a DGX A100 per GPU (0.4125 kW per
  GPU), both from ``data/real/datacenter_facts.json``.
- Regions: problem regions are GCP region ids (``us-west2``), each mapped to
  the Electricity Maps zone whose curves it gets (``US-CAL-CISO``).

Attribution: generated problems embed Electricity Maps data and must keep the
ODbL notice that :func:`generate_from_trace` writes into ``description``.

Examples
--------
>>> from allocopt.problem import Problem
>>> data = generate_from_trace(n_jobs=20, n_nodes=6, zones=["DE", "GB"], slots=24)
>>> problem = Problem.from_dict(data)
>>> problem.H, [r.id for r in problem.regions]
(24, ['europe-west3', 'europe-west2'])
"""

from __future__ import annotations

import copy
import csv
import functools
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from .datafiles import data_path

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "DATA_DIR",
    "HOURS_2023",
    "LATENCY_TIERS_MS",
    "QOS_PRIORITY",
    "QOS_SLACK",
    "ZONES",
    "ZONE_REGIONS",
    "generate_from_trace",
    "gpu_load",
    "hour_of_year",
    "latency_links",
    "load_facts",
    "region_curves",
    "region_zones",
    "trace_nodes",
    "trace_workload",
    "write_problem",
]

#: Folder of the trimmed real-data files, resolved relative to the repository.
DATA_DIR = data_path("real")

#: Hours in the 2023 curves (hour 0 = 2023-01-01T00:00Z).
HOURS_2023 = 8760

#: The Electricity Maps zones with carbon and price curves.
ZONES: tuple[str, ...] = (
    "US-CAL-CISO", "US-MIDA-PJM", "US-TEX-ERCO", "CA-ON", "DE", "GB", "SG", "AU-NSW",
)

#: GCP region used for each zone (``gcp_region_zones.json`` maps it back; for
#: PJM, which hosts both us-east4 and us-east5, the first is used).
ZONE_REGIONS: dict[str, str] = {
    "US-CAL-CISO": "us-west2",
    "US-MIDA-PJM": "us-east4",
    "US-TEX-ERCO": "us-south1",
    "CA-ON": "northamerica-northeast2",
    "DE": "europe-west3",
    "GB": "europe-west2",
    "SG": "asia-southeast1",
    "AU-NSW": "australia-southeast1",
}

#: Priority tier per Alibaba QoS class: latency-sensitive and guaranteed pods
#: first, burstable next, best-effort last.
QOS_PRIORITY: dict[str, int] = {"LS": 2, "Guaranteed": 2, "Burstable": 1, "BE": 0}

#: Start slack (slots) per QoS class: deadline = release + duration + slack.
#: Best-effort work gets a 24-hour window, as for the temporally flexible work
#: of Google's carbon-intelligent computing system (Radovanovic et al. 2023).
QOS_SLACK: dict[str, int] = {"LS": 2, "Guaranteed": 2, "Burstable": 8, "BE": 24}

#: Latency bounds (ms) drawn for replicated services, tightest first: roughly
#: one metro/continent-half, one continent, and intercontinental neighbours.
LATENCY_TIERS_MS: tuple[float, ...] = (40.0, 80.0, 160.0)

RESOURCES = ("gpu", "cpu", "mem_gb")
_DEFAULT_START = 3720  # 2023-06-05T00:00Z, a Monday
_YEAR_START = datetime(2023, 1, 1, tzinfo=UTC)
_ATTRIBUTION = (
    "Contains information from Electricity Maps (hourly carbon intensity 2023), made available "
    "under the ODbL 1.0 (https://opendatacommons.org/licenses/odbl/1-0/); wholesale prices of "
    "CAISO, PJM, ERCOT, IESO, EPEX/RTE, EMC and AEMO via HewlettPackard/green-dcc (MIT); job and "
    "node shapes from Alibaba cluster-trace-gpu-v2023 (Weng et al., USENIX ATC 2023; CC BY 4.0); "
    "GCP latency from the AT&T Center for Virtualization at SMU via "
    "umassos/decarbonization-potential (Apache-2.0). See data/real/README.md."
)


# --------------------------------------------------------------------------
# File readers (cached per data folder).
# --------------------------------------------------------------------------


def _dir(data_dir: str | Path | None) -> Path:
    return Path(data_dir) if data_dir is not None else DATA_DIR


@functools.lru_cache(maxsize=16)
def _read_columns(path: str) -> dict[str, tuple[float, ...]]:
    """A wide hourly CSV (``hour_utc`` + one column per zone) as columns."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    if len(rows) != HOURS_2023:
        raise ValueError(f"{path}: expected {HOURS_2023} hourly rows, found {len(rows)}")
    return {
        zone: tuple(float(row[k]) for row in rows) for k, zone in enumerate(header) if k > 0
    }


@functools.lru_cache(maxsize=4)
def _read_latency(path: str) -> dict[str, dict[str, float]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(fh) if r and not r[0].startswith("#")]
    cols = rows[0][1:]
    return {row[0]: {c: float(v) for c, v in zip(cols, row[1:], strict=True)} for row in rows[1:]}


@functools.lru_cache(maxsize=4)
def _read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


@functools.lru_cache(maxsize=4)
def _read_pods(path: str) -> dict[str, np.ndarray]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {
        "pod": np.array([int(r["pod"]) for r in rows]),
        "gpu": np.array([float(r["gpu"]) for r in rows]),
        "cpu": np.array([float(r["cpu"]) for r in rows]),
        "mem_gb": np.array([float(r["mem_gb"]) for r in rows]),
        "duration_h": np.array([float(r["duration_h"]) for r in rows]),
        "qos": np.array([r["qos"] for r in rows]),
    }


@functools.lru_cache(maxsize=4)
def _read_node_shapes(path: str) -> tuple[tuple[str, float, float, float, int], ...]:
    with open(path, encoding="utf-8", newline="") as fh:
        return tuple(
            (r["model"], float(r["gpu"]), float(r["cpu"]), float(r["mem_gb"]), int(r["count"]))
            for r in csv.DictReader(fh)
        )


def load_facts(data_dir: str | Path | None = None) -> dict[str, Any]:
    """The cited data-centre facts (PUE presets, GPU TDPs, server power).

    Parameters
    ----------
    data_dir
        Folder holding ``datacenter_facts.json``; default :data:`DATA_DIR`.

    Returns
    -------
    dict
        The parsed JSON: ``pue``, ``gpu_tdp_kw``, ``server_power_kw`` and
        ``derived`` sections, each entry with ``value`` and its citation.
    """
    return copy.deepcopy(_read_json(str(_dir(data_dir) / "datacenter_facts.json")))


def region_zones(data_dir: str | Path | None = None) -> dict[str, str]:
    """GCP region id -> Electricity Maps zone id, for all 34 GCP regions.

    Parameters
    ----------
    data_dir
        Folder holding ``gcp_region_zones.json``; default :data:`DATA_DIR`.

    Returns
    -------
    dict[str, str]
        For example ``{"us-west2": "US-CAL-CISO", "europe-west3": "DE", ...}``.
    """
    return dict(_read_json(str(_dir(data_dir) / "gcp_region_zones.json"))["regions"])


# --------------------------------------------------------------------------
# Curves and links.
# --------------------------------------------------------------------------


def hour_of_year(when: int | str | datetime) -> int:
    """Hours from 2023-01-01T00:00Z to ``when``.

    Parameters
    ----------
    when
        An hour index (returned unchanged), an ISO 8601 date or date-time
        string (``"2023-06-05"``, ``"2023-06-05T12:00Z"``; naive means UTC) or
        a :class:`~datetime.datetime` (naive means UTC). Must fall on an hour.

    Returns
    -------
    int
        The hour index, in ``0 .. 8759`` for times in 2023.

    Raises
    ------
    ValueError
        If the time is not on a whole hour or the string does not parse.

    Examples
    --------
    >>> hour_of_year("2023-06-05"), hour_of_year(17)
    (3720, 17)
    """
    if isinstance(when, bool):
        raise TypeError("start hour must be an int, an ISO string or a datetime")
    if isinstance(when, int):
        return when
    t = datetime.fromisoformat(when) if isinstance(when, str) else when
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    seconds = (t - _YEAR_START).total_seconds()
    if seconds % 3600:
        raise ValueError(f"start time {when!r} is not on a whole hour")
    return int(seconds // 3600)


def _zone_of(key: str, data_dir: str | Path | None) -> str:
    if key in ZONES:
        return key
    zone = region_zones(data_dir).get(key)
    if zone in ZONES:
        return zone
    known = ", ".join(ZONES)
    if zone is not None:
        raise ValueError(
            f"region {key!r} maps to zone {zone!r}, which has no curves (zones: {known})"
        )
    raise ValueError(f"unknown zone or region {key!r} (zones: {known})")


def region_curves(
    zones: Iterable[str] | None = None,
    start_hour: int | str | datetime = 0,
    hours: int = 168,
    *,
    data_dir: str | Path | None = None,
) -> dict[str, dict[str, list[float]]]:
    """Hourly carbon intensity and electricity price of zones, from 2023 data.

    Parameters
    ----------
    zones
        Electricity Maps zone ids (:data:`ZONES`) or GCP region ids that map
        to one of them (``"us-west2"``); default all of :data:`ZONES`. Keys of
        the result are spelt as given.
    start_hour
        First hour: an index into 2023 (0 = 2023-01-01T00:00Z) or anything
        :func:`hour_of_year` accepts.
    hours
        Number of hours (>= 1); ``start_hour + hours`` must be <= 8760 (the
        year does not wrap around).
    data_dir
        Folder of the real-data files; default :data:`DATA_DIR`.

    Returns
    -------
    dict
        ``{zone: {"carbon": [...], "price": [...]}}`` with ``hours`` values
        each: ``carbon`` in gCO2eq/kWh (direct, never negative) and ``price``
        in USD/kWh (may be negative).

    Raises
    ------
    ValueError
        For an unknown zone or a window outside 2023.

    Examples
    --------
    >>> curves = region_curves(["DE"], "2023-06-05", 24)
    >>> len(curves["DE"]["carbon"]), len(curves["DE"]["price"])
    (24, 24)
    """
    keys = list(ZONES if zones is None else zones)
    start = hour_of_year(start_hour)
    if hours < 1:
        raise ValueError(f"hours must be >= 1, got {hours}")
    if start < 0 or start + hours > HOURS_2023:
        raise ValueError(
            f"hours {start} .. {start + hours - 1} are outside 2023 (0 .. {HOURS_2023 - 1})"
        )
    base = _dir(data_dir)
    carbon = _read_columns(str(base / "carbon_intensity_2023.csv"))
    price = _read_columns(str(base / "electricity_price_2023.csv"))
    out: dict[str, dict[str, list[float]]] = {}
    for key in keys:
        zone = _zone_of(key, data_dir)
        out[key] = {
            "carbon": list(carbon[zone][start : start + hours]),
            "price": list(price[zone][start : start + hours]),
        }
    return out


def _gcp_region(key: str, data_dir: str | Path | None) -> str:
    if key in ZONE_REGIONS:
        return ZONE_REGIONS[key]
    if key in region_zones(data_dir):
        return key
    raise ValueError(f"unknown GCP region or zone {key!r}")


def latency_links(
    regions: Sequence[str], *, data_dir: str | Path | None = None
) -> list[dict[str, Any]]:
    """Undirected latency links between regions, from the GCP latency matrix.

    Parameters
    ----------
    regions
        Distinct GCP region ids (``"us-west2"``) or zone ids of :data:`ZONES`
        (mapped through :data:`ZONE_REGIONS`). Links use the ids as given.
    data_dir
        Folder of the real-data files; default :data:`DATA_DIR`.

    Returns
    -------
    list of dict
        One ``{"a", "b", "latency_ms"}`` per pair, in the order given: a
        complete graph. The matrix is measured per direction and differs by at
        most 2 ms between directions; a link takes the larger (conservative
        for ``max_latency_ms``). Two ids of the same GCP region get the
        matrix's intra-region placeholder, 5 ms.

    Raises
    ------
    ValueError
        For an unknown or repeated id.

    Notes
    -----
    The matrix does not say whether it holds round-trip or one-way times; the
    values look like round trips. PROBLEM.md takes shortest paths over links,
    which may undercut a direct value where the matrix breaks the triangle
    inequality.

    Examples
    --------
    >>> latency_links(["us-west2", "europe-west3"])
    [{'a': 'us-west2', 'b': 'europe-west3', 'latency_ms': 151.0}]
    """
    if len(set(regions)) != len(regions):
        raise ValueError(f"regions must be distinct, got {list(regions)}")
    matrix = _read_latency(str(_dir(data_dir) / "gcp_latency_ms.csv"))
    gcp = [_gcp_region(r, data_dir) for r in regions]
    links = []
    for i, a in enumerate(regions):
        for j in range(i + 1, len(regions)):
            ga, gb = gcp[i], gcp[j]
            ms = max(matrix[ga][gb], matrix[gb][ga])
            links.append({"a": a, "b": regions[j], "latency_ms": float(ms)})
    return links


# --------------------------------------------------------------------------
# Nodes and jobs from the Alibaba trace.
# --------------------------------------------------------------------------


def _node_catalogue(
    data_dir: str | Path | None,
) -> tuple[tuple[str, float, float, float, int], ...]:
    return _read_node_shapes(str(_dir(data_dir) / "alibaba_gpu_nodes.csv"))


def trace_nodes(
    n_nodes: int,
    regions: Sequence[str],
    seed: int = 0,
    *,
    gpu_tdp_kw: Mapping[str, float] | None = None,
    idle_kw_per_gpu: float | None = None,
    cost_per_gpu_slot: float = 0.0,
    data_dir: str | Path | None = None,
) -> list[dict[str, Any]]:
    """Sample GPU nodes from the Alibaba node inventory and spread them over regions.

    Node shapes (GPU model, GPUs, vCPUs, GiB) are drawn with replacement in
    proportion to how many nodes of that shape the trace's cluster has (1,213
    GPU nodes; G2 and T4 dominate). Node ``k`` goes to ``regions[k % len]``,
    so regions differ by at most one node. Identical nodes of a region are
    merged into one entry with ``count``.

    Parameters
    ----------
    n_nodes
        Number of nodes after ``count`` expansion (>= 1).
    regions
        Problem region ids, in order.
    seed
        Seed of the shape draw.
    gpu_tdp_kw
        Overrides of the per-model GPU board power (kW), e.g.
        ``{"G2": 0.4}``; defaults come from ``datacenter_facts.json``
        (G2 and G3 are undisclosed models, assumed 0.3 kW there).
    idle_kw_per_gpu
        Idle (non-GPU) power per GPU of a node, kW; default the DGX A100
        derived value 0.4125 (an upper bound of real idle draw).
    cost_per_gpu_slot
        Cost of an active node per slot and GPU (USD); ``cost_per_slot`` is
        ``gpus * cost_per_gpu_slot``. Default 0: no cited price is shipped.
    data_dir
        Folder of the real-data files; default :data:`DATA_DIR`.

    Returns
    -------
    list of dict
        Node entries of PROBLEM.md, with ``type`` = GPU model, capacities
        ``gpu``/``cpu``/``mem_gb``, ``count``, ``idle_kw``, ``kw_per_unit``
        (``gpu`` only) and ``cost_per_slot``.
    """
    if n_nodes < 1:
        raise ValueError(f"n_nodes must be >= 1, got {n_nodes}")
    if not regions:
        raise ValueError("at least one region is needed")
    facts = load_facts(data_dir)
    tdp = {m: float(e["value"]) for m, e in facts["gpu_tdp_kw"].items()}
    tdp.update(gpu_tdp_kw or {})
    idle = (
        float(facts["derived"]["idle_kw_per_gpu"]["value"])
        if idle_kw_per_gpu is None
        else float(idle_kw_per_gpu)
    )
    shapes = _node_catalogue(data_dir)
    missing = sorted({s[0] for s in shapes} - set(tdp))
    if missing:
        raise ValueError(f"no GPU power known for model(s) {missing}; pass gpu_tdp_kw")
    weights = np.array([s[4] for s in shapes], dtype=float)
    rng = np.random.default_rng([seed, 0])
    drawn = rng.choice(len(shapes), size=n_nodes, p=weights / weights.sum())
    counts: dict[tuple[int, int], int] = {}
    for k, shape_idx in enumerate(drawn):
        key = (k % len(regions), int(shape_idx))
        counts[key] = counts.get(key, 0) + 1
    nodes = []
    for (region_idx, shape_idx), count in sorted(counts.items()):
        model, gpu, cpu, mem, _ = shapes[shape_idx]
        region = regions[region_idx]
        nodes.append({
            "id": f"{region}-{model.lower()}-{shape_idx}",
            "region": region,
            "type": model,
            "capacity": {"gpu": gpu, "cpu": cpu, "mem_gb": mem},
            "count": count,
            "idle_kw": round(gpu * idle, 6),
            "kw_per_unit": {"gpu": tdp[model]},
            "cost_per_slot": round(gpu * float(cost_per_gpu_slot), 6),
        })
    return nodes


def _pod_slots(pods: Mapping[str, np.ndarray], slots: int) -> np.ndarray:
    """Trace durations in whole one-hour slots, >= 1 and capped to the horizon."""
    return np.clip(np.ceil(pods["duration_h"]), 1, slots).astype(int)


def _fits(pods: Mapping[str, np.ndarray], nodes: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Mask of pods whose demand fits at least one of ``nodes``."""
    ok = np.zeros(len(pods["gpu"]), dtype=bool)
    for n in nodes:
        cap = n.get("capacity", {})
        ok |= np.logical_and.reduce([pods[r] <= cap.get(r, 0.0) + 1e-9 for r in RESOURCES])
    return ok


def _fit_count(demand: Mapping[str, float], nodes: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Region -> number of (expanded) nodes a replica of ``demand`` fits on."""
    out: dict[str, int] = {}
    for n in nodes:
        cap = n.get("capacity", {})
        if all(demand[r] <= cap.get(r, 0.0) + 1e-9 for r in RESOURCES):
            out[n["region"]] = out.get(n["region"], 0) + int(n.get("count", 1))
    return out


def _service_shape(
    replicas: int,
    tier_idx: int,
    fit: Mapping[str, int],
    latency: Mapping[tuple[str, str], float] | None,
) -> tuple[int, int, float | None]:
    """(replicas, min_regions, max_latency_ms) that some placement can meet.

    Tries two regions within the drawn latency tier, then looser tiers; falls
    back to one region without a latency bound, then to fewer replicas.
    """
    regions = sorted(fit)
    if latency is not None and len(regions) >= 2:
        for bound in LATENCY_TIERS_MS[tier_idx:]:
            graph = nx.Graph()
            graph.add_nodes_from(regions)
            graph.add_edges_from(
                (a, b) for i, a in enumerate(regions) for b in regions[i + 1 :]
                if latency.get((a, b), math.inf) <= bound
            )
            for clique in nx.find_cliques(graph):
                if len(clique) >= 2 and sum(fit[g] for g in clique) >= replicas:
                    return replicas, 2, bound
    total = sum(fit.values())
    return max(1, min(replicas, total)), 1, None


def trace_workload(
    n_jobs: int,
    seed: int = 0,
    *,
    slots: int = 168,
    nodes: Sequence[Mapping[str, Any]] | None = None,
    links: Sequence[Mapping[str, Any]] | None = None,
    service_fraction: float = 0.1,
    size_bias: float = 0.75,
    qos_priority: Mapping[str, int] | None = None,
    qos_slack: Mapping[str, int] | None = None,
    data_dir: str | Path | None = None,
) -> list[dict[str, Any]]:
    """Sample jobs with the shapes of Alibaba GPU pods (cluster-trace-gpu-v2023).

    The pool is the 6,203 GPU pods that were scheduled (CPU-only and
    never-scheduled pods were dropped when trimming). Each job copies one
    pod's demand per replica -- ``gpu`` (fractional for GPU-sharing pods, in
    steps of 0.001), ``cpu`` (vCPUs) and ``mem_gb`` (GiB) -- and its run time
    (deletion - creation), rounded up to whole one-hour slots, at least 1 and
    capped to the horizon.

    Batch jobs (all jobs that are not services) are drawn with probability
    proportional to ``(gpu * duration_slots) ** size_bias``. Their release is
    uniform over the slots where they still fit, their deadline is
    ``min(slots, release + duration + qos_slack[qos])`` and their priority
    is ``qos_priority[qos]``.

    Services (a ``service_fraction`` of the jobs) model replicated inference:
    a latency-sensitive pod with at most one GPU, drawn uniformly, run for the
    whole horizon (release 0, duration = deadline = ``slots``) with 2 or 3
    ``replicas`` on distinct nodes spanning ``min_regions = 2`` regions within
    ``max_latency_ms`` (a tier of :data:`LATENCY_TIERS_MS`). When ``nodes``
    and ``links`` are given, the bound is loosened (or the spread dropped)
    until some placement of the service on ``nodes`` meets it.

    Every job's ``value`` is its GPU-hours (``gpu * duration * replicas``).

    Parameters
    ----------
    n_jobs
        Number of jobs (>= 1).
    seed
        Seed of all draws; the same arguments give the same jobs.
    slots
        Horizon length in one-hour slots.
    nodes
        Node entries (as from :func:`trace_nodes`). If given, only pods whose
        demand fits at least one node are drawn, so every job is placeable on
        its own (the cluster as a whole is still over-subscribed).
    links
        Latency links (as from :func:`latency_links`) between the nodes'
        regions, used to choose feasible service latency bounds.
    service_fraction
        Share of the jobs that are replicated services, in ``[0, 1]``.
    size_bias
        Exponent of the batch-job draw: 0 draws pods uniformly (the trace's
        arrival mix, 80 % of which run under an hour); 1 draws them in
        proportion to the GPU time they occupy (what a cluster is busy with
        at a random instant). Default 0.75.
    qos_priority
        Priority tier per QoS class; default :data:`QOS_PRIORITY`.
    qos_slack
        Start slack in slots per QoS class; default :data:`QOS_SLACK`.
    data_dir
        Folder of the real-data files; default :data:`DATA_DIR`.

    Returns
    -------
    list of dict
        Job entries of PROBLEM.md, ids ``job0007-pod1234`` (batch) and
        ``svc0003-pod0042`` (service), naming the trace pod each copies.

    Raises
    ------
    ValueError
        For bad arguments, or if no trace pod fits any of ``nodes``.
    """
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be >= 1, got {n_jobs}")
    if slots < 1:
        raise ValueError(f"slots must be >= 1, got {slots}")
    if not 0.0 <= service_fraction <= 1.0:
        raise ValueError(f"service_fraction must be in [0, 1], got {service_fraction}")
    if size_bias < 0:
        raise ValueError(f"size_bias must be >= 0, got {size_bias}")
    priority = dict(QOS_PRIORITY if qos_priority is None else qos_priority)
    slack = dict(QOS_SLACK if qos_slack is None else qos_slack)

    pods = _read_pods(str(_dir(data_dir) / "alibaba_gpu_pods.csv"))
    dur = _pod_slots(pods, slots)
    usable = _fits(pods, nodes) if nodes is not None else np.ones(len(dur), dtype=bool)
    if not usable.any():
        raise ValueError("no trace pod fits any of the given nodes")
    batch_w = np.where(usable, (pods["gpu"] * dur) ** size_bias, 0.0)
    svc_pool = np.flatnonzero(usable & (pods["qos"] == "LS") & (pods["gpu"] <= 1.0))

    latency: dict[tuple[str, str], float] | None = None
    if links is not None:
        latency = {}
        for link in links:
            a, b, ms = link["a"], link["b"], float(link["latency_ms"])
            for key in ((a, b), (b, a)):
                latency[key] = min(ms, latency.get(key, math.inf))

    rng = np.random.default_rng([seed, 1])
    n_services = round(service_fraction * n_jobs) if len(svc_pool) else 0
    is_service = np.zeros(n_jobs, dtype=bool)
    is_service[rng.choice(n_jobs, size=n_services, replace=False)] = True
    batch_picks = rng.choice(len(dur), size=n_jobs, p=batch_w / batch_w.sum())
    jobs: list[dict[str, Any]] = []
    for k in range(n_jobs):
        if is_service[k]:
            i = int(svc_pool[rng.integers(len(svc_pool))])
        else:
            i = int(batch_picks[k])
        qos = str(pods["qos"][i])
        demand = {r: float(pods[r][i]) for r in RESOURCES}
        job: dict[str, Any] = {"id": "", "demand": demand}
        if is_service[k]:
            replicas = int(rng.integers(2, 4))
            tier = int(rng.integers(len(LATENCY_TIERS_MS)))
            min_regions, bound = 2, LATENCY_TIERS_MS[tier]
            if nodes is not None:
                fit = _fit_count(demand, nodes)
                replicas, min_regions, bound = _service_shape(replicas, tier, fit, latency)
            job["id"] = f"svc{k:04d}-pod{int(pods['pod'][i]):04d}"
            job.update(duration=slots, release=0, deadline=slots)
            if replicas > 1:
                job["replicas"] = replicas
            if min_regions > 1:
                job["min_regions"] = min_regions
            if bound is not None and min_regions > 1:
                job["max_latency_ms"] = bound
        else:
            d = int(dur[i])
            release = int(rng.integers(0, slots - d + 1))
            job["id"] = f"job{k:04d}-pod{int(pods['pod'][i]):04d}"
            job.update(
                duration=d,
                release=release,
                deadline=min(slots, release + d + int(slack.get(qos, 0))),
            )
            replicas = 1
        job["priority"] = int(priority.get(qos, 0))
        job["value"] = round(demand["gpu"] * job["duration"] * replicas, 3)
        jobs.append(job)
    return jobs


# --------------------------------------------------------------------------
# Whole problems.
# --------------------------------------------------------------------------


def gpu_load(problem: Mapping[str, Any]) -> float:
    """Demanded over available GPU-slots of a problem dict.

    Parameters
    ----------
    problem
        A problem dict in the PROBLEM.md format.

    Returns
    -------
    float
        ``sum(gpu * duration * replicas over jobs) / sum(gpu capacity *
        count * slots over nodes)``; above 1 the cluster is over-subscribed
        on GPUs (time windows can make it tighter still).
    """
    slots = problem["horizon"]["slots"]
    demand = sum(
        j.get("demand", {}).get("gpu", 0.0) * j["duration"] * j.get("replicas", 1)
        for j in problem["jobs"]
    )
    cap = sum(
        n.get("capacity", {}).get("gpu", 0.0) * n.get("count", 1) * slots
        for n in problem["nodes"]
    )
    return demand / cap if cap else math.inf


def _nodes_for_load(
    n_jobs: int, slots: int, n_regions: int, load: float, service_fraction: float,
    size_bias: float, data_dir: str | Path | None,
) -> int:
    """Node count whose GPU-slots are the expected demand divided by ``load``."""
    pods = _read_pods(str(_dir(data_dir) / "alibaba_gpu_pods.csv"))
    dur = _pod_slots(pods, slots)
    gpu_slots = pods["gpu"] * dur
    w = gpu_slots**size_bias
    batch = float((w * gpu_slots).sum() / w.sum())
    svc = pods["gpu"][(pods["qos"] == "LS") & (pods["gpu"] <= 1.0)]
    service = float(svc.mean()) * slots * 2.5 if len(svc) else 0.0  # 2 or 3 replicas
    n_services = round(service_fraction * n_jobs)
    demand = (n_jobs - n_services) * batch + n_services * service
    shapes = _node_catalogue(data_dir)
    gpus_per_node = sum(s[1] * s[4] for s in shapes) / sum(s[4] for s in shapes)
    return max(n_regions, math.ceil(demand / (load * gpus_per_node * slots)))


def generate_from_trace(
    n_jobs: int = 200,
    n_nodes: int | None = None,
    zones: Sequence[str] | None = None,
    start_hour: int | str | datetime = _DEFAULT_START,
    slots: int = 168,
    seed: int = 0,
    *,
    load: float = 1.3,
    service_fraction: float = 0.1,
    size_bias: float = 0.75,
    pue: str | float | Mapping[str, float] = "google",
    power_cap_fraction: float | None = None,
    cost_per_gpu_slot: float = 0.0,
    carbon_price_per_kg: float = 0.0,
    gpu_tdp_kw: Mapping[str, float] | None = None,
    idle_kw_per_gpu: float | None = None,
    name: str | None = None,
    data_dir: str | Path | None = None,
) -> dict[str, Any]:
    """A complete problem dict (PROBLEM.md v1) built from real data.

    Regions are the GCP regions of ``zones`` (:data:`ZONE_REGIONS`) with the
    zones' hourly 2023 carbon intensity and price from ``start_hour`` on,
    PUE from the cited facts and a complete latency graph from the GCP
    matrix. Nodes are drawn from the Alibaba GPU node inventory
    (:func:`trace_nodes`) and jobs from its pod trace
    (:func:`trace_workload`), so that every job fits some node on its own
    while the cluster as a whole is over-subscribed by about ``load``.

    The result is deterministic for fixed arguments, and the CLI command
    ``allocopt generate --from-trace`` maps its options onto these
    parameters.

    Parameters
    ----------
    n_jobs
        Number of jobs (>= 1). Default 200.
    n_nodes
        Number of nodes after ``count`` expansion, spread round-robin over
        the regions. Default ``None``: as many as make the expected GPU
        demand ``load`` times the GPU capacity (at least one per region).
    zones
        Electricity Maps zones, any of :data:`ZONES` (default: all 8, i.e.
        US-CAL-CISO, US-MIDA-PJM, US-TEX-ERCO, CA-ON, DE, GB, SG, AU-NSW).
    start_hour
        Slot 0: hour index into 2023 (0 = 2023-01-01T00:00Z) or an ISO
        string / datetime in UTC. Default 3720 = Monday 2023-06-05T00:00Z.
    slots
        Horizon length in one-hour slots; ``start_hour + slots <= 8760``.
        Default 168 (one week).
    seed
        Seed of the node and job draws.
    load
        Target over-subscription used when ``n_nodes`` is ``None`` (> 0):
        expected demanded GPU-slots / available GPU-slots. The realised
        value, :func:`gpu_load`, is written into ``description``.
    service_fraction
        Share of jobs that are replicated inference services.
    size_bias
        How strongly batch jobs are drawn by GPU time, see
        :func:`trace_workload`.
    pue
        A preset of ``datacenter_facts.json`` (``"google"`` 1.10, ``"aws"``
        1.15, ``"microsoft"`` 1.18, ``"meta"`` 1.08, ``"colocation"`` 1.42,
        ``"industry"`` 1.58), one number for all regions, or a mapping from
        zone to PUE. Default ``"google"``: the regions are GCP regions.
    power_cap_fraction
        If given (> 0), each region's ``power_cap_kw`` is this fraction of
        its peak facility power: PUE * sum over its nodes of
        ``count * (idle_kw + gpu TDP * gpus)``. Default ``None``: no caps.
        Active nodes draw ``idle_kw`` in every slot, and with the default
        power figures idle is about 60 % (8-GPU nodes) to 85 % (T4 nodes) of
        peak, so fractions below that leave some nodes unusable.
    cost_per_gpu_slot
        Node cost per GPU and slot, USD (``cost_per_slot`` of a node is its
        GPUs times this). Default 0.
    carbon_price_per_kg
        ``objective.carbon_price_per_kg`` in USD/kgCO2. Default 0.
    gpu_tdp_kw
        Per-model overrides of the GPU power, kW (see :func:`trace_nodes`).
    idle_kw_per_gpu
        Idle power per GPU, kW (see :func:`trace_nodes`).
    name
        Problem name; default ``realdata-<zones>z-<jobs>j-<slots>h-s<seed>``.
    data_dir
        Folder of the real-data files; default :data:`DATA_DIR`.

    Returns
    -------
    dict
        ``name``, ``description``, ``horizon`` (``slot_hours`` 1.0),
        ``resources`` (gpu, cpu, mem_gb), ``regions``, ``links``, ``nodes``,
        ``jobs`` and ``objective`` (lexicographic); ready for
        :meth:`allocopt.problem.Problem.from_dict`.

    Raises
    ------
    ValueError
        For unknown zones, a window outside 2023 or bad sizes.

    Examples
    --------
    >>> data = generate_from_trace(n_jobs=30, zones=["US-CAL-CISO", "US-TEX-ERCO"], slots=48)
    >>> data["horizon"], len(data["regions"][0]["price_per_kwh"])
    ({'slots': 48, 'slot_hours': 1.0}, 48)
    """
    zone_list = list(ZONES if zones is None else zones)
    if not zone_list:
        raise ValueError("at least one zone is needed")
    for z in zone_list:
        if z not in ZONES:
            raise ValueError(f"unknown zone {z!r} (zones: {', '.join(ZONES)})")
    if len(set(zone_list)) != len(zone_list):
        raise ValueError(f"zones must be distinct, got {zone_list}")
    if load <= 0:
        raise ValueError(f"load must be > 0, got {load}")
    start = hour_of_year(start_hour)
    curves = region_curves(zone_list, start, slots, data_dir=data_dir)
    regions = [ZONE_REGIONS[z] for z in zone_list]

    facts = load_facts(data_dir)
    if isinstance(pue, str):
        if pue not in facts["pue"]:
            raise ValueError(f"unknown PUE preset {pue!r} (presets: {', '.join(facts['pue'])})")
        pues = {z: float(facts["pue"][pue]["value"]) for z in zone_list}
    elif isinstance(pue, Mapping):
        absent = [z for z in zone_list if z not in pue]
        if absent:
            raise ValueError(f"pue mapping has no value for zone(s) {absent}")
        pues = {z: float(pue[z]) for z in zone_list}
    else:
        pues = {z: float(pue) for z in zone_list}

    if n_nodes is None:
        n_nodes = _nodes_for_load(
            n_jobs, slots, len(regions), load, service_fraction, size_bias, data_dir
        )
    links = latency_links(regions, data_dir=data_dir)
    nodes = trace_nodes(
        n_nodes, regions, seed, gpu_tdp_kw=gpu_tdp_kw, idle_kw_per_gpu=idle_kw_per_gpu,
        cost_per_gpu_slot=cost_per_gpu_slot, data_dir=data_dir,
    )
    jobs = trace_workload(
        n_jobs, seed, slots=slots, nodes=nodes, links=links,
        service_fraction=service_fraction, size_bias=size_bias, data_dir=data_dir,
    )

    region_entries = []
    for z, g in zip(zone_list, regions, strict=True):
        entry: dict[str, Any] = {
            "id": g,
            "pue": pues[z],
            "price_per_kwh": curves[z]["price"],
            "carbon_g_per_kwh": curves[z]["carbon"],
        }
        if power_cap_fraction is not None:
            if power_cap_fraction <= 0:
                raise ValueError(f"power_cap_fraction must be > 0, got {power_cap_fraction}")
            peak = sum(
                n["count"] * (n["idle_kw"] + n["kw_per_unit"]["gpu"] * n["capacity"]["gpu"])
                for n in nodes if n["region"] == g
            )
            entry["power_cap_kw"] = round(power_cap_fraction * pues[z] * peak, 3)
        region_entries.append(entry)

    problem: dict[str, Any] = {
        "name": name or f"realdata-{len(zone_list)}z-{n_jobs}j-{slots}h-s{seed}",
        "description": "",
        "horizon": {"slots": slots, "slot_hours": 1.0},
        "resources": list(RESOURCES),
        "regions": region_entries,
        "links": links,
        "nodes": nodes,
        "jobs": jobs,
        "objective": {"mode": "lexicographic", "carbon_price_per_kg": float(carbon_price_per_kg)},
    }
    mapping = ", ".join(f"{g}={z}" for z, g in zip(zone_list, regions, strict=True))
    problem["description"] = (
        f"Generated by allocopt.benchmarks.realdata.generate_from_trace(n_jobs={n_jobs}, "
        f"n_nodes={n_nodes}, seed={seed}, size_bias={size_bias}, "
        f"service_fraction={service_fraction}). Slot 0 = {_label(start)} (UTC), 1-hour slots. "
        f"Regions (GCP region = Electricity Maps zone): {mapping}. Prices in USD/kWh at fixed "
        f"2023 FX (Federal Reserve G.5A); carbon in direct gCO2eq/kWh; PUE {pue!r}. "
        f"GPU load {gpu_load(problem):.2f}. {_ATTRIBUTION}"
    )
    return problem


def _label(hour: int) -> str:
    return datetime.fromtimestamp(_YEAR_START.timestamp() + 3600 * hour, UTC).strftime(
        "%Y-%m-%dT%H:%MZ"
    )


def write_problem(path: str | Path, **kwargs: Any) -> dict[str, Any]:
    """Generate a problem with :func:`generate_from_trace`, validate it, and write it.

    Parameters
    ----------
    path
        Output file; ``.yaml``/``.yml`` writes YAML, anything else JSON.
    **kwargs
        Passed on to :func:`generate_from_trace`.

    Returns
    -------
    dict
        The problem dict that was written.

    Raises
    ------
    allocopt.errors.ProblemError
        If the generated problem does not validate (a bug; nothing is written).
    """
    from allocopt.problem import Problem  # runtime import: keep module import light

    data = generate_from_trace(**kwargs)
    Problem.from_dict(data)
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)
    else:
        text = json.dumps(data, indent=1) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return data
