"""The README's data-parallel train.py, launched as the README says
(torchrun, 2 processes over loopback): it runs, and only rank 0 prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from helpers.optional import require
from helpers.page_examples import examples
from helpers.paths import REPO
from helpers.processes import PACKAGE_PARENT


def test_readme_train_script_runs_on_two_processes(tmp_path):
    require("torch")
    readme = (REPO / "README.md").read_text()
    [script] = [e.code.text for e in examples(readme) if "nnc.distributed.fit" in e.code.text]
    (tmp_path / "train.py").write_text(script)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": PACKAGE_PARENT}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node=2", "train.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert proc.stdout.count("loss per epoch:") == 1
    accuracy = float(re.search(r"accuracy: ([0-9.]+)", proc.stdout).group(1))
    assert accuracy > 0.7
