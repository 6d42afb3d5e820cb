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
    """Parameters of :func:`optimizer.solve`.

    Attributes
    ----------
    time_limit
        Wall-clock seconds for the whole solve, model building included.
    seed
        Random seed passed to the solver (and to randomised baselines).
    workers
        Solver threads. Results are reproducible for a fixed seed and
        worker count; with ``workers=1`` CP-SAT is fully deterministic.
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
        Parts of the POP-style decomposition (:mod:`optimizer.decompose`)
        for ``cpsat``: 0 (default) chooses from the model size estimate (one
        part, i.e. no decomposition, while it fits ``max_model_terms``), 1
        turns it off, K >= 2 forces K parts.
    engine, ray_address
        Where the parts run: ``local`` (process pool) or ``ray``; the Ray
        cluster to join (empty: start a local Ray).
    log
        Print the solver's search log.
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
        if not (self.time_limit > 0 and math.isfinite(self.time_limit)):
            errors.append(f"time_limit must be > 0 and finite, got {self.time_limit}")
        if self.workers < 1:
            errors.append(f"workers must be >= 1, got {self.workers}")
        if not 0 < self.tier_share <= 1:
            errors.append(f"tier_share must be in (0, 1], got {self.tier_share}")
        if self.lns_jobs < 1:
            errors.append(f"lns_jobs must be >= 1, got {self.lns_jobs}")
        if self.parts < 0:
            errors.append(f"parts must be >= 0 (0: automatic), got {self.parts}")
        if self.engine not in ("local", "ray"):
            errors.append(f"engine must be 'local' or 'ray', got {self.engine!r}")
        if self.lns_max_terms < 1:
            errors.append(f"lns_max_terms must be >= 1, got {self.lns_max_terms}")
        if errors:
            raise ProblemError(errors)
        return self


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
