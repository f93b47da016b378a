"""What the lecture-note studies in examples/ share: their command line
(--out, --quick, --dtype) and saving a figure as a PNG."""

from __future__ import annotations

import argparse
import os


def study_arguments(argv, doc: str, quick_help: str, dtype: str = "float32"):
    """Parse the study's arguments, create --out, and make matplotlib draw
    to files unless MPLBACKEND chooses a backend."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the PNG files")
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--dtype", default=dtype, choices=["float32", "float64"])
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    import matplotlib

    if not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")  # files only
    return args


def save_png(fig, directory: str, name: str) -> None:
    """Write `fig` to directory/name and free it."""
    import matplotlib.pyplot as plt

    fig.savefig(os.path.join(directory, name), dpi=80)
    plt.close(fig)
