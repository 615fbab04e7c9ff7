"""Files that survive a power cut: written, fsynced, renamed into place.

The store's snapshots and the SLiMS upload file both promise that what the
librarian was told is on disk really is; one implementation keeps that promise.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is out (a short write is not an error)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def write_file(path: Path, chunks: Iterable[bytes], *, mode: int = 0o640, sync: bool = True) -> int:
    """Create (or truncate) ``path``, write ``chunks``, fsync and close; returns the size.

    ``sync=False`` skips the fsync: for a cache that is checked before it is used.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    size = 0
    try:
        for chunk in chunks:
            write_all(fd, chunk)
            size += len(chunk)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    return size


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path, chunks: Iterable[bytes], *, mode: int = 0o640, sync: bool = True
) -> int:
    """Replace ``path`` as a whole: readers and power cuts see the old file or the new one.

    Written to ``NAME.tmp`` beside it, fsynced, renamed over ``path``, and the
    folder fsynced, so the new file is durable when this returns. Returns its size.
    ``sync=False`` (a checked cache) only renames: readers still never see half a file.
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        size = write_file(tmp, chunks, mode=mode, sync=sync)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sync:
        fsync_dir(path.parent)
    return size
