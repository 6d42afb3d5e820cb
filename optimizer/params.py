"""Solver parameters as data: a frozen record with defaults, loadable from TOML."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ProblemError

_TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number"}


@dataclass(frozen=True)
class SolveParams:
    """Parameters of :func:`allocopt.solve`.

    Attributes
    ----------
    time_limit
        Wall-clock seconds for the whole solve, model building included.
    seed
        Random seed passed to the solver (and to randomised baselines).
    workers
        Solver threads, 1..64. With ``workers=1`` and a fixed seed a run is
        deterministic when no time limit cuts it short (a stage that proves
        optimality); a stage stopped by the time limit returns whatever it
        had found by then, which can differ from run to run.
    tier_share
        Share of the remaining time given to each tier stage (the rest of
        the budget flows to later stages when a stage proves early).
    max_model_terms
        Largest estimated model (variables plus constraint terms) built in
        one piece; bigger problems are improved by neighbourhoods of the
        greedy plan (large-neighbourhood search) instead.
    lns_jobs
        Jobs freed per neighbourhood in large-neighbourhood search.
    lns_max_terms
        Largest neighbourhood model (estimated terms); a neighbourhood above
        it is halved until it fits. Building a model cannot be interrupted,
        so this keeps each round short next to the time limit.
    symmetry
        Break symmetry between identical nodes (``count`` copies).
    parts
        Parts of the POP-style decomposition (:mod:`allocopt.decompose`)
        for ``cpsat``: 0 (default) chooses from the model size estimate (one
        part, i.e. no decomposition, while it fits ``max_model_terms``), 1
        turns it off, K >= 2 forces K parts.
    engine, ray_address
        Where the parts run: ``local`` (process pool) or ``ray``; the Ray
        cluster to join (empty: start a local Ray).
    log
        Print the solver's search log.
    bound_worker
        Compute a packing-aware cost bound on HiGHS in a background thread
        while the search runs (``allocopt.formulations.bound_worker``; needs the
        ``highs`` extra) and merge it into the plan's bound.
    """

    time_limit: float = 30.0
    seed: int = 0
    workers: int = 1
    tier_share: float = 0.5
    max_model_terms: int = 400_000
    lns_jobs: int = 120
    lns_max_terms: int = 100_000
    symmetry: bool = True
    parts: int = 0
    engine: str = "local"
    ray_address: str = ""
    log: bool = False
    bound_worker: bool = True
    #: Raw CP-SAT parameters (``[cpsat]`` table of the TOML file), as
    #: ``(name, value)`` pairs, e.g. ``(("linearization_level", 2),)``.
    cpsat_options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> SolveParams:
        """Read ``[solve]`` (or top-level) keys from a TOML file."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ProblemError([f"params file {str(path)!r}: {e}"]) from None
        raw = data.get("cpsat", {})
        data = dict(data.get("solve", {k: v for k, v in data.items() if k != "cpsat"}))
        names = {f.name for f in dataclasses.fields(cls)} - {"cpsat_options"}
        errors = [f"params file {str(path)!r}: unknown key {k!r}" for k in data if k not in names]
        errors += _check_cpsat_options(str(path), raw)
        data["cpsat_options"] = tuple(sorted(raw.items())) if isinstance(raw, dict) else ()
        if errors:
            raise ProblemError(errors)
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**data).checked()

    def checked(self) -> SolveParams:
        """Raise :class:`ProblemError` for out-of-range values."""
        errors = []
        for f in dataclasses.fields(self):
            if f.name == "cpsat_options":
                continue
            # A TOML file can hold any type: check before comparing numbers.
            val, want = getattr(self, f.name), type(f.default)
            number = (int, float) if want is float else want
            ok = isinstance(val, bool) if want is bool else (
                not isinstance(val, bool) and isinstance(val, number))
            if not ok:
                errors.append(f"{f.name} must be {_TYPE_WORDS[want]}, got {val!r}")
        if errors:
            raise ProblemError(errors)
        if not (0 < self.time_limit <= MAX_TIME_LIMIT and math.isfinite(self.time_limit)):
            errors.append(f"time_limit must be > 0 and <= {MAX_TIME_LIMIT:g} seconds, "
                          f"got {self.time_limit}")
        for name, lo, hi in _INT_RANGES:
            val = getattr(self, name)
            if not lo <= val <= hi:
                errors.append(f"{name} must be in {lo}..{hi}, got {val}")
        if not 0 < self.tier_share <= 1:
            errors.append(f"tier_share must be in (0, 1], got {self.tier_share}")
        if self.engine not in ("local", "ray"):
            errors.append(f"engine must be 'local' or 'ray', got {self.engine!r}")
        if errors:
            raise ProblemError(errors)
        return self


#: Longest time limit accepted (one week): a larger one is a typo.
MAX_TIME_LIMIT = 7 * 24 * 3600.0
#: Largest worker count: more threads than this only add overhead (and at
#: 100,000 CP-SAT rejects the model as invalid).
MAX_WORKERS = 64
#: (field, lowest, highest) of the integer parameters. Seeds are int32, as
#: CP-SAT, CBC and HiGHS take them.
_INT_RANGES = (
    ("seed", 0, 2**31 - 1),
    ("workers", 1, MAX_WORKERS),
    ("max_model_terms", 0, 10**9),  # 0: always neighbourhood search
    ("lns_jobs", 1, 10**6),
    ("lns_max_terms", 1, 10**9),
    ("parts", 0, 1024),  # 0: automatic
)


def _check_cpsat_options(path: str, raw: Any) -> list[str]:
    """Names and types of raw CP-SAT parameters, checked against OR-Tools."""
    if not isinstance(raw, dict):
        return [f"params file {path!r}: [cpsat] must be a table of CP-SAT parameters"]
    from ortools.sat import sat_parameters_pb2

    proto = sat_parameters_pb2.SatParameters()
    errors = []
    for key, val in raw.items():
        if not hasattr(proto, key):
            errors.append(f"params file {path!r}: [cpsat] unknown CP-SAT parameter {key!r}")
            continue
        try:
            setattr(proto, key, val)
        except (TypeError, ValueError) as e:
            errors.append(f"params file {path!r}: [cpsat] {key}: {e}")
    return errors
