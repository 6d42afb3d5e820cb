"""Reading and writing problem and plan files (JSON, and YAML loaded safely).

Inputs are untrusted: files are size-checked before parsing, YAML goes through
a safe loader that also refuses aliases (no "billion laughs"), and nothing is
ever evaluated or unpickled.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .errors import ProblemError
from .problem import Problem

#: Largest problem or plan file read (a 200,000-job problem is about 45 MB).
MAX_FILE_BYTES = 128 * 1024 * 1024
#: Deepest nesting of lists and objects accepted (a problem needs 4).
MAX_DEPTH = 32


class _SafeNoAliasLoader(yaml.SafeLoader):
    """A SafeLoader that rejects anchors/aliases, which can blow up in size."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases are not accepted", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                dup = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: SafeLoader reports it
                continue
            if dup:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


class _NonFinite:
    """Stands for a JSON ``NaN``/``Infinity`` until its place is known."""

    def __init__(self, name: str):
        self.name = name


class DuplicateKeyError(ValueError):
    """A JSON object names the same key twice."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) < len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        where = f" in the object with id {out['id']!r}" if isinstance(out.get("id"), str) else ""
        raise DuplicateKeyError(f"duplicate key {dup!r}{where}")
    return out


def _too_deep(text: str, limit: int = MAX_DEPTH) -> int | None:
    """Line of the first bracket nested deeper than ``limit`` (JSON and flow
    YAML), or None. Brackets inside strings count too: a cheap, safe
    over-count that only matters for absurd files. Vectorised: a 128 MB file
    takes well under a second."""
    if text.count("[") + text.count("{") <= limit:
        return None
    arr = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    opening = (arr == ord("[")) | (arr == ord("{"))
    where = np.flatnonzero(opening | (arr == ord("]")) | (arr == ord("}")))
    depth = np.cumsum(np.where(opening[where], 1, -1), dtype=np.int64)
    over = np.flatnonzero(depth > limit)
    if not len(over):
        return None
    pos = int(where[over[0]])
    return int(np.count_nonzero(arr[:pos] == ord("\n"))) + 1


def _check_tree(data: Any, what: str) -> list[str]:
    """Depth limit (block YAML nests by indentation) and non-finite numbers,
    each named by its path, e.g. ``jobs[3] (id 'a').value``."""
    errors: list[str] = []
    stack: list[tuple[Any, str, int]] = [(data, what, 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            errors.append(f"{path}: nested deeper than {MAX_DEPTH} levels")
            continue
        if isinstance(node, _NonFinite) or (isinstance(node, float) and not math.isfinite(node)):
            name = node.name if isinstance(node, _NonFinite) else repr(node)
            errors.append(f"{path}: {name} is not a finite number (numbers must be finite)")
        elif isinstance(node, dict):
            for k, v in node.items():
                stack.append((v, f"{path}.{k}", depth + 1))
        elif isinstance(node, list):
            for k, v in enumerate(node):
                tag = f" (id {v['id']!r})" if isinstance(v, dict) and isinstance(v.get("id"), str) else ""
                stack.append((v, f"{path}[{k}]{tag}", depth + 1))
        if len(errors) >= 1000:
            break
    return sorted(errors)


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
    deep = _too_deep(text)
    if deep is not None:
        raise ProblemError([f"{what} file {str(path)!r}: line {deep}: lists and objects nested "
                            f"deeper than {MAX_DEPTH} levels"])
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.load(text, Loader=_SafeNoAliasLoader)  # noqa: S506 - safe loader subclass
        else:
            data = json.loads(text, parse_constant=_NonFinite, object_pairs_hook=_unique_pairs)
    except (yaml.YAMLError, json.JSONDecodeError, ValueError) as e:
        raise ProblemError(
            [f"{what} file {str(path)!r}: not valid {_kind(path)}: {_one_line(e)}"]) from None
    except RecursionError:
        raise ProblemError([f"{what} file {str(path)!r}: nested too deeply"]) from None
    errors = _check_tree(data, what)
    if errors:
        raise ProblemError([f"{what} file {str(path)!r}: {e}" for e in errors])
    return data


def _one_line(e: Exception) -> str:
    """A parse error as one line (YAML's messages span several, with a caret)."""
    if isinstance(e, yaml.MarkedYAMLError) and e.problem_mark is not None:
        mark = e.problem_mark
        return f"{e.problem or e.context} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(e).split())


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
