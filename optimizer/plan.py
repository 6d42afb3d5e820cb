"""The plan (PLAN.md v1): a frozen value with exactly the spec's field names."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError
from typing_extensions import Annotated

from .errors import ProblemError

JobId = str
NodeName = str


class SolveStatus(str, Enum):
    """The plan's ``status`` strings of PLAN.md."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Assignment:
    """A placed job: its start slot, end (exclusive) and one node per replica."""

    job: JobId
    start: int
    end: int
    nodes: tuple[NodeName, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job, "start": self.start, "end": self.end, "nodes": list(self.nodes)}


@dataclass(frozen=True)
class Unplaced:
    """A job left out of the plan, with the specific reason."""

    job: JobId
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job, "reason": self.reason}


@dataclass(frozen=True)
class Plan:
    """A plan as PLAN.md defines it.

    ``metrics`` are always recomputed from the assignments by
    :func:`allocopt.validate.compute_metrics`, never copied from a solver.
    """

    problem: str
    status: SolveStatus
    solver: str
    assignments: tuple[Assignment, ...]
    unplaced: tuple[Unplaced, ...]
    metrics: dict[str, Any] = field(default_factory=dict)
    fallback: str | None = None
    bound: dict[str, Any] | None = None
    gap: float | None = None
    solve_seconds: float = 0.0
    #: True when the solve was stopped early (Ctrl-C or a progress callback):
    #: the plan is the best found so far, valid, but the search did not run
    #: to its limit. Written to JSON only when true (PLAN.md).
    interrupted: bool = False
    #: Relative gap per bounded entry, same keys as ``bound`` (PLAN.md, extension).
    gaps: dict[str, Any] | None = None
    #: The portfolio member whose plan seeded the search (``None``: no portfolio ran).
    seeded_by: str | None = None

    def replace(self, **changes: Any) -> Plan:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data with PLAN.md's keys, in PLAN.md's order."""
        out = {
            "problem": self.problem,
            "status": str(self.status),
            "solver": self.solver,
            "fallback": self.fallback,
            "assignments": [a.to_dict() for a in self.assignments],
            "unplaced": [u.to_dict() for u in self.unplaced],
            "metrics": self.metrics,
            "bound": self.bound,
            "gap": self.gap,
            "gaps": self.gaps,
            "solve_seconds": round(self.solve_seconds, 3),
            "seeded_by": self.seeded_by,
        }
        if self.interrupted:
            out["interrupted"] = True
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Plan:
        """Parse plan data (as read from JSON); errors name the entry and field.

        Raises
        ------
        ProblemError
            If the data is not a plan.
        """
        try:
            raw = _PlanIn.model_validate(data)
        except ValidationError as e:
            msgs = []
            for err in e.errors():
                loc = ".".join(str(p) for p in err["loc"])
                if err["type"] == "value_error":
                    text = str(err["ctx"]["error"])  # without pydantic's "Value error, "
                elif err["type"] == "model_type":
                    text = f"must be an object, got {type(err['input']).__name__}"
                else:
                    text = err["msg"].lower()
                msgs.append(f"plan: {loc}: {text}" if loc else f"plan: {text}")
            raise ProblemError(msgs) from None
        return cls(
            problem=raw.problem,
            status=SolveStatus(raw.status),
            solver=raw.solver,
            fallback=raw.fallback,
            assignments=tuple(
                Assignment(a.job, a.start, a.end if a.end is not None else -1, tuple(a.nodes))
                for a in raw.assignments
            ),
            unplaced=tuple(Unplaced(u.job, u.reason) for u in raw.unplaced),
            metrics=dict(raw.metrics),
            bound=raw.bound,
            gap=raw.gap,
            solve_seconds=raw.solve_seconds,
            interrupted=raw.interrupted,
            gaps=raw.gaps,
            seeded_by=raw.seeded_by,
        )

    # -- convenience -----------------------------------------------------

    @property
    def placed_ids(self) -> set[JobId]:
        return {a.job for a in self.assignments}

    @property
    def required_ok(self) -> bool:
        """False when the plan is infeasible (a required job is unplaced)."""
        return self.status != SolveStatus.INFEASIBLE

    def to_records(self, problem: Any) -> list[dict[str, Any]]:
        """One dict per placed replica with energy, cost and carbon attributed
        (rule and columns: :mod:`allocopt.records`)."""
        from .records import plan_records

        return plan_records(problem, self)

    def to_pandas(self, problem: Any) -> Any:
        """:meth:`to_records` as a ``pandas.DataFrame`` (needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Plan.to_pandas needs pandas: pip install 'allocopt[pandas]'") from None
        from .records import COLUMNS, FIGURES

        cols = [*COLUMNS, *(f"demand_{r}" for r in problem.resources), *FIGURES]
        return pd.DataFrame(self.to_records(problem), columns=cols)

    def summary(self) -> str:
        """A short human summary: status, per-tier placement, energy, cost."""
        m = self.metrics
        lines = [
            f"problem {self.problem!r}: status {self.status}, solver {self.solver}"
            + (f" (fallback: {self.fallback})" if self.fallback else ""),
            f"placed {m.get('placed_jobs', len(self.assignments))} jobs, "
            f"unplaced {m.get('unplaced_jobs', len(self.unplaced))}",
        ]
        return "\n".join(lines)


def gaps_text(gaps: dict[str, Any] | None) -> str:
    """One line stating a plan's ``gaps``: "tiers proven, cost within 12.3%",
    "tier 3 proven, tier 1 within 4.0%, ...", or "" without gaps."""
    if not gaps:
        return ""

    def within(g: Any) -> str:
        if g is None:
            return "unbounded"
        return "proven" if g == 0 else f"within {g:.1%}"

    tiers = gaps.get("placed_value_by_priority") or {}
    parts = []
    order = sorted(tiers, key=lambda t: -int(t) if str(t).lstrip("-").isdigit() else 0)
    if tiers and all(tiers[t] == 0 for t in tiers):
        parts.append("tiers proven")
    else:
        parts += [f"tier {t} {within(tiers[t])}" for t in order]
    for key, name in (("objective", "objective"), ("move_cost", "moves"), ("carbon_kg", "carbon"),
                      ("cost", "cost")):
        if key in gaps:
            parts.append(f"{name} {within(gaps[key])}")
    return ", ".join(parts)


_StrictStr = Annotated[str, Strict()]


class _AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    job: _StrictStr
    start: Annotated[int, Strict(), Field(ge=-2**53, le=2**53)]
    end: Annotated[int, Strict(), Field(ge=-2**53, le=2**53)] | None = None
    nodes: list[_StrictStr]


class _UnplacedIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    job: _StrictStr
    reason: _StrictStr = ""


class _PlanIn(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    problem: _StrictStr = ""
    status: str = "unknown"
    solver: str = ""
    fallback: str | None = None
    assignments: list[_AssignmentIn] = Field(default_factory=list)
    unplaced: list[_UnplacedIn] = Field(default_factory=list)
    metrics: dict[str, Any] = Field(default_factory=dict)
    bound: dict[str, Any] | None = None
    gap: float | None = None
    gaps: dict[str, Any] | None = None
    solve_seconds: float = 0.0
    interrupted: Annotated[bool, Strict()] = False
    seeded_by: str | None = None

    def model_post_init(self, __context: Any) -> None:
        if self.status not in {s.value for s in SolveStatus}:
            raise ValueError(f"status {self.status!r} is not one of optimal, feasible, infeasible, unknown")
