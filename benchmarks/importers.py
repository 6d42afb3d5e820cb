"""Importers of classic benchmark instances with known optima.

Three published benchmark formats are converted, at run time, into problem
dicts of the allocation format (PROBLEM.md v1), so that the solver can be
checked against proven optima:

- ``"bpplib"``: BPPLIB one-dimensional bin packing (``n``, ``c``, ``n``
  weights) -> :func:`import_bpplib`;
- ``"vbp"``: VPSolver ``.vbp`` vector bin packing (Mommessin et al. 2024)
  -> :func:`import_vbp`;
- ``"psplib"``: PSPLIB single-mode RCPSP ``.sm`` (j30 and friends)
  -> :func:`import_psplib`.

:func:`known_optimum` reads the published optimum from the CSV that sits
beside the source folder, and :func:`objective_from_plan` turns a plan's
metrics back into the classic objective (bins used, makespan). The exact
mappings are documented on each importer and in ``benchmarks/IMPORTERS.md``.

The instance files are licensed restrictively (BPPLIB is CC BY-NC-ND 4.0,
PSPLIB states no license): they are only ever *read* from a path the user
gives and converted in memory; nothing here copies them into the repository.

Examples
--------
>>> import tempfile, pathlib
>>> from allocopt.problem import Problem
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = pathlib.Path(tmp) / "toy.txt"
...     _ = path.write_text("3\\n10\\n6\\n5\\n4\\n")
...     data = import_file("bpplib", path)
>>> data["nodes"][0]["count"], [j["id"] for j in data["jobs"]]
(2, ['1', '2', '3'])
>>> Problem.from_dict(data).name
'toy'
"""

from __future__ import annotations

import csv
import functools
import io
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from allocopt.errors import ProblemError
from allocopt.problem import MAX_JOBS, MAX_RESOURCES, MAX_SLOTS, Problem

__all__ = [
    "KINDS",
    "MAX_FILE_BYTES",
    "import_bpplib",
    "import_file",
    "import_psplib",
    "import_vbp",
    "known_optimum",
    "objective_from_plan",
]

#: The instance kinds understood by :func:`import_file`.
KINDS = ("bpplib", "vbp", "psplib")

#: Files larger than this are refused before they are read (50 MB).
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Largest integer accepted for a weight, size, capacity, duration or horizon.
MAX_NUMBER = 10**12
#: Most activities accepted in a PSPLIB file (PSPLIB's largest set, j120, has 122).
MAX_PSPLIB_JOBS = 100_000

#: Ids of the single region and node that every imported problem uses.
REGION_ID = "region"
BIN_NODE_ID = "bin"
PROJECT_NODE_ID = "project"

PathLike = str | os.PathLike[str]


# --------------------------------------------------------------------------
# Reading and tokenising
# --------------------------------------------------------------------------


def _read_text(path: PathLike) -> tuple[Path, str]:
    """The file's text, after the size guard; undecodable bytes are an error."""
    p = Path(path)
    size = p.stat().st_size  # FileNotFoundError for a missing file, as open() would
    if size > MAX_FILE_BYTES:
        raise ValueError(
            f"{p}: file is {size} bytes, more than the {MAX_FILE_BYTES} bytes accepted"
        )
    raw = p.read_bytes()
    try:
        return p, raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{p}: not a text file ({e.reason} at byte {e.start})") from None


def _tokens(text: str) -> Iterator[tuple[str, int]]:
    """Whitespace-separated tokens with their 1-based line numbers."""
    for lineno, line in enumerate(text.splitlines(), start=1):
        for tok in line.split():
            yield tok, lineno


