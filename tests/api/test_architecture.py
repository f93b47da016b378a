"""The package's structure, as docs/architecture.md describes it: no import
cycles among nnc's modules (imports inside functions included), no module
named like a standard-library one, and no module but model.py touching a
Sequential's private attributes."""

from __future__ import annotations

import ast
import pathlib
import re
import sys

import nnc

PACKAGE = pathlib.Path(nnc.__file__).resolve().parent


def modules() -> dict[str, pathlib.Path]:
    """{dotted module name: file} of every Python module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name.startswith("."):
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(name: str, path: pathlib.Path, known: set[str]) -> set[str]:
    """The package's modules that `name` imports, anywhere in its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # `from x import y` imports module x.y when there is one, else x.
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix
                       for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def test_no_import_cycles_among_nnc_modules():
    mods = modules()
    known = set(mods) | {"nnc._core"}  # the C extension: imports nothing of nnc
    graph = {name: imports(name, path, known) for name, path in mods.items()}
    graph["nnc._core"] = set()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    cycles = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)
    # The scan sees imports at all, including those inside functions.
    assert {"nnc.saving", "nnc._training"} <= graph["nnc.model"]
    assert "nnc.onnx" in graph["nnc.model"] and "nnc.torch_interop" in graph["nnc.model"]


def test_no_module_shadows_the_standard_library():
    stdlib = set(sys.stdlib_module_names)
    clashes = [name for name in modules() if name.rpartition(".")[2] in stdlib]
    assert clashes == [], clashes


def test_former_module_names_still_import():
    import nnc.inspect
    import nnc.io
    from nnc.io import ModelFileError

    assert nnc.io is nnc.saving and nnc.inspect is nnc.inspection
    assert ModelFileError is nnc.errors.ModelFileError


def test_only_model_py_touches_a_sequentials_private_attributes():
    model = nnc.Sequential([nnc.Dense(2, input_dim=3)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    model.build()
    private = {name for name in (*vars(model), *vars(nnc.Sequential))
               if name.startswith("_") and not name.startswith("__")}
    assert {"_core", "_layers", "_loss", "_dense"} <= private
    offenders = []
    for name, path in modules().items():
        if name == "nnc.model":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in private:
                offenders.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert offenders == [], offenders


def test_every_subpackage_is_installed():
    """pyproject.toml lists the packages the wheel holds: a new subpackage
    missing there would only work from the checkout."""
    from helpers.paths import REPO

    line = re.search(r"^packages = \[(.*)\]$", (REPO / "pyproject.toml").read_text(), re.M)
    listed = set(re.findall(r'"([^"]+)"', line.group(1)))
    found = {".".join(init.parent.relative_to(REPO).parts)
             for init in (REPO / "nnc").rglob("__init__.py")}
    assert listed == found
