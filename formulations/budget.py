"""Time budget of model building: building a model cannot be interrupted, so
a model is only built when it fits in the time left.

The rate is measured, not derived: the medium benchmark's full model (about
77,000 estimated terms) took 2.3 s to build with its stages on the shared
2-core machine (``python`` profile of ``build`` + ``make_stages``, generated
``--size medium --seed 100``), about 30 us per term.
"""

from __future__ import annotations

import time

#: Seconds to build (and prepare the stages of) one estimated model term.
BUILD_S_PER_TERM = 3e-5
#: Share of the time left that building may take (the rest is for solving).
BUILD_SHARE = 0.5


def build_seconds(terms: int) -> float:
    """Expected seconds to build a model of ``terms`` estimated terms."""
    return BUILD_S_PER_TERM * terms


def affordable(terms: int, deadline: float) -> bool:
    """True if a model of ``terms`` can be built in its share of the time
    left before ``deadline`` (a ``time.perf_counter()`` reading)."""
    return build_seconds(terms) <= BUILD_SHARE * (deadline - time.perf_counter())