class _TokenReader:
    """Reads integers from a token stream; errors name the file and line."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self._it = _tokens(text)
        self.lineno = 0

    def fail(self, msg: str, lineno: int | None = None) -> ValueError:
        line = self.lineno if lineno is None else lineno
        return ValueError(f"{self.path}: line {line}: {msg}")

    def read_int(self, what: str, lo: int = 0, hi: int = MAX_NUMBER) -> int:
        try:
            tok, self.lineno = next(self._it)
        except StopIteration:
            raise ValueError(
                f"{self.path}: unexpected end of file after line {self.lineno}: "
                f"expected {what}"
            ) from None
        value = _parse_int(tok)
        if value is None:
            raise self.fail(f"{what}: expected an integer, got {tok!r}")
        if value < lo:
            raise self.fail(f"{what} must be >= {lo}, got {value}")
        if value > hi:
            raise self.fail(f"{what} must be <= {hi}, got {value}")
        return value

    def expect_end(self) -> None:
        for tok, lineno in self._it:
            raise self.fail(f"unexpected extra data {tok!r} after the last item", lineno)


def _parse_int(tok: str) -> int | None:
    if re.fullmatch(r"[+-]?\d{1,30}", tok) is None:
        return None
    return int(tok)


# --------------------------------------------------------------------------
# Bin packing (1-D and vector)
# --------------------------------------------------------------------------


def _ffd_bins(sizes: np.ndarray, capacity: np.ndarray) -> int:
    """Number of bins that first-fit decreasing uses (an upper bound on OPT).

    Items are taken by decreasing ``sum_k size[k] / capacity[k]`` (for one
    dimension: by decreasing weight) and put into the first open bin where
    they fit in every dimension, else into a new bin. Every item must fit an
    empty bin. ``O(n * bins * d)``, vectorised over bins.
    """
    num_items, dims = sizes.shape
    if num_items == 0:
        return 0
    scale = np.where(capacity > 0, capacity, 1).astype(float)
    key = (sizes / scale).sum(axis=1)
    order = np.argsort(-key, kind="stable")
    loads = np.zeros((num_items, dims), dtype=np.int64)
    used = 0
    for i in order:
        fits = np.all(loads[:used] + sizes[i] <= capacity, axis=1)
        k = int(np.argmax(fits)) if used and fits.any() else used
        loads[k] += sizes[i]
        used = max(used, k + 1)
    return used


def _bin_packing_problem(
    path: Path,
    source: str,
    resources: list[str],
    capacity: list[int],
    items: list[tuple[str, list[int]]],
) -> dict[str, Any]:
    """The common bin packing mapping; ``items`` are ``(job id, sizes)``."""
    sizes = np.array([s for _, s in items], dtype=np.int64).reshape(len(items), len(resources))
    cap = np.array(capacity, dtype=np.int64)
    num_bins = max(1, _ffd_bins(sizes, cap))
    jobs = [
        {
            "id": job_id,
            "demand": dict(zip(resources, s, strict=True)),
            "duration": 1,
            "required": True,
        }
        for job_id, s in items
    ]
    caps = ", ".join(f"{r}={c}" for r, c in zip(resources, capacity, strict=True))
    description = (
        f"{source} instance {path.name!r} ({len(items)} items, bin capacity {caps}), "
        "converted by allocopt.benchmarks.importers: one slot, one job per item (required, "
        f"duration 1, demand = item size), node {BIN_NODE_ID!r} x {num_bins} "
        "(first-fit-decreasing upper bound on the bins needed) with cost_per_slot 1, "
        "so the plan's node_cost = number of bins used."
    )
    data = {
        "name": path.stem[:256],
        "description": description,
        "horizon": {"slots": 1},
        "resources": resources,
        "regions": [{"id": REGION_ID}],
        "nodes": [
            {
                "id": BIN_NODE_ID,
                "region": REGION_ID,
                "capacity": dict(zip(resources, capacity, strict=True)),
                "count": num_bins,
                "cost_per_slot": 1.0,
            }
        ],
        "jobs": jobs,
        "objective": {"mode": "lexicographic"},
    }
    return _checked(path, data)


def import_bpplib(path: PathLike) -> dict[str, Any]:
    """Convert a BPPLIB one-dimensional bin packing instance to a problem dict.

    The file holds whitespace-separated integers: the number of items ``n``,
    the bin capacity ``c``, then ``n`` weights (CRLF line ends are fine).

    Mapping:

    - ``horizon: {slots: 1}``, one resource ``"size"``, one region
      ``"region"``;
    - one job per item, in file order, with id ``str(i)`` for the 1-based
      item index ``i`` (so ``"1" .. "n"``; equal weights stay distinct
      jobs), ``demand: {"size": w_i}``, ``duration: 1``, ``required: true``;
    - ONE node entry ``"bin"`` with ``capacity: {"size": c}``,
      ``cost_per_slot: 1.0`` and ``count`` = the number of bins first-fit
      decreasing uses (an upper bound on the optimum, so an optimal packing
      always exists among the nodes; plans name them ``"bin#0"`` ..);
    - lexicographic objective: every job is required, so what is left to
      minimise is ``cost = node_cost = cost_per_slot * H * active nodes``,
      i.e. the number of bins used.

    Parameters
    ----------
    path
        The instance file (read only; never copied).

    Returns
    -------
    dict
        A problem dict that :meth:`allocopt.problem.Problem.from_dict`
        accepts, named after the file stem.

    Raises
    ------
    ValueError
        If the file is larger than :data:`MAX_FILE_BYTES`, malformed (the
        message names the file and line), declares an absurd count, or has
        an item heavier than the bin capacity.
    """
    p, text = _read_text(path)
    rd = _TokenReader(p, text)
    n = rd.read_int("number of items n", lo=1, hi=MAX_JOBS)
    c = rd.read_int("bin capacity c", lo=1)
    items: list[tuple[str, list[int]]] = []
    for i in range(1, n + 1):
        w = rd.read_int(f"weight of item {i} of {n}")
        if w > c:
            raise rd.fail(f"item {i} has weight {w}, more than the bin capacity {c}")
        items.append((str(i), [w]))
    rd.expect_end()
    return _bin_packing_problem(p, "BPPLIB 1-D bin packing", ["size"], [c], items)


def import_vbp(path: PathLike) -> dict[str, Any]:
    """Convert a VPSolver ``.vbp`` vector bin packing instance to a problem dict.

    The file holds whitespace-separated integers: the dimension ``d``, the
    bin capacities ``W_1 .. W_d``, the number of item types ``m``, then ``m``
    rows ``w_1 .. w_d q`` (sizes, then multiplicity ``q``).

    Mapping: as :func:`import_bpplib`, with ``d`` resources ``"r1" .. "rd"``
    (dimension ``k`` is ``"rk"``), node capacity ``W`` per dimension and the
    first-fit-decreasing bin count (items by decreasing ``sum_k w_k / W_k``)
    as ``count``. Job ids: item type ``i`` (1-based row in file order) with
    ``q = 1`` is job ``str(i)`` (so ``"1" .. "m"`` when every ``q`` is 1, as
    in the Mommessin et al. files); with ``q > 1`` its copies are
    ``"i.1" .. "i.q"``; ``q = 0`` gives no job.

    Parameters
    ----------
    path
        The instance file (read only; never copied).

    Returns
    -------
    dict
        A problem dict that :meth:`allocopt.problem.Problem.from_dict`
        accepts, named after the file stem.

    Raises
    ------
    ValueError
        If the file is larger than :data:`MAX_FILE_BYTES`, malformed (the
        message names the file and line), has a negative size (the format's
        demands are >= 0; some Caprara triplet files have them), declares an
        absurd count, or has an item that does not fit an empty bin.
    """
    p, text = _read_text(path)
    rd = _TokenReader(p, text)
    d = rd.read_int("number of dimensions d", lo=1, hi=MAX_RESOURCES)
    resources = [f"r{k}" for k in range(1, d + 1)]
    capacity = [rd.read_int(f"bin capacity W_{k}") for k in range(1, d + 1)]
    m = rd.read_int("number of item types m", lo=1, hi=MAX_JOBS)
    items: list[tuple[str, list[int]]] = []
    for i in range(1, m + 1):
        sizes = [
            rd.read_int(f"item {i}: size in dimension {k} ({resources[k - 1]})", lo=-MAX_NUMBER)
            for k in range(1, d + 1)
        ]
        for k, (w, cap) in enumerate(zip(sizes, capacity, strict=True), start=1):
            if w < 0:
                raise rd.fail(
                    f"item {i} has negative size {w} in dimension {k} (r{k}); "
                    "the allocation format needs demands >= 0"
                )
            if w > cap:
                raise rd.fail(
                    f"item {i} has size {w} in dimension {k} (r{k}), "
                    f"more than the bin capacity {cap}"
                )
        q = rd.read_int(f"item {i}: multiplicity q", hi=MAX_JOBS)
        if len(items) + q > MAX_JOBS:
            raise rd.fail(f"more than {MAX_JOBS} items in total")
        if q == 1:
            items.append((str(i), sizes))
        else:
            items.extend((f"{i}.{k}", sizes) for k in range(1, q + 1))
    rd.expect_end()
    if not items:
        raise ValueError(f"{p}: no items (every multiplicity is 0)")
    return _bin_packing_problem(p, f"{d}-dimensional vector bin packing (.vbp)",
                                resources, capacity, items)


# --------------------------------------------------------------------------
# PSPLIB RCPSP (.sm)
# --------------------------------------------------------------------------


def _header_int(p: Path, lines: list[str], pattern: str, what: str) -> int:
    """The integer after the colon of the first line matching ``pattern``."""
    rx = re.compile(pattern, re.IGNORECASE)
    for lineno, line in enumerate(lines, start=1):
        if rx.match(line):
            m = re.search(r":\s*([+-]?\d+)", line)
            if m is None:
                raise ValueError(f"{p}: line {lineno}: {what}: expected ': <integer>'")
            return int(m.group(1))
    raise ValueError(f"{p}: no {what!r} line in the header")


def _section(p: Path, lines: list[str], title: str) -> list[tuple[int, list[int]]]:
    """Numeric rows of a ``TITLE:`` block, as ``(line number, integers)``.

    Non-numeric lines before the first row (column headers, dashes) are
    skipped; the block ends at a line of ``*`` or at the end of the file.
    """
    start = next((k for k, line in enumerate(lines) if line.strip().upper().startswith(title)),
                 None)
    if start is None:
        raise ValueError(f"{p}: no {title!r} section")
    rows: list[tuple[int, list[int]]] = []
    for k in range(start + 1, len(lines)):
        line = lines[k].strip()
        if line.startswith("*"):
            break
        if not line or set(line) <= {"-"}:
            continue
        toks = line.split()
        ints = [_parse_int(t) for t in toks]
        if all(v is not None for v in ints):
            rows.append((k + 1, [int(v) for v in ints if v is not None]))
        elif rows or _parse_int(toks[0]) is not None:
            raise ValueError(f"{p}: line {k + 1}: {title} row must be integers, got {line!r}")
    return rows


def import_psplib(path: PathLike) -> dict[str, Any]:
    """Convert a PSPLIB single-mode RCPSP instance (``.sm``) to a problem dict.

    Mapping (activities are PSPLIB "jobs" ``1 .. n``; ``1`` is the dummy
    source and ``n`` the dummy sink, both of duration 0):

    - ONE node ``"project"`` in region ``"region"`` whose capacity is the
      renewable availabilities, resources ``"R1" .. "Rk"`` (``k`` from the
      ``renewable`` header line);
    - every activity of duration >= 1 becomes a job with id ``str(jobnr)``,
      its duration, ``demand: {"R1": .., .., "Rk": ..}`` (all ``k`` columns,
      zeros included) and ``required: true``;
    - the allocation format has no zero-duration jobs, so every activity of
      duration 0 *other than the sink* (the source ``"1"``, and any other
      zero-duration dummy) is dropped and contracted: its predecessors become
      predecessors of its successors. With finish-to-start, zero-lag
      precedence this keeps every schedule's makespan;
    - ``after`` of job ``j`` = the activities whose successor list names
      ``j`` (through contracted dummies), as ids sorted by number;
    - the sink ``str(n)`` is kept with ``duration: 1``, no demand,
      ``due: 1`` and ``tardiness_penalty: 1.0``; its ``after`` is its
      predecessors plus every job without a successor (PSPLIB files have
      none, but it guarantees that the sink starts after every job ends);
    - ``horizon.slots = max(horizon, sum of durations) + 1``: the file's
      ``horizon`` (the sum of durations in PSPLIB) is an upper bound on the
      makespan, and the extra slot holds the sink.

    Every job is required, so the lexicographic objective minimises ``cost``,
    which is only the sink's tardiness ``max(0, end(sink) - 1) = start(sink)``.
    In a cost-optimal plan the sink starts when the last activity ends, so
    **makespan = cost** (exactly, with no offset); in any valid plan,
    ``cost`` >= the schedule's makespan (:func:`objective_from_plan`).

    Parameters
    ----------
    path
        The ``.sm`` file (read only; never copied).

    Returns
    -------
    dict
        A problem dict that :meth:`allocopt.problem.Problem.from_dict`
        accepts, named after the file stem.

    Raises
    ------
    ValueError
        If the file is larger than :data:`MAX_FILE_BYTES` or malformed (the
        message names the file and line): missing header or section, a count
        that does not match, several modes, nonrenewable resources, a
        precedence cycle, a last activity that is not a zero-duration sink,
        or an activity that demands more than a resource's capacity.
    """
    p, text = _read_text(path)
    lines = text.splitlines()

    projects = _header_int(p, lines, r"\s*projects\b", "projects")
    if projects != 1:
        raise ValueError(f"{p}: {projects} projects in one file; only 1 is supported")
    n = _header_int(p, lines, r"\s*jobs\b", "jobs (incl. supersource/sink)")
    if not 2 <= n <= MAX_PSPLIB_JOBS:
        raise ValueError(f"{p}: jobs must be between 2 and {MAX_PSPLIB_JOBS}, got {n}")
    horizon = _header_int(p, lines, r"\s*horizon\b", "horizon")
    if not 0 <= horizon <= MAX_NUMBER:
        raise ValueError(f"{p}: horizon must be between 0 and {MAX_NUMBER}, got {horizon}")
    k = _header_int(p, lines, r"\s*-\s*renewable\b", "renewable")
    if not 0 <= k <= MAX_RESOURCES:
        raise ValueError(f"{p}: renewable must be between 0 and {MAX_RESOURCES}, got {k}")
    for pattern, what in ((r"\s*-\s*nonrenewable\b", "nonrenewable"),
                          (r"\s*-\s*doubly\b", "doubly constrained")):
        try:
            extra = _header_int(p, lines, pattern, what)
        except ValueError:
            extra = 0  # absent line: none of that kind
        if extra != 0:
            raise ValueError(f"{p}: {extra} {what} resources; only renewable ones are supported")
    resources = [f"R{r}" for r in range(1, k + 1)]

    # PRECEDENCE RELATIONS: jobnr #modes #successors successors...
    succ: dict[int, list[int]] = {}
    for lineno, row in _section(p, lines, "PRECEDENCE RELATIONS:"):
        where = f"{p}: line {lineno}"
        if len(row) < 3:
            raise ValueError(f"{where}: expected 'jobnr #modes #successors successors...'")
        j, modes, num_succ, rest = row[0], row[1], row[2], row[3:]
        if not 1 <= j <= n:
            raise ValueError(f"{where}: job number {j} is outside 1..{n}")
        if j in succ:
            raise ValueError(f"{where}: job {j} is listed twice in PRECEDENCE RELATIONS")
        if modes != 1:
            raise ValueError(f"{where}: job {j} has {modes} modes; only single-mode is supported")
        if num_succ != len(rest):
            raise ValueError(f"{where}: job {j} declares {num_succ} successors, lists {len(rest)}")
        for s in rest:
            if not 1 <= s <= n or s == j:
                raise ValueError(f"{where}: job {j} has invalid successor {s} (jobs are 1..{n})")
        succ[j] = rest
    if len(succ) != n:
        missing = sorted(set(range(1, n + 1)) - set(succ))
        raise ValueError(f"{p}: PRECEDENCE RELATIONS lacks jobs {missing[:10]} (expected {n})")

    # REQUESTS/DURATIONS: jobnr mode duration R1 .. Rk
    duration: dict[int, int] = {}
    demand: dict[int, list[int]] = {}
    req_line: dict[int, int] = {}
    for lineno, row in _section(p, lines, "REQUESTS/DURATIONS:"):
        where = f"{p}: line {lineno}"
        if len(row) != 3 + k:
            raise ValueError(f"{where}: expected 'jobnr mode duration' and {k} requests, "
                             f"got {len(row)} numbers")
        j, mode, dur, req = row[0], row[1], row[2], row[3:]
        if not 1 <= j <= n:
            raise ValueError(f"{where}: job number {j} is outside 1..{n}")
        if j in duration:
            raise ValueError(f"{where}: job {j} is listed twice in REQUESTS/DURATIONS")
        if mode != 1:
            raise ValueError(f"{where}: job {j} has mode {mode}; only single-mode is supported")
        if not 0 <= dur <= MAX_NUMBER:
            raise ValueError(f"{where}: job {j}: duration must be between 0 and {MAX_NUMBER}")
        if any(not 0 <= q <= MAX_NUMBER for q in req):
            raise ValueError(f"{where}: job {j}: requests must be between 0 and {MAX_NUMBER}")
        duration[j], demand[j], req_line[j] = dur, req, lineno
    if len(duration) != n:
        missing = sorted(set(range(1, n + 1)) - set(duration))
        raise ValueError(f"{p}: REQUESTS/DURATIONS lacks jobs {missing[:10]} (expected {n})")

    # RESOURCEAVAILABILITIES: one row of k capacities.
    avail_rows = _section(p, lines, "RESOURCEAVAILABILITIES:")
    if len(avail_rows) != 1 or len(avail_rows[0][1]) != k:
        raise ValueError(f"{p}: RESOURCEAVAILABILITIES must be one row of {k} integers")
    avail_line, capacity = avail_rows[0]
    if any(not 0 <= c <= MAX_NUMBER for c in capacity):
        raise ValueError(f"{p}: line {avail_line}: capacities must be between 0 and {MAX_NUMBER}")

    sink = n
    if duration[sink] != 0 or succ[sink]:
        raise ValueError(f"{p}: line {req_line[sink]}: the last job {sink} must be the dummy "
                         "sink (duration 0, no successors)")
    for j in range(1, n + 1):
        if duration[j] == 0:
            continue  # takes no time, so its requests never bind
        for r, (q, c) in enumerate(zip(demand[j], capacity, strict=True), start=1):
            if q > c:
                raise ValueError(f"{p}: line {req_line[j]}: job {j} requests {q} of R{r}, "
                                 f"more than its capacity {c}")

    # Topological order (Kahn), so that contraction is one pass and cycles are named.
    preds: dict[int, list[int]] = {j: [] for j in range(1, n + 1)}
    for j, ss in succ.items():
        for s in ss:
            preds[s].append(j)
    indeg = {j: len(set(preds[j])) for j in preds}
    ready = [j for j in range(1, n + 1) if indeg[j] == 0]
    order: list[int] = []
    while ready:
        j = ready.pop()
        order.append(j)
        for s in set(succ[j]):
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    if len(order) != n:
        cyclic = sorted(j for j in indeg if indeg[j] > 0)
        raise ValueError(f"{p}: precedence relations form a cycle through jobs {cyclic[:10]}")

    kept = {j for j in range(1, n + 1) if duration[j] > 0 or j == sink}
    # through[j]: the kept activities that must end before anything after j starts
    # (j itself if kept, else those of its predecessors: the contraction).
    through: dict[int, frozenset[int]] = {}
    after: dict[int, set[int]] = {}
    for j in order:
        before: set[int] = set()
        for q in preds[j]:
            before |= through[q]
        after[j] = before
        through[j] = frozenset({j}) if j in kept else frozenset(before)
    has_successor = {q for j in kept for q in after[j]}
    after[sink] |= {j for j in kept if j != sink and j not in has_successor}

    total = sum(duration.values())
    slots = max(horizon, total) + 1
    if slots > MAX_SLOTS:
        raise ValueError(f"{p}: horizon {slots - 1} needs {slots} slots, more than {MAX_SLOTS}")

    jobs: list[dict[str, Any]] = []
    for j in range(1, n + 1):
        if j not in kept:
            continue
        job: dict[str, Any] = {"id": str(j)}
        if j == sink:
            # cost = max(0, end - due) = start(sink): the makespan in an optimal plan.
            job.update(duration=1, due=1, tardiness_penalty=1.0)
        else:
            job.update(demand=dict(zip(resources, demand[j], strict=True)),
                       duration=duration[j])
        job["required"] = True
        job["after"] = [str(q) for q in sorted(after[j])]
        jobs.append(job)

    dropped = sorted(set(range(1, n + 1)) - kept)
    description = (
        f"PSPLIB single-mode RCPSP instance {p.name!r} ({n} activities incl. dummies, "
        f"{k} renewable resources, horizon {horizon}), converted by allocopt.benchmarks.importers: "
        f"one node {PROJECT_NODE_ID!r} with the resource availabilities as capacity, "
        f"activities as required jobs with precedence; zero-duration activities "
        f"{dropped} dropped (their predecessors passed on to their successors); the sink "
        f"{str(sink)!r} has duration 1, due 1 and tardiness_penalty 1, so the plan's "
        "cost = start of the sink = makespan."
    )
    data = {
        "name": p.stem[:256],
        "description": description,
        "horizon": {"slots": slots},
        "resources": resources,
        "regions": [{"id": REGION_ID}],
        "nodes": [
            {
                "id": PROJECT_NODE_ID,
                "region": REGION_ID,
                "capacity": dict(zip(resources, capacity, strict=True)),
            }
        ],
        "jobs": jobs,
        "objective": {"mode": "lexicographic"},
    }
    return _checked(p, data)


# --------------------------------------------------------------------------
# Dispatch and validation
# --------------------------------------------------------------------------


def _checked(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` after :meth:`Problem.from_dict` accepted it (a guard on the importer)."""
    try:
        Problem.from_dict(data)
    except ProblemError as e:
        raise ValueError(f"{path}: the converted problem is invalid: {'; '.join(e.errors)}") from e
    return data


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown instance kind {kind!r} (kinds are {', '.join(KINDS)})")


