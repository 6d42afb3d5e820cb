"""Exceptions and warnings raised by allocopt."""

from __future__ import annotations


class ProblemError(ValueError):
    """A problem (or plan) file breaks the format; carries every message.

    Parameters
    ----------
    errors
        One message per problem found, each naming the object and field,
        e.g. ``job 'a': after names unknown job 'b'``.
    """

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        head = f"{len(self.errors)} error(s) in the problem"
        super().__init__(head + ":\n" + "\n".join(f"  - {e}" for e in self.errors))


class SolverError(RuntimeError):
    """A solver back-end failed (not installed, crashed, invalid model)."""


class ScalingWarning(UserWarning):
    """Integer scaling of costs lost precision or was capped to avoid overflow."""
