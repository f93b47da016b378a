"""Measure the default initialisation against PyTorch's (docs/design.md,
Default initialisation): median test accuracy (R^2 for the sine) over 5
seeds on the problems of tests/helpers/default_init.py, for nnc's default
and for the candidate rules it was chosen from, next to torch's defaults.

    python bench/default_init.py            # every candidate (about a minute)
    python bench/default_init.py --default  # nnc's default and torch only
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import default_init as d  # noqa: E402


def drawn(kernel, bias):
    """Initial weights drawn with NumPy: kernel(activation, fan_in, fan_out)
    and bias(fan_in) give the uniform limits (0 for zeros)."""
    def weights(model):
        rng = np.random.default_rng(model.seed)
        out, fan_in = [], model.input_dim
        for layer in model.layers:
            out.append(rng.uniform(-1, 1, (fan_in, layer.units)) *
                       kernel(layer.activation, fan_in, layer.units))
            out.append(rng.uniform(-1, 1, layer.units) * bias(fan_in))
            fan_in = layer.units
        return out
    return weights


def notes_table(act, fi, fo):
    scale = {"sigmoid": 4.0, "relu": math.sqrt(2.0)}.get(act, 1.0)
    return scale * math.sqrt(6.0 / (fi + fo))


def glorot_he(act, fi, fo):
    return math.sqrt(6.0 / fi) if act == "relu" else math.sqrt(6.0 / (fi + fo))


CANDIDATES = {
    "notes+zeros": lambda p, a, s: d.train_nnc(p, a, s, kernel_initializer="auto",
                                               bias_initializer="zeros"),
    "notes+fanin_b": lambda p, a, s: d.train_nnc(
        p, a, s, weights=drawn(notes_table, lambda fi: 1 / math.sqrt(fi))),
    "glorot/he+fanin_b": lambda p, a, s: d.train_nnc(
        p, a, s, weights=drawn(glorot_he, lambda fi: 1 / math.sqrt(fi))),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--default", action="store_true", help="nnc's default and torch only")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    d.nnc.set_num_threads(1)
    runs = {"nnc default": d.train_nnc}
    if not args.default:
        runs.update(CANDIDATES)
    runs["torch default"] = d.train_torch
    table = {name: d.medians(fn) for name, fn in runs.items()}
    names = list(table)
    print(f"{'problem':<15}{'act':<9}" + "".join(f"{n:>19}" for n in names))
    for key in table["torch default"]:
        print(f"{key[0]:<15}{key[1]:<9}" + "".join(f"{table[n][key]:>19.3f}" for n in names))
    torch_scores = table["torch default"]
    for name in names[:-1]:
        worse = [k for k in torch_scores if table[name][k] < torch_scores[k]]
        margin = min(table[name][k] - torch_scores[k] for k in torch_scores)
        print(f"{name}: below torch on {len(worse)}/{len(torch_scores)} "
              f"(worst difference {margin:+.3f}), mean {np.mean(list(table[name].values())):.3f}"
              f" vs torch {np.mean(list(torch_scores.values())):.3f}")


if __name__ == "__main__":
    main()
