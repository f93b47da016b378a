"""The C engine built for the tests with the project's own Makefile.

conftest's session fixture ``c_build`` hands out a `CBuild`; ``c_build(flavour)``
builds the engine once a session per flavour (FLAVOURS) with

    make -C csrc BUILD=<tmp>/<flavour> CC=<cc> CFLAGS=<flags> LDFLAGS=<flags> -j<n> <target>

and returns an `Engine`, whose ``program(source)`` links a C program (tests/c,
examples/c) against that flavour's libnnc.a, or libnnc.so with shared=True,
compiled and linked with the same flags. Sources, include folders and the
engine's own flags are csrc/Makefile's business (csrc/sources.mk); a program
that reaches the engine's internal headers (internal_headers=True) gets the
-I flags of ``make -C csrc -s print-cppflags``.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.optional import need
from helpers.paths import REPO

CSRC = REPO / "csrc"

SANITIZE = ("-fsanitize=address,undefined", "-fno-omit-frame-pointer",
            "-fno-sanitize-recover=all")


@dataclass(frozen=True)
class Flavour:
    """One way of building the engine and the programs linked against it."""

    name: str
    #: CFLAGS of the engine's objects, and of the programs compiled and
    #: linked against it (LDFLAGS too: the sanitizers need their runtime).
    flags: tuple[str, ...]
    #: The Makefile target: "all" (libnnc.a, libnnc.so, include/nnc.h) or
    #: "static" (libnnc.a, include/nnc.h).
    target: str
    #: What a build failure that names it means is missing (see `need`).
    runtime: str | None = None


FLAVOURS = {flavour.name: flavour for flavour in [
    # What a user builds (-O2), warnings as errors.
    Flavour("release", ("-O2", "-Werror"), "all"),
    # For valgrind and behaviour-only checks: quick to build, exact lines.
    # -O0: the AVX-512 kernels take 4x longer to compile at -O1.
    Flavour("debug", ("-O0", "-g", "-Werror"), "static"),
    # AddressSanitizer and UndefinedBehaviorSanitizer, stopping at the
    # first error.
    Flavour("sanitize", ("-O0", "-g", *SANITIZE, "-Werror"), "static",
            runtime="the sanitizer runtime (libasan/libubsan)"),
]}

#: Flags of every program on top of its flavour's (the engine's own come
#: from csrc/sources.mk).
PROGRAM_FLAGS = ("-std=c11", "-Wall", "-Wextra", "-pthread")


def _unix_only() -> None:
    if sys.platform == "win32":
        pytest.skip("the C engine is built with make and a Unix C compiler")


@functools.cache
def compiler() -> str:
    """The system C compiler: cc, gcc or clang, the first found."""
    for cc in ("cc", "gcc", "clang"):
        if shutil.which(cc):
            return cc
    pytest.fail("no C compiler found (cc, gcc or clang): the engine's C tests need one")


def _make(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    if not shutil.which("make"):
        pytest.fail("`make` is not installed: the C tests build the engine with make -C csrc")
    return subprocess.run(["make", "-C", str(CSRC), f"CC={compiler()}", *args],
                          capture_output=True, text=True, timeout=timeout)


@functools.cache
def internal_cppflags() -> tuple[str, ...]:
    """The -I flags that reach the engine's internal headers."""
    run = _make("-s", "print-cppflags", timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    return tuple(run.stdout.split())


def _failed(flavour: Flavour, what: str, output: str) -> None:
    """A build step failed: a missing runtime of the flavour fails in CI and
    skips elsewhere (helpers.optional.need); anything else fails."""
    if flavour.runtime and re.search(r"asan|ubsan|sanitize", output, re.I):
        need(flavour.runtime, output[-500:])
    pytest.fail(f"{what} ({flavour.name} build) failed:\n{output[-6000:]}", pytrace=False)


def link(flavour: Flavour, source: Path, exe: Path, *, include=(), libraries=()) -> Path:
    """Compile and link the C program `source` into `exe` with the flavour's
    flags: a program of its own unless `libraries` names the engine."""
    _unix_only()
    exe.parent.mkdir(parents=True, exist_ok=True)
    cmd = [compiler(), *PROGRAM_FLAGS, *flavour.flags, *include, str(source), *libraries,
           "-lm", "-o", str(exe)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        _failed(flavour, f"building {source.name}", " ".join(cmd) + "\n" + run.stderr)
    return exe


class Engine:
    """The engine built in one flavour: `dir` holds libnnc.a, libnnc.so
    (target "all") and include/nnc.h, as ``make -C csrc BUILD=dir`` leaves
    them."""

    def __init__(self, flavour: Flavour, directory: Path):
        self.flavour = flavour
        self.dir = directory
        self._programs: dict[tuple, Path] = {}
        run = _make(f"BUILD={directory}", f"CFLAGS={' '.join(flavour.flags)}",
                    f"LDFLAGS={' '.join(flavour.flags)}", f"-j{max(2, os.cpu_count() or 1)}",
                    flavour.target)
        if run.returncode != 0:
            _failed(flavour, "make -C csrc", run.stdout[-3000:] + run.stderr)

    def program(self, source: Path, *, shared: bool = False,
                internal_headers: bool = False, link_flags: tuple[str, ...] = ()) -> Path:
        """`source` built against this engine (once), in dir/bin/: linked
        with libnnc.a, or with libnnc.so (rpath set) when `shared`; compiled
        against the installed header include/nnc.h, and the engine's
        internal headers too when `internal_headers`; `link_flags` go after
        the library (e.g. -Wl,--wrap=malloc)."""
        key = (Path(source), shared, internal_headers, tuple(link_flags))
        if key not in self._programs:
            libraries = ([f"-L{self.dir}", "-lnnc", f"-Wl,-rpath,{self.dir}"] if shared
                         else [str(self.dir / "libnnc.a")]) + list(link_flags)
            include = [f"-I{self.dir / 'include'}",
                       *(internal_cppflags() if internal_headers else ())]
            name = Path(source).stem + ("_shared" if shared else "")
            self._programs[key] = link(self.flavour, Path(source), self.dir / "bin" / name,
                                       include=include, libraries=libraries)
        return self._programs[key]


class CBuild:
    """``c_build(flavour)``: the engine built in that flavour, once a session
    (a failed build fails, or skips, every test that asks for it)."""

    def __init__(self, directory: Path):
        self._dir = directory
        self._engines: dict[str, Engine] = {}
        self._outcomes: dict[str, BaseException] = {}

    def __call__(self, flavour: str = "release") -> Engine:
        _unix_only()
        if flavour in self._outcomes:
            raise self._outcomes[flavour]
        if flavour not in self._engines:
            try:
                self._engines[flavour] = Engine(FLAVOURS[flavour], self._dir / flavour)
            except (pytest.fail.Exception, pytest.skip.Exception) as outcome:
                self._outcomes[flavour] = outcome
                raise
        return self._engines[flavour]