def import_file(kind: str, path: PathLike) -> dict[str, Any]:
    """Convert a benchmark instance of the given ``kind`` to a problem dict.

    Parameters
    ----------
    kind
        ``"bpplib"`` (:func:`import_bpplib`), ``"vbp"`` (:func:`import_vbp`)
        or ``"psplib"`` (:func:`import_psplib`).
    path
        The instance file.

    Returns
    -------
    dict
        A problem dict accepted by :meth:`allocopt.problem.Problem.from_dict`.

    Raises
    ------
    ValueError
        For an unknown ``kind`` or a malformed or oversized file (the message
        names the file and, where there is one, the line).
    """
    _check_kind(kind)
    importer = {"bpplib": import_bpplib, "vbp": import_vbp, "psplib": import_psplib}[kind]
    return importer(path)


def objective_from_plan(kind: str, plan_metrics_dict: Mapping[str, Any]) -> float:
    """The classic objective of a plan for an imported instance.

    - ``"bpplib"`` / ``"vbp"``: number of bins used = ``node_cost`` (every
      bin costs ``cost_per_slot * H = 1 * 1``).
    - ``"psplib"``: makespan = ``cost`` (the sink's tardiness
      ``max(0, end(sink) - 1)`` = the sink's start). This is exact for any
      plan whose sink starts as soon as its predecessors end, which every
      cost-optimal plan does; otherwise it is an upper bound on the
      schedule's makespan.

    Parameters
    ----------
    kind
        One of :data:`KINDS`.
    plan_metrics_dict
        A plan's ``metrics`` (PLAN.md); a whole plan dict with a
        ``"metrics"`` key is accepted too.

    Returns
    -------
    float
        Bins used, or makespan in slots.

    Raises
    ------
    ValueError
        For an unknown ``kind``, a missing or non-finite metric, or a plan
        that leaves jobs unplaced (all jobs are required, so such a plan has
        no classic objective value).
    """
    _check_kind(kind)
    metrics = plan_metrics_dict
    if "metrics" in metrics and isinstance(metrics["metrics"], Mapping):
        metrics = metrics["metrics"]
    unplaced = metrics.get("unplaced_jobs", 0)
    if isinstance(unplaced, (int, float)) and unplaced > 0:
        raise ValueError(f"the plan leaves {unplaced} job(s) unplaced; all jobs of a "
                         f"{kind} instance are required, so it has no {kind} objective")
    key = "cost" if kind == "psplib" else "node_cost"
    value = metrics.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"plan metrics: {key!r} must be a finite number, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------
