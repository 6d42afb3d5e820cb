"""A builder for services that create problems in code."""

from __future__ import annotations

from typing import Any

from .problem import Problem


class Model:
    """Build a :class:`Problem` step by step; ``data()`` validates it.

    Examples
    --------
    >>> m = Model(slots=24, resources=["gpu", "cpu"], name="demo")
    >>> m.add_region("eu-north", pue=1.1, price_per_kwh=0.08, carbon_g_per_kwh=40)
    >>> m.add_node("eu-h100", region="eu-north", capacity={"gpu": 8, "cpu": 96}, count=2)
    >>> m.add_job("train", demand={"gpu": 8}, duration=6, priority=1, value=5.0)
    >>> problem = m.data()
    >>> len(problem.jobs), problem.node_names()
    (1, ['eu-h100#0', 'eu-h100#1'])
    """

    def __init__(self, slots: int, resources: list[str], *, slot_hours: float = 1.0,
                 name: str = "problem", description: str = "",
                 mode: str = "lexicographic", carbon_price_per_kg: float = 0.0):
        self._data: dict[str, Any] = {
            "name": name,
            "description": description,
            "horizon": {"slots": slots, "slot_hours": slot_hours},
            "resources": list(resources),
            "regions": [], "links": [], "nodes": [], "jobs": [],
            "objective": {"mode": mode, "carbon_price_per_kg": carbon_price_per_kg},
        }

    def add_region(self, id: str, **fields: Any) -> None:  # noqa: A002 - the spec's key
        """Add a region (fields as in PROBLEM.md: pue, price_per_kwh, ...)."""
        self._data["regions"].append({"id": id, **fields})

    def add_link(self, a: str, b: str, latency_ms: float) -> None:
        """Add an undirected latency link between two regions."""
        self._data["links"].append({"a": a, "b": b, "latency_ms": latency_ms})

    def add_node(self, id: str, region: str, **fields: Any) -> None:  # noqa: A002
        """Add a node entry (``count`` > 1 for a pool of identical nodes)."""
        self._data["nodes"].append({"id": id, "region": region, **fields})

    def add_job(self, id: str, **fields: Any) -> None:  # noqa: A002
        """Add a job (fields as in PROBLEM.md: demand, duration, priority, ...)."""
        self._data["jobs"].append({"id": id, **fields})

    def data(self) -> Problem:
        """The validated problem; raises ProblemError listing every error."""
        return Problem.from_dict(self._data)

    def solve(self, **kwargs: Any):  # noqa: ANN201
        """Shortcut for ``allocopt.solve(self.data(), **kwargs)``."""
        from .solve import solve

        return solve(self.data(), **kwargs)
