"""Model files on disk: opening one to read (regular files only) and
replacing one so that its path never holds a half-written version.

The rule (which files may be replaced, how the temporary file is named and
created, links, permissions, fsync, stale temporaries) is the engine's
``nnc_file_replace_begin`` (csrc/include/nnc.h; docs/design.md "Replacing
files"), so Python's savers and the C library's ``nnc_model_save`` behave
the same.
"""

from __future__ import annotations

import errno
import os
import stat

from .. import _core


def write_atomic(path, write) -> None:
    """Call ``write(file)`` on a new temporary file next to `path` (after
    following links), make it durable and rename it over `path`. The
    target is never half written; a failed write leaves the old file and
    no temporary file. Directories, devices, FIFOs and sockets are never
    replaced (``IsADirectoryError`` / ``OSError``)."""
    replacement = _core.FileReplacement(os.fspath(path))
    try:
        with os.fdopen(os.dup(replacement.fileno()), "wb") as f:
            write(f)
        replacement.commit()
    finally:
        replacement.abort()  # no-op once committed


def open_regular(path):
    """`path` opened for binary reading, or OSError when it is not a regular
    file: a device (``/dev/zero``), FIFO or socket could stream without end,
    so loaders refuse it before reading (a FIFO is opened without waiting
    for a writer). Links are followed."""
    fd = os.open(os.fspath(path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", os.fsdecode(path))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file (a device, FIFO or socket cannot "
                          "hold a model)", os.fsdecode(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
