"""The package ships py.typed and the public API is annotated: a small user
script calling Sequential, Dense, fit/predict/evaluate, compile, datasets,
save/load passes ``mypy --strict`` against nnc as installed (found on the
path, read through its py.typed marker), and a wrong argument type in it is
reported, so the annotations are really read. The script also runs."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers.optional import require
from helpers.processes import PACKAGE_PARENT, run_python

SCRIPT = Path(__file__).parent / "typing_user" / "user_script.py"


def mypy(tmp_path, script):
    return run_python(["-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
                       str(tmp_path / "cache"), str(script)], tmp_path)


def test_py_typed_is_shipped():
    assert (Path(PACKAGE_PARENT) / "nnc" / "py.typed").is_file()
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '"py.typed"' in pyproject  # package-data, so wheels carry it


def test_user_script_passes_mypy_strict(tmp_path):
    require("mypy")
    script = tmp_path / "user_script.py"
    shutil.copy(SCRIPT, script)
    out = mypy(tmp_path, script)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Success: no issues found" in out.stdout
    bad = tmp_path / "bad.py"
    bad.write_text(SCRIPT.read_text().replace("epochs=2,", 'epochs="2",'))
    out = mypy(tmp_path, bad)
    assert out.returncode == 1 and 'Argument "epochs" to "fit" of "Sequential" has ' \
        'incompatible type "str"; expected "int"' in out.stdout, out.stdout


def test_user_script_runs(tmp_path):
    out = run_python([str(SCRIPT), str(tmp_path / "model.npz")], tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("score ")
