"""The built wheel works outside the repository: package data, entry point, CLI.

Builds the wheel, installs it into a fresh virtual environment and runs
``allocopt generate --from-trace``, ``allocopt bench --suite small --sample 1``
and ``allocopt solve`` from an empty folder. To stay fast, the fresh
environment borrows the test environment's installed dependencies (a path
entry to its site-packages, whose ``.pth`` hooks -- the editable install --
are not run) and the wheel is installed with ``--no-deps``; set
``ALLOCOPT_WHEEL_FULL=1`` to install the wheel with its dependencies from the
package index instead. Marked ``slow``: ``pytest -m "not slow"`` skips it.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _has_build_backend() -> bool:
    """setuptools >= 68 and wheel here (the ``test`` extra): build without an
    isolated environment, which saves downloading them again."""
    try:
        import setuptools
        import wheel  # noqa: F401
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 68


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``bin`` folder of a fresh venv with the wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    # Build from a clean copy: a stale build/ folder in the repository must not
    # leak old modules into the wheel.
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "results", "__pycache__", "*.egg-info",
        ".pytest_cache", ".hypothesis", "*.plan.json"))
    _run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", dist,
          *(["--no-build-isolation"] if _has_build_backend() else [])], tmp)
    wheels = list(dist.glob("allocopt-*.whl"))
    assert len(wheels) == 1, wheels
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", venv], tmp)
    bin_dir = venv / "bin"
    py = bin_dir / "python"
    full = os.environ.get("ALLOCOPT_WHEEL_FULL") == "1"
    if not full:
        purelib = _run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                       tmp).stdout.strip()
        ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib"),
                *site.getsitepackages()}
        Path(purelib, "_allocopt_test_deps.pth").write_text(
            "\n".join(sorted(p for p in ours if Path(p).is_dir())) + "\n")
    _run([py, "-m", "pip", "install", "-q", *([] if full else ["--no-deps"]), wheels[0]], tmp,
         timeout=900)
    return bin_dir


def test_installed_wheel_runs_from_anywhere(installed, tmp_path):
    py = installed / "python"
    # The console script's module comes from the fresh venv, not from the repository.
    where = _run([py, "-c",
                  "import importlib, importlib.metadata as m;"
                  "ep = next(e for e in m.entry_points(group='console_scripts') "
                  "if e.name == 'allocopt');"
                  "print(importlib.import_module(ep.module).__file__)"], tmp_path).stdout.strip()
    assert Path(where).resolve().is_relative_to(installed.parent.resolve()), where
    assert not Path(where).resolve().is_relative_to(ROOT), where
    top = _run([py, "-c", "import importlib.metadata as m;"
                "print(m.distribution('allocopt').read_text('top_level.txt'))"],
               tmp_path).stdout.split()
    assert top, "no top-level package recorded"

    exe = installed / "allocopt"
    _run([exe, "generate", "--from-trace", "--jobs", "40", "--nodes", "8", "--slots", "24",
          "--out", "trace.json"], tmp_path)
    problem = json.loads((tmp_path / "trace.json").read_text())
    assert len(problem["jobs"]) == 40 and problem["regions"]

    _run([exe, "bench", "--suite", "small", "--sample", "1", "--solvers", "greedy",
          "--time-limit", "2", "--out", "r.jsonl", "--no-report"], tmp_path)
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["valid"] is True

    _run([exe, "solve", "trace.json", "--time-limit", "2", "-q", "--out", "plan.json"], tmp_path)
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert len(plan["assignments"]) + len(plan["unplaced"]) == 40
    _run([exe, "validate", "trace.json", "plan.json"], tmp_path)
    _run([exe, "view", "trace.json", "plan.json", "--out", "plan.html"], tmp_path)
    assert (tmp_path / "plan.html").stat().st_size > 1000
