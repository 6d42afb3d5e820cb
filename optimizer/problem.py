"""The problem data model (PROBLEM.md v1): frozen, validated records.

Every record is a frozen pydantic model with unknown keys forbidden. Parsing
goes object by object, so that *all* errors are collected and reported at once
in one :class:`~allocopt.errors.ProblemError`, each naming the object and the
field, e.g. ``job 'a': after names unknown job 'b'``.

Use :func:`Problem.from_dict` (or :func:`allocopt.formats.load_problem` for
files, or the :class:`allocopt.model.Model` builder) to construct problems;
they run the cross-object checks that a single record cannot do (unknown
references, series lengths, duplicate ids, precedence cycles).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from .errors import ProblemError

# Size limits for untrusted input (checked before any heavy work).
MAX_SLOTS = 100_000
MAX_JOBS = 200_000
MAX_NODES = 200_000  # after count expansion
MAX_REGIONS = 10_000
MAX_REPLICAS = 10_000
MAX_RESOURCES = 64

# The numeric policy (PROBLEM.md, "Numbers"): every number is finite and
# within these magnitudes, so every metric of every accepted problem is a
# finite float (the worst case, all limits at once, stays below 1e100), and
# every integer is exact in a float and in int64 arithmetic.
#: Largest magnitude of any real number in a problem.
MAX_NUMBER = 1e12
#: Largest integer (slots, priorities, counts): 2**53, exact as a float.
MAX_INT = 2**53

Int = Annotated[int, Strict(), Field(ge=-MAX_INT, le=MAX_INT)]
NonNegInt = Annotated[int, Strict(), Field(ge=0, le=MAX_INT)]
PosInt = Annotated[int, Strict(), Field(ge=1, le=MAX_INT)]
Float = Annotated[float, Strict(), Field(ge=-MAX_NUMBER, le=MAX_NUMBER)]
NonNeg = Annotated[float, Strict(), Field(ge=0, le=MAX_NUMBER)]
Series = Float | tuple[Float, ...]
NonNegSeries = NonNeg | tuple[NonNeg, ...]
#: Ids and names: 1..256 characters, no control characters (they would be
#: printed raw to a terminal).
NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*$"
Name = Annotated[str, Strict(), Field(min_length=1, max_length=256, pattern=NO_CONTROL)]


class _Record(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, populate_by_name=True
    )


class Horizon(_Record):
    """``horizon: {slots: H, slot_hours: h}``: slots ``0 .. H-1`` of ``h`` hours."""

    slots: Annotated[int, Strict(), Field(ge=1, le=MAX_SLOTS)]
    slot_hours: Annotated[float, Strict(), Field(gt=0, le=MAX_NUMBER)] = 1.0


class Region(_Record):
    """A grid region: PUE, price and carbon curves, power cap, energy budget."""

    id: Name
    pue: Annotated[float, Strict(), Field(ge=1.0, le=MAX_NUMBER)] = 1.0
    # Wholesale electricity prices do go negative (e.g. DE-LU in 2023), so a
    # negative price is accepted; every other number in the format is >= 0.
    price_per_kwh: Series = 0.0
    carbon_g_per_kwh: NonNegSeries = 0.0
    power_cap_kw: NonNegSeries | None = None
    energy_budget_kwh: NonNeg | None = None


class Link(_Record):
    """An undirected latency edge between two regions."""

    a: Name
    b: Name
    latency_ms: NonNeg


class Node(_Record):
    """A node (or ``count`` identical nodes named ``"<id>#<k>"``)."""

    id: Name
    region: Name
    type: Name = "default"
    capacity: dict[str, NonNeg] = Field(default_factory=dict)
    count: Annotated[int, Strict(), Field(ge=1, le=MAX_NODES)] = 1
    idle_kw: NonNeg = 0.0
    kw_per_unit: dict[str, NonNeg] = Field(default_factory=dict)
    cost_per_slot: NonNeg = 0.0
    unavailable: tuple[tuple[NonNegInt, NonNegInt], ...] = ()

    @property
    def names(self) -> list[str]:
        """Expanded node names as plans use them."""
        if self.count == 1:
            return [self.id]
        return [f"{self.id}#{k}" for k in range(self.count)]


class Running(_Record):
    """``running: {since, nodes}``: a job that started at slot ``since`` (<= 0)
    on these nodes, one per replica (PROBLEM.md, Re-planning)."""

    since: Int
    nodes: tuple[Name, ...]


class Planned(_Record):
    """``planned: {start, nodes}``: where the previous plan put a job that has
    not started (PROBLEM.md, Re-planning)."""

    start: NonNegInt
    nodes: tuple[Name, ...]


class Job(_Record):
    """A job: demand per replica, time window, priority, replication needs."""

    id: Name
    demand: dict[str, NonNeg] = Field(default_factory=dict)
    duration: PosInt
    release: NonNegInt = 0
    deadline: NonNegInt | None = None
    due: NonNegInt | None = None
    tardiness_penalty: NonNeg = 0.0
    priority: NonNegInt = 0
    value: NonNeg = 1.0
    required: Annotated[bool, Strict()] = False
    replicas: Annotated[int, Strict(), Field(ge=1, le=MAX_REPLICAS)] = 1
    min_regions: PosInt = 1
    max_per_region: PosInt | None = None
    max_latency_ms: NonNeg | None = None
    regions: tuple[Name, ...] | None = None
    node_types: tuple[Name, ...] | None = None
    after: tuple[Name, ...] = ()
    power_kw: NonNeg | None = None
    running: Running | None = None
    planned: Planned | None = None
    move_cost: NonNeg | None = None


class Objective(_Record):
    """``objective: {mode, carbon_price_per_kg, move_cost}``.

    ``carbon`` (an extension of the shared spec, docs/PROBLEM.md): the tiers
    as in ``lexicographic``, then minimise ``carbon_kg``, then ``cost``.

    ``stability_tier`` (an extension, docs/PROBLEM.md, Re-planning): moves
    rank right below this tier: the tiers from the highest down to it, then
    the least ``move_cost``, then the lower tiers, then ``cost``.
    """

    mode: Literal["lexicographic", "weighted", "carbon"] = "lexicographic"
    carbon_price_per_kg: NonNeg = 0.0
    move_cost: NonNeg = 0.0
    stability_tier: NonNegInt | None = None


class Problem(_Record):
    """A complete, validated allocation problem.

    Build one with :meth:`from_dict`, :func:`allocopt.load_problem` or the
    :class:`allocopt.Model` builder; all of them run :func:`check_problem`.

    Examples
    --------
    >>> p = Problem.from_dict({
    ...     "horizon": {"slots": 4}, "resources": ["gpu"],
    ...     "regions": [{"id": "eu"}],
    ...     "nodes": [{"id": "n", "region": "eu", "capacity": {"gpu": 8}}],
    ...     "jobs": [{"id": "a", "demand": {"gpu": 4}, "duration": 2}]})
    >>> p.jobs[0].deadline is None, p.horizon.slots
    (True, 4)
    """

    name: Annotated[str, Strict(), Field(max_length=256, pattern=NO_CONTROL)] = "problem"
    description: Annotated[str, Strict(), Field(max_length=10_000)] = ""
    horizon: Horizon
    resources: tuple[Name, ...] = ()
    regions: tuple[Region, ...]
    links: tuple[Link, ...] = ()
    nodes: tuple[Node, ...]
    jobs: tuple[Job, ...]
    objective: Objective = Field(default_factory=Objective)

    @classmethod
    def from_dict(cls, data: Any) -> Problem:
        """Parse and check a problem given as plain data (JSON/YAML structure).

        Raises
        ------
        ProblemError
            With every structural and cross-reference error found.
        """
        return parse_problem(data)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; defaults are omitted to keep files short."""
        return self.model_dump(mode="json", exclude_defaults=True)

    def replace(self, **changes: Any) -> Problem:
        """A new, validated problem with some top-level fields replaced."""
        data = self.model_dump(mode="python")
        for key, val in changes.items():
            if isinstance(val, BaseModel):
                val = val.model_dump(mode="python")
            elif isinstance(val, (list, tuple)):
                val = [v.model_dump(mode="python") if isinstance(v, BaseModel) else v for v in val]
            data[key] = val
        return parse_problem(_tuples_to_lists(data))

    @property
    def H(self) -> int:  # noqa: N802 - the spec's symbol
        """Number of slots in the horizon."""
        return self.horizon.slots

    def node_names(self) -> list[str]:
        """All expanded node names, in file order."""
        return [name for n in self.nodes for name in n.names]

    def latencies(self) -> dict[str, dict[str, float]]:
        """Region-to-region latency (ms): shortest paths over ``links``.

        A region to itself is 0; regions with no path between them are
        ``math.inf`` apart (PROBLEM.md, Regions).
        """
        graph = nx.Graph()
        graph.add_nodes_from(r.id for r in self.regions)
        for link in self.links:
            if link.a == link.b:
                continue
            w = link.latency_ms
            if graph.has_edge(link.a, link.b):
                w = min(w, graph[link.a][link.b]["weight"])
            graph.add_edge(link.a, link.b, weight=w)
        dist = dict(nx.all_pairs_dijkstra_path_length(graph, weight="weight"))
        return {
            a: {b: (0.0 if a == b else float(dist[a].get(b, math.inf))) for b in graph}
            for a in graph
        }

    @property
    def tiers(self) -> list[int]:
        """Priority tiers present, highest first."""
        return sorted({j.priority for j in self.jobs}, reverse=True)


