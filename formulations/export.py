"""Write the full model as an MPS or LP file, for other MILP solvers.

The model is the one the ``pulp`` solver builds over the full scope (every
job that can be placed at all, nothing fixed): every constraint family, with
the time-indexed capacity rows, as a MILP. A file holds one objective, so
one stage of the lexicographic objective is chosen:

* weighted mode: the weighted objective, maximise ``placed value - cost``
  (exactly the problem's objective; required jobs are not forced, as in the
  solver's stages: add ``placed[...] = 1`` rows if you need them);
* lexicographic mode: by default the *first* stage -- maximise the number of
  required jobs placed if the problem has any, else the highest tier's
  placed value. ``stage="tier 2"``, ``stage="cost"`` etc. pick another
  stage (without the rows that fix the stages above it, which depend on
  their solutions).

Coefficients are in real units (job values, currency), not the integer
scaling the stage runner uses, so the objective value of an exported model
reads directly. Variable names follow the model's (``y[job,slot]``), with
PuLP's substitution of ``-+[] ->/`` by ``_``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from allocopt.prepared import Prepared
from allocopt.problem import Problem

from .backends.pulp import PulpBackend
from .energy import cost_terms
from .priority import required_terms, tier_terms, value_terms
from .scope import full_scope
from .stages import build
from .timing import tardiness_terms

FORMATS = ("mps", "lp")


def stage_names(problem: Problem, prep: Prepared | None = None) -> list[str]:
    """The stages :func:`export_model` can write, first stage first."""
    prep = prep or Prepared(problem)
    out = ["required"] if any(prep.required[j] for j in full_scope(prep).jobs) else []
    if problem.objective.mode == "weighted":
        return [*out, "weighted"]
    return [*out, *(f"tier {t}" for t in prep.tiers), "cost"]


def export_model(problem: Problem, path: str | Path, fmt: str | None = None, *,
                 stage: str | None = None) -> dict[str, Any]:
    """Build the full MILP and write it to ``path``.

    Parameters
    ----------
    problem
        A validated problem.
    path
        Output file.
    fmt
        ``"mps"`` or ``"lp"``; ``None``: from the file's suffix.
    stage
        Objective to write (see the module docstring); ``None``: the first
        stage (lexicographic) or the weighted objective (weighted).

    Returns
    -------
    dict
        ``stage``, ``sense``, ``variables`` and ``constraints`` of the file.

    Raises
    ------
    ValueError
        For an unknown format or stage.
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"unknown model format {fmt!r} (mps or lp)")
    prep = Prepared(problem)
    names = stage_names(problem, prep)
    stage = stage or names[0]
    if stage not in names:
        raise ValueError(f"unknown stage {stage!r}; this problem has {', '.join(names)}")
    scope = full_scope(prep)
    m = PulpBackend()
    x = build(m, scope)
    if stage == "required":
        terms: list[tuple[Any, float]] = [(v, float(c)) for v, c in required_terms(scope, x)]
        sense = "max"
    elif stage == "weighted":
        costs = cost_terms(scope, x) + tardiness_terms(scope, x)
        terms = value_terms(scope, x) + [(v, -c) for v, c in costs]
        sense = "max"
    elif stage == "cost":
        terms = cost_terms(scope, x) + tardiness_terms(scope, x)
        sense = "min"
    else:
        terms = tier_terms(scope, x, int(stage.split()[1]))
        sense = "max"
    (m.maximize if sense == "max" else m.minimize)(m.wsum(terms))
    m.prob.name = _safe_name(problem.name or "allocopt")
    m.write(str(path), fmt)
    return {"stage": stage, "sense": sense, **m.stats()}


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_." else "_" for c in name) or "allocopt"
