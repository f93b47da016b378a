"""How saves replace files and what loads agree to read (docs/design.md
"Replacing files"): links followed, non-regular files never replaced nor
read, unplantable temporaries, modes kept, stale temporaries of killed
saves removed, the old file intact when a write fails or the saver dies.
Both formats: .npz and .nncb (the C library's nnc_model_save shares the
code; tests/c/test_engine.c checks it from C)."""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers.processes import PACKAGE_PARENT

import nnc

FORMATS = ["npz", "nncb"]


def model(seed=1, units=4):
    m = nnc.Sequential([nnc.Dense(units, activation="tanh"), nnc.Dense(2)], seed=seed,
                       dtype="float64")
    m.build(3)
    m.compile(optimizer="adam", loss="mse")
    return m


def params_of(path):
    return nnc.load_model(path).get_flat_params()


def temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_link_is_followed_and_stays_a_link(tmp_path, fmt):
    target, link = tmp_path / f"v3.{fmt}", tmp_path / f"current.{fmt}"
    model(seed=1).save(target)
    link.symlink_to(target.name)
    new = model(seed=2)
    new.save(link)
    assert link.is_symlink() and os.readlink(link) == target.name
    np.testing.assert_array_equal(params_of(target), new.get_flat_params())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, link.name])


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_dangling_link_is_refused(tmp_path, fmt):
    link = tmp_path / f"m.{fmt}"
    link.symlink_to("missing-dir/elsewhere")
    with pytest.raises(FileNotFoundError):
        model().save(link)
    assert link.is_symlink() and not (tmp_path / "missing-dir").exists()


def non_regular_files(tmp_path):
    """A FIFO, a socket and (as root) a character device node like
    /dev/null, all in tmp_path so that a broken saver harms nothing."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    found = {"fifo": fifo, "socket": sock_path}
    if os.geteuid() == 0:
        null = tmp_path / "null"
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        found["device"] = null
    return found, sock


@pytest.mark.parametrize("fmt", FORMATS)
def test_devices_fifos_sockets_and_directories_are_never_replaced(tmp_path, fmt):
    files, sock = non_regular_files(tmp_path)
    try:
        m = model()
        for kind, path in files.items():
            mode = path.lstat().st_mode
            with pytest.raises(OSError, match="not a regular file"):
                m.save(path) if fmt == "npz" else nnc.save_binary(m, path)
            assert path.lstat().st_mode == mode, kind  # still the same kind of file
        (tmp_path / "dir").mkdir()
        with pytest.raises(IsADirectoryError):
            m.save(tmp_path / "dir")
        assert temporaries(tmp_path) == []
    finally:
        sock.close()


def test_loading_reads_regular_files_only(tmp_path):
    """/dev/zero would stream without end and a FIFO with no writer would
    block: both are refused at once (in a subprocess, so a regression is a
    timeout rather than a hung suite)."""
    files, sock = non_regular_files(tmp_path)
    sock.close()
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {PACKAGE_PARENT!r})
        import nnc
        for path in sys.argv[1:]:
            for load in (nnc.load_model, nnc.load_binary):
                try:
                    load(path)
                except OSError as exc:
                    print("refused", path, exc.errno)
                else:
                    print("loaded", path)
    """)
    paths = ["/dev/zero", str(files["fifo"])]
    run = subprocess.run([sys.executable, "-c", script, *paths], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 4 and all(line.startswith("refused") for line in lines), run.stdout
    link = tmp_path / "zero.npz"
    link.symlink_to("/dev/zero")
    with pytest.raises(OSError, match="not a regular file"):
        nnc.load_model(link)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_file_planted_at_a_guessable_temporary_name_is_not_written_through(tmp_path, fmt):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    target = tmp_path / f"m.{fmt}"
    for guess in (f"{target.name}.tmp", f".{target.name}.tmp", f".nnc-{target.name}.tmp"):
        (tmp_path / guess).symlink_to(victim)
    model().save(target)
    assert victim.read_bytes() == b"precious"
    assert not target.is_symlink()
    nnc.load_model(target)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_existing_file_keeps_its_mode_and_a_new_one_honours_the_umask(tmp_path, fmt):
    target = tmp_path / f"m.{fmt}"
    old = os.umask(0o027)
    try:
        model().save(target)
        assert stat.S_IMODE(target.stat().st_mode) == 0o640  # 0666 less the umask
        target.chmod(0o604)
        model(seed=3).save(target)
        assert stat.S_IMODE(target.stat().st_mode) == 0o604
    finally:
        os.umask(old)


SLOW_SAVE = """
import os, sys, time
sys.path.insert(0, {parent!r})
import nnc
from nnc.saving import write_atomic

def write(f):
    f.write(b"partial")
    f.flush()
    print("writing", flush=True)
    time.sleep(600)

write_atomic({target!r}, write)
"""


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_save_killed_with_sigkill_leaves_the_old_file_and_its_temporary_is_cleaned(
        tmp_path, fmt):
    target = tmp_path / f"m.{fmt}"
    first = model(seed=1)
    first.save(target)
    good = target.read_bytes()
    seen = set()
    for _ in range(3):  # each killed save leaves one temporary, the next removes it
        proc = subprocess.Popen([sys.executable, "-c", SLOW_SAVE.format(
            parent=PACKAGE_PARENT, target=str(target))], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        assert target.read_bytes() == good
        (left,) = temporaries(tmp_path)
        assert left not in seen
        seen.add(left)
    second = model(seed=2)
    second.save(target)  # removes the dead savers' temporaries
    assert temporaries(tmp_path) == []
    np.testing.assert_array_equal(params_of(target), second.get_flat_params())


def test_a_live_savers_temporary_is_left_alone(tmp_path):
    """Only temporaries of processes that no longer exist are removed: one
    named for this (live) process id stays."""
    target = tmp_path / "m.npz"
    mine = tmp_path / f".m.npz.nnc-{os.getpid()}-0123456789abcdef.tmp"
    mine.write_bytes(b"in progress")
    model().save(target)
    assert mine.exists()


FULL_DISK = """
import resource, signal, sys
sys.path.insert(0, {parent!r})
import nnc
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
m = nnc.Sequential([nnc.Dense(200, input_dim=200)], seed=1)
m.compile(loss="mse")
try:
    m.save({target!r})
except OSError as exc:
    print("OSError", exc.errno)
"""


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_failed_write_raises_oserror_and_leaves_the_previous_file_intact(tmp_path, fmt):
    """A real write failure (the file-size limit makes write() fail with
    EFBIG, as a full disk fails with ENOSPC), not a mocked one."""
    target = tmp_path / f"m.{fmt}"
    model().save(target)
    good = target.read_bytes()
    run = subprocess.run([sys.executable, "-c", FULL_DISK.format(
        parent=PACKAGE_PARENT, target=str(target))], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["OSError", str(errno.EFBIG)]
    assert target.read_bytes() == good
    assert temporaries(tmp_path) == []
