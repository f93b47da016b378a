"""Writing a file so that its path never holds a half-written version."""

from __future__ import annotations

import os
import tempfile


def write_atomic(path, write) -> None:
    """Call ``write(file)`` on a temporary file next to `path`, flush it to
    disk and rename it over `path`: the target is never half written, and a
    failed write leaves the old file and no temporary file."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".nnc-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable where the OS allows it
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
