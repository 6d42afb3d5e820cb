"""A reader that goes away (``allocopt solvers | head -1``) ends the command
quietly with exit 0, as Unix filters do, not with an error line."""

from __future__ import annotations

import subprocess
import sys


def test_closed_stdout_is_not_an_error():
    proc = subprocess.Popen([sys.executable, "-m", "allocopt", "solvers"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # closed before the command writes: its first write fails
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert b"BrokenPipe" not in err and b"error" not in err.lower(), err
