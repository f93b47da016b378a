"""Running Python in a subprocess with the nnc under test importable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nnc

#: The folder holding the nnc under test (source tree or installed), for
#: subprocesses: a checkout's unbuilt nnc/ must never shadow it.
PACKAGE_PARENT = str(Path(nnc.__file__).resolve().parent.parent)


def run_python(args, cwd, env=None, timeout=300) -> subprocess.CompletedProcess:
    """Run ``python *args`` in `cwd` with the nnc under test importable."""
    full_env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT, **(env or {})}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout)
