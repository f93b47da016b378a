"""Run the Python examples of a Markdown page (README.md, docs/*.md) the way
a reader would: every block, in order, in one interpreter, and compare what
each block prints with the page.

The convention (CONTRIBUTING.md, "Examples in the documentation"):

- every fenced block opened with ```python is executed, in page order, in
  one namespace, in a fresh interpreter started in an empty folder (files
  the examples write land there);
- a fenced block opened with ```text right after a Python block (only
  blank lines between them) is that block's printed output, compared
  exactly (trailing spaces ignored); a block that prints and has no such
  block fails, and so does one that raises;
- other blocks (shell commands, C) are not run here: the shell commands are
  the CI's own (.ci/run) and tests/examples/test_demo.py's.

``python tests/helpers/page_examples.py --update README.md docs/guide.md``
reruns the pages and rewrites their output blocks to what is printed now
(for a change that legitimately moves a printed number); review the diff.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(\S*)")


@dataclass
class Block:
    """A fenced block: its info word, first and last content line (0-based,
    into the page's lines) and text."""

    lang: str
    start: int
    end: int
    text: str


@dataclass
class Example:
    """A Python block and the output block that follows it, if any."""

    code: Block
    output: Block | None


def blocks(lines: list[str]) -> list[Block]:
    found, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        if j == len(lines):
            raise ValueError(f"line {i + 1}: a fenced block that is never closed")
        found.append(Block(match[1], i + 1, j, "".join(line + "\n" for line in lines[i + 1:j])))
        i = j + 1
    return found


def examples(text: str) -> list[Example]:
    """The page's Python blocks, each with its output block."""
    lines = text.splitlines()
    found = blocks(lines)
    out = []
    for k, block in enumerate(found):
        if block.lang != "python":
            continue
        nxt = found[k + 1] if k + 1 < len(found) else None
        between = lines[block.end + 1:nxt.start - 1] if nxt else []
        follows = nxt is not None and nxt.lang == "text" and not any(s.strip() for s in between)
        out.append(Example(block, nxt if follows else None))
    return out


#: Runs in the child interpreter: executes the blocks in one namespace and
#: reports each block's stdout (or the traceback of the one that raised) as
#: JSON on the real stdout's last line.
DRIVER = r"""
import contextlib, io, json, sys, traceback
page, codes = sys.argv[1], json.loads(sys.stdin.read())
namespace = {"__name__": "__main__"}
real_stdout = sys.stdout
results = []
for line, code in codes:
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured):
            exec(compile(code, f"{page}, block at line {line}", "exec"), namespace)
    except BaseException:
        results.append({"stdout": captured.getvalue(), "error": traceback.format_exc()})
        break
    results.append({"stdout": captured.getvalue(), "error": None})
real_stdout.write("\n" + json.dumps(results) + "\n")
"""


def run_page(page: Path, cwd: Path, env: dict | None = None, timeout: float = 900) -> list[dict]:
    """Execute the page's Python blocks in one new interpreter in `cwd`;
    one result per block run: {"stdout": ..., "error": traceback or None}."""
    found = examples(page.read_text())
    codes = [(ex.code.start, ex.code.text) for ex in found]
    full_env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
    out = subprocess.run([sys.executable, "-c", DRIVER, page.name], input=json.dumps(codes),
                         capture_output=True, text=True, cwd=cwd, env=full_env, timeout=timeout)
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"the interpreter running {page} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def mismatches(page: Path, results: list[dict]) -> list[str]:
    """What differs between the page and its run, one message per block."""
    problems = []
    for ex, result in zip(examples(page.read_text()), results):
        where = f"{page.name}, block at line {ex.code.start}"
        if result["error"]:
            problems.append(f"{where} raised:\n{result['error']}")
            continue
        printed = normalise(result["stdout"])
        expected = normalise(ex.output.text) if ex.output else ""
        if printed != expected:
            problems.append(f"{where} printed\n{printed or '(nothing)'}\n"
                            f"but the page says\n{expected or '(nothing)'}")
    return problems


def update(page: Path, results: list[dict]) -> None:
    """Rewrite the page's output blocks to the printed output (insert one
    after a block that prints and has none; drop one after a block that
    prints nothing)."""
    lines = page.read_text().splitlines()
    found = examples(page.read_text())
    failed = [r["error"] for r in results if r["error"]]
    if failed or len(results) != len(found):
        raise RuntimeError("a block raised; fix it before updating:\n" + "\n".join(failed))
    # From the last block up, so earlier line numbers stay valid.
    for ex, result in reversed(list(zip(found, results))):
        printed = normalise(result["stdout"])
        new = ["```text", *printed.splitlines(), "```"] if printed else []
        if ex.output:
            lines[ex.output.start - 1:ex.output.end + 1] = new
            if not new:  # also drop the blank line left between the blocks
                del lines[ex.code.end + 1:ex.output.start - 1]
        elif new:
            lines[ex.code.end + 1:ex.code.end + 1] = [""] + new
    page.write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--update"]
    status = 0
    for name in args:
        page = Path(name).resolve()
        with tempfile.TemporaryDirectory() as cwd:
            results = run_page(page, Path(cwd))
        if "--update" in argv:
            update(page, results)
            print(f"{name}: {len(results)} blocks run, output blocks rewritten")
        else:
            problems = mismatches(page, results)
            print(f"{name}: {len(results)} blocks run, {len(problems)} differ")
            for problem in problems:
                print(problem)
            status |= bool(problems)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
