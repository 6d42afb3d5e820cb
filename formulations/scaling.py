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

from optimizer.errors import ScalingWarning

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


def scaled_demand(q: float, scale: float) -> int:
    """A demand rounded up (conservative)."""
    return int(math.ceil(q * scale - 1e-9))


def scaled_capacity(q: float, scale: float) -> int:
    """A capacity rounded down (conservative)."""
    return int(math.floor(q * scale + 1e-9))
