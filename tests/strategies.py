"""Random small problems that use every feature of PROBLEM.md.

One builder, :func:`build_problem_data`, draws through a :class:`Chooser`; it
backs both a hypothesis strategy (:func:`problems`, which shrinks failures to
small problems) and a seeded generator (:func:`random_problem`, for plain
loops and for reproducing a case by its seed).

Every generated problem is valid input; many are hard or impossible to place
in full (tight windows, power caps, energy budgets, required jobs that cannot
fit), which is the point.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from hypothesis import strategies as st

from allocopt import Problem

T = TypeVar("T")


class Chooser(Protocol):
    """The few kinds of choice the builder makes."""

    def integer(self, lo: int, hi: int) -> int:
        """An integer in ``[lo, hi]``."""

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``."""

    def chance(self, p: float) -> bool:
        """True with probability about ``p`` (a feature switched on)."""


class RandomChooser:
    """Choices from a seeded :class:`random.Random`."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(list(options))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


class DrawChooser:
    """Choices drawn by hypothesis; they shrink towards small, plain problems."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]):
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def choice(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(list(options)))

    def chance(self, p: float) -> bool:
        # Shrinks to 0, i.e. to the feature switched off.
        return self.draw(st.integers(0, 99)) >= round(100 * (1 - p))


def _subset(c: Chooser, items: Sequence[T], p: float = 0.5) -> list[T]:
    return [x for x in items if c.chance(p)]


def _series(c: Chooser, H: int, values: Sequence[float]) -> float | list[float]:
    """A scalar, or (sometimes) one value per slot."""
    if c.chance(0.4):
        return [c.choice(values) for _ in range(H)]
    return c.choice(values)


def build_problem_data(c: Chooser, *, max_slots: int = 8, max_jobs: int = 6) -> dict[str, Any]:
    """Problem data (a dict for :meth:`Problem.from_dict`) drawn through ``c``.

    Up to ``max_slots`` slots, three regions, four node entries (``count`` up
    to 3) and ``max_jobs`` jobs; every optional field of PROBLEM.md appears.
    """
    H = 1 if c.chance(0.05) else c.integer(2, max_slots)
    resources = ["gpu", "cpu"][: c.integer(1, 2)]
    num_regions = c.integer(1, 3)
    region_ids = [f"r{g}" for g in range(num_regions)]
    regions = []
    for gid in region_ids:
        r: dict[str, Any] = {"id": gid}
        if c.chance(0.5):
            r["pue"] = c.choice([1.0, 1.2, 1.5])
        r["price_per_kwh"] = _series(c, H, [0.0, 0.05, 0.1, 0.3])
        r["carbon_g_per_kwh"] = _series(c, H, [0.0, 50.0, 300.0])
        if c.chance(0.3):
            r["power_cap_kw"] = _series(c, H, [0.0, 2.0, 6.0, 15.0, 40.0])
        if c.chance(0.3):
            r["energy_budget_kwh"] = c.choice([0.0, 5.0, 20.0, 80.0])
        regions.append(r)
    links = []
    for i, a in enumerate(region_ids):
        for b in region_ids[i + 1:]:
            if c.chance(0.6):
                links.append({"a": a, "b": b, "latency_ms": c.choice([5.0, 20.0, 60.0, 150.0])})

    nodes = []
    for k in range(c.integer(1, 4)):
        n: dict[str, Any] = {
            "id": f"n{k}",
            "region": c.choice(region_ids),
            "capacity": {res: c.choice([0.0, 4.0, 8.0, 8.0, 16.0]) for res in resources},
        }
        if c.chance(0.5):
            n["type"] = c.choice(["a", "b"])
        if c.chance(0.5):
            n["count"] = c.integer(2, 3)
        if c.chance(0.5):
            n["idle_kw"] = c.choice([0.2, 1.0])
        if c.chance(0.7):
            n["kw_per_unit"] = {res: c.choice([0.0, 0.5, 1.0]) for res in resources}
        if c.chance(0.3):
            n["cost_per_slot"] = c.choice([0.1, 1.0])
        if c.chance(0.3):
            windows = []
            for _ in range(c.integer(1, 2)):
                a = c.integer(0, H)
                windows.append([a, c.integer(a + 1, H + 1)])
            n["unavailable"] = windows
        nodes.append(n)

    jobs: list[dict[str, Any]] = []
    for k in range(c.integer(1, max_jobs)):
        j: dict[str, Any] = {
            "id": f"j{k}",
            "demand": {res: c.choice([0.0, 1.0, 2.0, 4.0, 8.0]) for res in resources},
            "duration": c.integer(1, min(H, 3)),
        }
        if c.chance(0.1):  # often more than any node holds
            j["demand"][resources[0]] = 10.0
        if c.chance(0.1):  # sometimes longer than the horizon
            j["duration"] = H + 1
        if c.chance(0.4):
            j["release"] = c.integer(0, H // 2)
        if c.chance(0.4):
            # Mostly a window that fits (at least), sometimes any deadline.
            fits = min(j.get("release", 0) + j["duration"], H + 1)
            j["deadline"] = c.integer(1, H + 1) if c.chance(0.2) else c.integer(fits, H + 1)
        if c.chance(0.3):
            j["due"] = c.integer(0, H)
            j["tardiness_penalty"] = c.choice([0.0, 0.5, 3.0])
        if c.chance(0.5):
            j["priority"] = c.integer(0, 2)
        if c.chance(0.5):
            j["value"] = c.choice([0.0, 1.0, 1.0, 2.5, 10.0])
        if c.chance(0.2):
            j["required"] = True
        if c.chance(0.4):
            j["replicas"] = c.integer(2, 3)
            if c.chance(0.5):
                j["min_regions"] = c.integer(1, j["replicas"] + (1 if c.chance(0.1) else 0))
            if c.chance(0.4):
                j["max_per_region"] = c.integer(1, 2)
            if c.chance(0.4):
                j["max_latency_ms"] = c.choice([0.0, 30.0, 100.0])
        if c.chance(0.3):
            j["regions"] = _subset(c, region_ids) if c.chance(0.1) else (
                _subset(c, region_ids[1:]) + [region_ids[0]])
        if c.chance(0.3):
            j["node_types"] = _subset(c, ["a", "b"]) + ["default"]
        if jobs and c.chance(0.3):
            j["after"] = _subset(c, [x["id"] for x in jobs], 0.4)
        if c.chance(0.2):
            j["power_kw"] = c.choice([0.0, 0.5, 3.0])
        jobs.append(j)

    return {
        "name": "random",
        "horizon": {"slots": H, "slot_hours": c.choice([1.0, 0.5])},
        "resources": resources,
        "regions": regions,
        "links": links,
        "nodes": nodes,
        "jobs": jobs,
        "objective": {"mode": c.choice(["lexicographic", "weighted"]),
                      "carbon_price_per_kg": c.choice([0.0, 0.05])},
    }


@st.composite
def problems(draw: Callable[[st.SearchStrategy[Any]], Any], max_slots: int = 8,
             max_jobs: int = 6) -> Problem:
    """Hypothesis strategy: a random small :class:`Problem` (see module docstring)."""
    return Problem.from_dict(
        build_problem_data(DrawChooser(draw), max_slots=max_slots, max_jobs=max_jobs)
    )


def random_problem(seed: int, max_slots: int = 8, max_jobs: int = 6) -> Problem:
    """A random small :class:`Problem`, the same for the same ``seed``."""
    return Problem.from_dict(
        build_problem_data(RandomChooser(seed), max_slots=max_slots, max_jobs=max_jobs)
    )
