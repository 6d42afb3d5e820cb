"""Reading and writing problem and plan files (JSON, and YAML loaded safely).

Inputs are untrusted: files are size-checked before parsing, YAML goes through
a safe loader that also refuses aliases (no "billion laughs"), and nothing is
ever evaluated or unpickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .errors import ProblemError
from .problem import Problem

MAX_FILE_BYTES = 512 * 1024 * 1024


class _SafeNoAliasLoader(yaml.SafeLoader):
    """A SafeLoader that rejects anchors/aliases, which can blow up in size."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases are not accepted", event.start_mark
            )
        return super().compose_node(parent, index)


def read_data(path: str | Path, what: str = "problem") -> Any:
    """Read JSON or YAML (by extension) into plain data; errors as ProblemError."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ProblemError([f"{what} file {str(path)!r}: cannot be read ({e.strerror})"]) from None
    if size > MAX_FILE_BYTES:
        raise ProblemError([f"{what} file {str(path)!r}: {size} bytes exceed the limit of {MAX_FILE_BYTES}"])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ProblemError([f"{what} file {str(path)!r}: cannot be read ({e})"]) from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return yaml.load(text, Loader=_SafeNoAliasLoader)  # noqa: S506 - safe loader subclass
        return json.loads(text, parse_constant=_reject_constant)
    except (yaml.YAMLError, json.JSONDecodeError, ValueError) as e:
        raise ProblemError(
            [f"{what} file {str(path)!r}: not valid {_kind(path)}: {_one_line(e)}"]) from None


def _one_line(e: Exception) -> str:
    """A parse error as one line (YAML's messages span several, with a caret)."""
    if isinstance(e, yaml.MarkedYAMLError) and e.problem_mark is not None:
        mark = e.problem_mark
        return f"{e.problem or e.context} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(e).split())


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _kind(path: Path) -> str:
    return "YAML" if path.suffix.lower() in (".yaml", ".yml") else "JSON"


def load_problem(path: str | Path) -> Problem:
    """Load and validate a problem file (``.json``, ``.yaml`` or ``.yml``).

    Raises
    ------
    ProblemError
        If the file cannot be read or the problem breaks PROBLEM.md; every
        error found is listed.
    """
    data = read_data(path, "problem")
    problem = Problem.from_dict(data)
    if problem.name == "problem":
        problem = problem.model_copy(update={"name": Path(path).stem})
    return problem


def write_json(data: Any, path: str | Path) -> None:
    """Write data as indented JSON (atomically: temp file, then rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def save_problem(problem: Problem, path: str | Path) -> None:
    """Write a problem as JSON or YAML (by extension)."""
    path = Path(path)
    data = problem.to_dict()
    if path.suffix.lower() in (".yaml", ".yml"):
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    else:
        write_json(data, path)