# Published optima
# --------------------------------------------------------------------------


def _ancestors(path: Path) -> Iterator[Path]:
    """The instance's folder, then each parent up to the root."""
    yield from path.resolve().parents


@functools.lru_cache(maxsize=64)
def _read_table(csv_path: str, mtime_ns: int, delimiter: str) -> tuple[dict[str, str], ...]:
    """Rows of a CSV/TSV with a header line, as dicts (cached per file version)."""
    del mtime_ns  # part of the cache key only
    p = Path(csv_path)
    if p.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{p}: more than {MAX_FILE_BYTES} bytes")
    text = p.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    return tuple({k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader)


def _table(csv_path: Path, delimiter: str) -> tuple[dict[str, str], ...]:
    return _read_table(str(csv_path), csv_path.stat().st_mtime_ns, delimiter)


def _number(csv_path: Path, row: dict[str, str], column: str) -> float:
    try:
        value = float(row[column])
    except (KeyError, ValueError):
        raise ValueError(f"{csv_path}: row {row}: column {column!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{csv_path}: row {row}: column {column!r} is not finite")
    return value


@functools.lru_cache(maxsize=16)
def _bpplib_index(
    csv_path: str, mtime_ns: int
) -> tuple[dict[str, list[dict[str, str]]], dict[str, list[dict[str, str]]]]:
    """``optimal_values.csv`` rows by resolved instance path and by instance name."""
    table = Path(csv_path)
    by_path: dict[str, list[dict[str, str]]] = {}
    by_name: dict[str, list[dict[str, str]]] = {}
    for row in _read_table(csv_path, mtime_ns, ","):
        if row.get("path"):
            by_path.setdefault(str((table.parent / row["path"]).resolve()), []).append(row)
        by_name.setdefault(row.get("instance", ""), []).append(row)
    return by_path, by_name


def _bpplib_optimum(path: Path) -> float | None:
    target = str(path.resolve())
    for folder in _ancestors(path):
        table = folder / "optimal_values.csv"
        if table.is_file():
            by_path, by_name = _bpplib_index(str(table), table.stat().st_mtime_ns)
            hits = by_path.get(target, [])
            if not hits:  # moved file: fall back on the instance name
                hits = by_name.get(path.stem, [])
            if len(hits) == 1:
                row = hits[0]
                lb, ub = _number(table, row, "lb"), _number(table, row, "ub")
                return ub if lb == ub else None  # "open": only bounds are known
        bounds = folder / "bounds_all_BPPLIB_instances.tsv"
        if bounds.is_file():
            text = bounds.read_text(encoding="utf-8")
            for lineno, line in enumerate(text.splitlines(), start=1):
                parts = line.split("\t")
                if parts and parts[0].strip() == path.stem:
                    if len(parts) != 3:
                        raise ValueError(f"{bounds}: line {lineno}: expected name, lb, ub")
                    try:
                        lb, ub = float(parts[1]), float(parts[2])
                    except ValueError:
                        raise ValueError(f"{bounds}: line {lineno}: lb/ub not numbers") from None
                    return ub if lb == ub else None
    return None


def _vbp_optimum(path: Path) -> float | None:
    target = path.resolve()
    for folder in _ancestors(path):
        tables = sorted(folder.glob("*_summary_known.csv"))
        if not tables:
            continue
        top = target.relative_to(folder).parts[0]
        # Instance names repeat across sets (class1_20_3_0 is in New and in
        # Panigrahy): prefer the table named like the set's folder,
        # "<Set>_instances_multidim" -> "<Set>_summary_known.csv".
        own = [t for t in tables
               if top.startswith(t.name[: -len("_summary_known.csv")] + "_instances")]
        values = set()
        for table in own or tables:
            for row in _table(table, "\t"):
                if row.get("instance_name") == path.stem:
                    values.add(_number(table, row, "OPT"))
        if len(values) == 1:
            value = values.pop()
            return value if value >= 0 else None  # OPT = -1: optimum unknown
        if len(values) > 1:
            return None  # ambiguous: the name is in several tables with different optima
    return None


def _psplib_optimum(path: Path) -> float | None:
    for folder in _ancestors(path):
        tables = sorted(folder.glob("*optimum*.csv"))
        nested = folder / "optimum" / "optimum.csv"  # kobe-rcpsp's own layout
        if nested.is_file():
            tables.append(nested)
        for table in tables:
            for row in _table(table, ","):
                if row.get("problem") in (path.name, path.stem):
                    return _number(table, row, "optimum")
    return None


def known_optimum(kind: str, path: PathLike) -> float | None:
    """The published optimum of an instance file, or ``None`` if none is known.

    The table is looked up beside the source folder: starting at the
    instance's folder and walking up the directory tree, the first table
    that lists the instance answers.

    - ``"bpplib"``: ``optimal_values.csv`` (row whose ``path``, relative to
      the CSV, is this file, else whose ``instance`` is the file stem); the
      optimum is ``ub`` when ``lb == ub``, ``None`` for ``open`` rows. Falls
      back on ``bounds_all_BPPLIB_instances.tsv`` (``name, lb, ub``).
    - ``"vbp"``: ``<Set>_summary_known.csv`` (TAB-separated) for an instance
      under ``<Set>_instances_multidim/``; ``instance_name`` = file stem;
      ``OPT = -1`` (unknown) gives ``None``.
    - ``"psplib"``: ``*optimum*.csv`` (e.g. ``j30_optimum.csv``, columns
      ``problem,optimum``) with ``problem`` = file name or stem.

    Parameters
    ----------
    kind
        One of :data:`KINDS`.
    path
        The instance file.

    Returns
    -------
    float or None
        Bins (bin packing) or makespan (RCPSP).

    Raises
    ------
    ValueError
        For an unknown ``kind`` or an unreadable table.
    """
    _check_kind(kind)
    p = Path(path)
    if kind == "bpplib":
        return _bpplib_optimum(p)
    if kind == "vbp":
        return _vbp_optimum(p)
    return _psplib_optimum(p)
