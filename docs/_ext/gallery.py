"""The gallery of the lecture notes' studies, generated at documentation
build time: each study in examples/ is run with --quick into
docs/_generated/gallery/<study>/ (figures are never committed), and a page
per study shows its docstring, what it printed and its figures."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

#: The studies, in the gallery's order (examples/<name>.py; each takes
#: --out DIR and --quick, see examples/_study_cli.py).
STUDIES = ["initialization", "vanishing_gradients", "universal_approximation", "logic_gates"]


def run_study(examples: Path, name: str, out: Path) -> str:
    """Run examples/<name>.py --quick into `out`; what it printed."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(examples / f"{name}.py"), "--quick", "--out",
                           str(out)], capture_output=True, text=True, env=env, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"examples/{name}.py failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def page(examples: Path, name: str, printed: str, figures: list[str]) -> str:
    doc = ast.get_docstring(ast.parse((examples / f"{name}.py").read_text())) or name
    title, _, body = doc.partition("\n\n")  # the first paragraph is the title
    lines = [f"# {' '.join(title.split())}", "",
             f"`examples/{name}.py`, run with `--quick` when these pages were built.", "",
             "```text", body.strip(), "```", "",
             "## What it printed", "", "```text", printed.rstrip(), "```", "", "## Figures", ""]
    for figure in figures:
        lines += [f"![{figure}]({name}/{figure})", ""]
    return "\n".join(lines)


def build(root: Path, target: Path) -> None:
    """Run every study and write target/index.md and target/<study>.md."""
    examples = root / "examples"
    entries = []
    for name in STUDIES:
        printed = run_study(examples, name, target / name)
        figures = sorted(p.name for p in (target / name).glob("*.png"))
        if not figures:
            raise RuntimeError(f"examples/{name}.py saved no figure")
        (target / f"{name}.md").write_text(page(examples, name, printed, figures))
        entries.append(name)
    index = ["# Gallery of the studies", "",
             "The lecture notes' studies, re-run by nnc's scripts in `examples/` each time "
             "this documentation is built. Every page shows the script's description, "
             "its printed tables and its figures.", "", "```{toctree}", ":maxdepth: 1", "",
             *entries, "```", ""]
    (target / "index.md").write_text("\n".join(index))
