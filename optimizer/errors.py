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
        shown = [f"  - {printable(e)}" for e in self.errors[:MAX_ERRORS_SHOWN]]
        if len(self.errors) > MAX_ERRORS_SHOWN:
            shown.append(f"  ... and {len(self.errors) - MAX_ERRORS_SHOWN} more")
        super().__init__(head + ":\n" + "\n".join(shown))


#: Error messages printed (the CLI and ``str(ProblemError)``); the rest are
#: counted ("... and N more"), and all stay in ``ProblemError.errors``.
MAX_ERRORS_SHOWN = 50


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\x1b``), safe for a terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


class SolverError(RuntimeError):
    """A solver back-end failed (not installed, crashed, invalid model)."""


class ScalingWarning(UserWarning):
    """Integer scaling of costs lost precision or was capped to avoid overflow."""