def _tuples_to_lists(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _tuples_to_lists(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_tuples_to_lists(v) for v in obj]
    return obj


# --------------------------------------------------------------------------
# Parsing: object by object, collecting every error.
# --------------------------------------------------------------------------

_TOP_KEYS = {
    "name", "description", "horizon", "resources", "regions", "links", "nodes",
    "jobs", "objective",
}
_REQUIRED_TOP = ("horizon", "regions", "nodes", "jobs")
_TYPE_TAGS = {"float", "int", "str", "bool", "none", "tuple", "list", "dict"}


def _describe(kind: str, raw: Any, pos: int) -> str:
    if isinstance(raw, Mapping) and isinstance(raw.get("id"), str):
        return f"{kind} {raw['id']!r}"
    return f"{kind} #{pos}"


def _format_errors(where: str, err: ValidationError) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    errs = err.errors()
    # A union field (a number or a series) reports one error per branch: when
    # a branch got the right type but a bad value, the other branches' type
    # errors are noise.
    valued = {e["loc"][:1] for e in errs if not e["type"].endswith("_type")}
    for e in errs:
        if e["type"].endswith("_type") and e["loc"][:1] in valued:
            continue
        loc = [p for p in e["loc"] if not (isinstance(p, str) and (
            "[" in p or p in _TYPE_TAGS or p.startswith("constrained-")))]
        field = ".".join(str(p) for p in loc) if loc else ""
        etype = e["type"]
        if etype == "extra_forbidden":
            msg = f"{where}: unknown key {field!r}"
        elif etype == "missing":
            msg = f"{where}: missing required field {field!r}"
        else:
            got = e.get("input")
            got_txt = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
            if len(got_txt) > 60:
                got_txt = got_txt[:57] + "..."
            text = ("must not contain control characters" if etype == "string_pattern_mismatch"
                    else e["msg"].lower())
            msg = f"{where}: {field or 'value'}: {text} (got {got_txt})"
        key = f"{where}:{loc[:1]}:{etype}" if etype not in ("extra_forbidden", "missing") else msg
        if key in seen:
            continue
        seen.add(key)
        out.append(msg)
    return out


def _parse_list(kind: str, cls: type[_Record], raw: Any, errors: list[str],
                limit: int) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.append(f"{kind}s: must be a list, got {type(raw).__name__}")
        return []
    if len(raw) > limit:
        errors.append(f"{kind}s: {len(raw)} entries exceed the limit of {limit}")
        return []
    out = []
    for pos, item in enumerate(raw):
        where = _describe(kind, item, pos)
        if not isinstance(item, Mapping):
            errors.append(f"{where}: must be an object, got {type(item).__name__}")
            continue
        try:
            out.append(cls.model_validate(item))
        except ValidationError as e:
            errors.extend(_format_errors(where, e))
            # Keep what did parse, so the cross-object checks still report
            # this object's other errors (duplicate id, unknown references).
            # No Problem is built once there are errors, so it is only checked.
            partial = _partial_record(cls, item, e)
            if partial is not None:
                out.append(partial)
    return out


#: Stand-ins for required numeric fields that failed to parse; they take
#: part in no cross-object check.
_PLACEHOLDERS = {"duration": 1, "latency_ms": 0.0}


def _partial_record(cls: type[_Record], item: Mapping, err: ValidationError) -> Any:
    """``item`` without its failing fields, or None if that cannot parse either."""
    bad = {e["loc"][0] for e in err.errors() if e["loc"]}
    data = {k: v for k, v in item.items() if k not in bad}
    data.update({k: v for k, v in _PLACEHOLDERS.items() if k in bad and k in cls.model_fields})
    try:
        return cls.model_validate(data)
    except ValidationError:
        return None


def parse_problem(data: Any) -> Problem:
    """Parse plain data into a :class:`Problem`, reporting every error at once.

    Raises
    ------
    ProblemError
        Listing every structural and semantic error found.
    """
    errors: list[str] = []
    if not isinstance(data, Mapping):
        raise ProblemError([f"problem: must be an object, got {type(data).__name__}"])
    for key in data:
        if key not in _TOP_KEYS:
            errors.append(f"problem: unknown key {key!r} (keys are {', '.join(sorted(_TOP_KEYS))})")
    for key in _REQUIRED_TOP:
        if key not in data:
            errors.append(f"problem: missing required field {key!r}")

    top: dict[str, Any] = {}
    for key, cls in (("horizon", Horizon), ("objective", Objective)):
        if key in data:
            raw = data[key]
            if not isinstance(raw, Mapping):
                errors.append(f"{key}: must be an object, got {type(raw).__name__}")
                continue
            try:
                top[key] = cls.model_validate(raw)
            except ValidationError as e:
                errors.extend(_format_errors(key, e))
    for key in ("name", "description"):
        if key in data:
            if not isinstance(data[key], str):
                errors.append(f"problem: {key} must be a string")
            else:
                errors.extend(_check_text(key, data[key]))
                top[key] = data[key]
    resources = data.get("resources", [])
    if not isinstance(resources, list) or not all(isinstance(r, str) and r for r in resources):
        errors.append("resources: must be a list of non-empty names")
        resources = []
    elif any(_check_text("resource", r) for r in resources):
        errors.extend(m for r in resources for m in _check_text("resources", r))
        resources = []
    elif len(resources) > MAX_RESOURCES:
        errors.append(f"resources: {len(resources)} names exceed the limit of {MAX_RESOURCES}")
        resources = []

    regions = _parse_list("region", Region, data.get("regions"), errors, MAX_REGIONS)
    links = _parse_list("link", Link, data.get("links"), errors, MAX_REGIONS**2)
    nodes = _parse_list("node", Node, data.get("nodes"), errors, MAX_NODES)
    jobs = _parse_list("job", Job, data.get("jobs"), errors, MAX_JOBS)

    horizon = top.get("horizon")
    H = horizon.slots if horizon else _raw_slots(data.get("horizon"))
    errors.extend(
        check_references(
            H, resources, regions, links, nodes, jobs,
            known_regions=_raw_ids(data.get("regions")),
            known_jobs=_raw_ids(data.get("jobs")),
        )
    )
    if H is not None and any(j.running is not None or j.planned is not None for j in jobs):
        from .state import check_state  # re-planning state (PROBLEM.md, Re-planning)

        errors.extend(check_state(H, horizon.slot_hours if horizon else 1.0, regions, nodes, jobs))
    objective = top.get("objective")
    if objective is not None and objective.stability_tier is not None and objective.mode == "weighted":
        errors.append("objective.stability_tier: ranks moves among the tiers, which the "
                      "weighted mode does not have (use lexicographic or carbon mode, or drop it)")
    if errors:
        raise ProblemError(errors)
    return Problem.model_construct(
        name=top.get("name", "problem"),
        description=top.get("description", ""),
        horizon=horizon,
        resources=tuple(resources),
        regions=tuple(regions),
        links=tuple(links),
        nodes=tuple(nodes),
        jobs=tuple(jobs),
        objective=top.get("objective", Objective()),
    )


#: Longest text per top-level string field (the JSON Schema's maxLength).
_MAX_TEXT = {"name": 256, "description": 10_000, "resource": 256, "resources": 256}


def _check_text(key: str, text: str) -> list[str]:
    """Length and control-character checks of a string parsed outside pydantic."""
    out = []
    if len(text) > _MAX_TEXT[key]:
        out.append(f"problem: {key}: {len(text)} characters exceed the limit of {_MAX_TEXT[key]}")
    allowed = "\n\t\r" if key == "description" else ""
    if any((ord(c) < 32 or 127 <= ord(c) < 160) and c not in allowed for c in text):
        out.append(f"problem: {key}: must not contain control characters (got {text[:40]!r})")
    return out


def _raw_ids(raw: Any) -> set[str]:
    """Ids of objects that may have failed to parse: they still exist."""
    if not isinstance(raw, list):
        return set()
    return {x["id"] for x in raw if isinstance(x, Mapping) and isinstance(x.get("id"), str)}


def _raw_slots(raw: Any) -> int | None:
    if isinstance(raw, Mapping) and type(raw.get("slots")) is int and raw["slots"] >= 1:
        return int(raw["slots"])
    return None


def _dupes(kind: str, ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for i in ids:
        if i in seen:
            out.append(f"{kind} {i!r}: duplicate id")
        seen.add(i)
    return out


def check_references(
    H: int | None,
    resources: list[str],
    regions: list[Region],
    links: list[Link],
    nodes: list[Node],
    jobs: list[Job],
    known_regions: set[str] | None = None,
    known_jobs: set[str] | None = None,
) -> list[str]:
    """Cross-object checks of PROBLEM.md; returns one message per error.

    ``known_regions`` / ``known_jobs`` add ids of objects that exist in the
    input but failed to parse, so they are not reported a second time as
    unknown references.
    """
    errors: list[str] = []
    res_set = set(resources)
    res_txt = ", ".join(resources) if resources else "none declared"
    errors += [f"resources: {m.split(':')[0].split(' ', 1)[1]} is listed twice"
               for m in _dupes("resource", resources)]
    errors += _dupes("region", (r.id for r in regions))
    errors += _dupes("node", (n.id for n in nodes))
    errors += _dupes("job", (j.id for j in jobs))
    region_ids = {r.id for r in regions} | (known_regions or set())

    if not regions:
        errors.append("regions: at least one region is needed")

    def series(where: str, field: str, val: Any) -> None:
        if H is not None and isinstance(val, tuple) and len(val) != H:
            errors.append(
                f"{where}: {field} has {len(val)} entries, horizon has {H} slots"
            )

    for r in regions:
        for field in ("price_per_kwh", "carbon_g_per_kwh", "power_cap_kw"):
            series(f"region {r.id!r}", field, getattr(r, field))
    for link in links:
        for end in (link.a, link.b):
            if end not in region_ids:
                errors.append(f"link {link.a!r}-{link.b!r}: names unknown region {end!r}")

    total = 0
    names: dict[str, str] = {}
    for n in nodes:
        where = f"node {n.id!r}"
        if n.region not in region_ids:
            errors.append(f"{where}: region names unknown region {n.region!r}")
        for field in ("capacity", "kw_per_unit"):
            for res in getattr(n, field):
                if res not in res_set:
                    errors.append(f"{where}: {field}: unknown resource {res!r} (resources are {res_txt})")
        for k, (a, b) in enumerate(n.unavailable):
            if a >= b:
                errors.append(f"{where}: unavailable[{k}]: window [{a}, {b}) is empty (start must be < end)")
        total += n.count
        if n.count > 1:
            for name in n.names:
                if name in names:
                    errors.append(f"{where}: expanded name {name!r} clashes with node {names[name]!r}")
                names[name] = n.id
        else:
            if n.id in names and names[n.id] != n.id:
                errors.append(f"{where}: id clashes with an expanded name of node {names[n.id]!r}")
            names[n.id] = n.id
    if total > MAX_NODES:
        errors.append(f"nodes: {total} nodes after count expansion exceed the limit of {MAX_NODES}")
    if not nodes:
        errors.append("nodes: at least one node is needed")

    job_ids = {j.id for j in jobs} | (known_jobs or set())
    graph = nx.DiGraph()
    for j in jobs:
        where = f"job {j.id!r}"
        for res in j.demand:
            if res not in res_set:
                errors.append(f"{where}: demand: unknown resource {res!r} (resources are {res_txt})")
        for g in j.regions or ():
            if g not in region_ids:
                errors.append(f"{where}: regions names unknown region {g!r}")
        for p in j.after:
            if p not in job_ids:
                errors.append(f"{where}: after names unknown job {p!r}")
            else:
                graph.add_edge(p, j.id)
    for comp in nx.strongly_connected_components(graph):
        if len(comp) > 1 or any(graph.has_edge(c, c) for c in comp):
            start = min(comp)
            cycle = nx.find_cycle(graph.subgraph(comp), source=start)
            ids = [u for u, _ in cycle] + [cycle[0][0]]
            errors.append(f"jobs {' -> '.join(repr(i) for i in ids)} form a cycle")
    return errors
