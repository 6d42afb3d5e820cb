"""Integer scaling, in one place.

CP-SAT takes integer coefficients only. Costs and values are floats, so they
are multiplied by a scale and rounded. Two risks are guarded here:

* overflow: some CP-SAT versions silently mis-solve linear sums beyond
  2**31, so the scale keeps the largest possible objective sum under
  :data:`MAX_SUM`;
* needless precision: huge coefficients slow the search for no benefit, so
  costs get :data:`COST_DIGITS` significant digits relative to the largest
  possible total, no more.

Resource demands and capacities are scaled per resource to integers,
rounding demands up and capacities down, so a scaled plan is always valid.

Reported metrics never use these numbers: they are recomputed in real units.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from allocopt.errors import ScalingWarning

#: Largest objective sum allowed after scaling (headroom under 2**31).
MAX_SUM = 2**31 // 4
#: Resolution of scaled costs: the largest possible total maps to ~10**COST_DIGITS.
COST_DIGITS = 7
#: Largest multiplier tried to make values / resources integral.
MAX_DECIMAL_SCALE = 10**4


def decimal_scale(values: np.ndarray, limit: int = MAX_DECIMAL_SCALE) -> int:
    """Smallest power of ten (<= ``limit``) making all ``values`` integral."""
    v = np.abs(np.asarray(values, dtype=float))
    scale = 1
    while scale <= limit:
        scaled = v * scale
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1, scaled)):
            return scale
        scale *= 10
    return limit


def cost_scale(max_total: float) -> float:
    """Multiplier for costs: ``max_total`` maps to about 10**COST_DIGITS."""
    if not math.isfinite(max_total) or max_total <= 0:
        return 1.0
    return min(10.0**COST_DIGITS, MAX_SUM) / max_total


#: Largest objective value allowed for an *exact* scaling of the last
#: stage's objective (no row is added after it, so only the objective holds
#: these coefficients; CP-SAT's objective is int64, and 2**53 keeps every
#: reachable value exact as a float too).
MAX_EXACT_SUM = 2**53
#: Largest sum of |coefficient| x variable range of an exactly scaled
#: objective (CP-SAT rejects a model whose objective could overflow int64).
MAX_EXACT_SPAN = 2**61


def exact_scale(coefs: np.ndarray, peak: float, span: float | None = None,
                limit: int = 10**12) -> int | None:
    """A power of ten (<= ``limit``) that makes every coefficient integral
    while ``peak`` (the largest reachable objective) stays under
    :data:`MAX_EXACT_SUM` and ``span`` (sum of |coefficient| x variable
    range; default: sum of |coefficient|) under :data:`MAX_EXACT_SPAN`; None
    if there is none. Costs then scale exactly, and a proof of the scaled
    objective is a proof in real units."""
    if not len(coefs) or not math.isfinite(peak):
        return None
    coefs = np.asarray(coefs, dtype=float)
    span = float(np.abs(coefs).sum()) if span is None else span
    scale = decimal_scale(coefs, limit)
    v = np.abs(coefs) * scale
    if (np.all(np.abs(v - np.round(v)) <= 1e-9 * np.maximum(1, v))
            and peak * scale <= MAX_EXACT_SUM and span * scale <= MAX_EXACT_SPAN):
        return scale
    return None


def value_scale(values: np.ndarray) -> int:
    """Multiplier for job values: exact decimals, capped to avoid overflow."""
    total = float(np.abs(values).sum())
    scale = decimal_scale(values)
    while scale > 1 and total * scale > MAX_SUM:
        scale //= 10
    if total * scale > MAX_SUM:
        warnings.warn(
            f"job values sum to {total:g}; scaled values exceed {MAX_SUM} and are rounded",
            ScalingWarning, stacklevel=2,
        )
    return scale


def to_int(x: float, scale: float) -> int:
    """Round a scaled coefficient to the nearest integer."""
    return int(round(x * scale))


def resource_scales(demand: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Per-resource multipliers making demands and capacities integral."""
    R = demand.shape[1] if demand.ndim == 2 else 0
    out = np.ones(R)
    for r in range(R):
        vals = np.concatenate([demand[:, r], capacity[:, r]])
        out[r] = decimal_scale(vals)
        peak = float(vals.max()) if len(vals) else 0.0
        while out[r] > 1 and peak * out[r] > MAX_SUM:
            out[r] /= 10
    return out


def resources_exact(demand: np.ndarray, capacity: np.ndarray, scales: np.ndarray) -> bool:
    """True if every demand and capacity is integral after scaling."""
    for vals in (demand, capacity):
        if vals.size:
            v = vals * scales[None, :]
            if not np.all(np.abs(v - np.round(v)) <= 1e-9 * np.maximum(1, np.abs(v))):
                return False
    return True


def scaled_demand(q: float, scale: float) -> int:
    """A demand rounded up (conservative)."""
    v = q * scale
    return int(math.ceil(v - 1e-9 * max(1.0, abs(v))))


def scaled_capacity(q: float, scale: float) -> int:
    """A capacity rounded down (conservative)."""
    v = q * scale
    return int(math.floor(v + 1e-9 * max(1.0, abs(v))))


def scaled_row(terms: list[tuple[object, float]], rhs: float, limit: int = 10**6,
               peak: float | None = None) -> tuple[list[tuple[object, int]], int, bool]:
    """Scale a ``sum coef * var <= rhs`` row to integers, conservatively.

    The multiplier is the smallest power of ten (up to ``limit``, and small
    enough to keep the row under :data:`MAX_SUM`) that makes every number
    integral. Where none does, coefficients are rounded up and ``rhs`` down,
    so the integer row never admits what the exact row rejects; the third
    value then is False (the row is slightly stricter than the rule).

    ``peak`` is the largest activity the row can reach, when the caller knows
    a tighter one than the sum of all coefficients (e.g. a job starts once,
    so only one of its start terms counts); it is never below ``rhs``.
    """
    coefs = np.array([c for _, c in terms] + [rhs], dtype=float)
    scale = decimal_scale(coefs, limit)
    full = float(np.abs(coefs).sum())
    peak = full if peak is None else min(full, max(float(peak), abs(rhs)) + abs(rhs))
    while scale > 1 and (peak * scale > MAX_SUM or full * scale >= 2**31):
        scale //= 10
    # Vectorised (rows of the large models have ~10^5 terms): the same
    # rounding as scaled_demand / scaled_capacity, element-wise.
    v = coefs[:-1] * scale
    ints = np.ceil(v - 1e-9 * np.maximum(1.0, np.abs(v)))
    out = list(zip([var for var, _ in terms], ints.astype(np.int64).tolist()))
    int_rhs = scaled_capacity(rhs, scale)
    exact = bool(np.all(np.abs(v - ints) <= 1e-9 * np.maximum(1.0, np.abs(v)))) and (
        abs(rhs * scale - int_rhs) <= 1e-9 * max(1.0, abs(rhs * scale)))
    return out, int_rhs, exact
