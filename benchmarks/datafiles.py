"""Where the shipped data lives: ``data/`` in a source tree, package data in a wheel.

An installed wheel carries ``data/real``, ``data/bench`` and ``data/examples``
as the package data folder ``data`` of this package (``pyproject.toml``,
``[tool.setuptools.package-dir]``); in a source tree (or an editable
install) they are the repository's ``data/`` folder. Both are found through
``importlib.resources`` on this package, whatever its import name.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def data_root() -> Path:
    """The folder holding ``real/``, ``bench/`` and ``examples/``."""
    here = Path(str(files(__package__ or __name__.rpartition(".")[0])))
    shipped = here / "data"
    if (shipped / "real").is_dir():
        return shipped
    return here.parent / "data"


def data_path(*parts: str) -> Path:
    """A path under :func:`data_root`, e.g. ``data_path("real")``."""
    return data_root().joinpath(*parts)
