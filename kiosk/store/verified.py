"""Big files that are never changed in place, checked once per boot instead of at every open.

A snapshot (38 MB at 200,000 scans) and the catalogue index are written
whole, renamed into place and never written again; every open still read
them through for their CRC-32, which on a Pi is a read of the SD card and
tens to hundreds of milliseconds of CPU for every ``kiosk status``. What that
check guards against is the card itself changing bytes (worn flash, a power
cut mid-erase), which a boot is when it shows: what was read once in a boot
is served from the page cache until the next one. So the first opener in a
boot checks; a writer that saw the check pass leaves a note beside the file
(``scans.verified`` beside ``scans.json``: the boot, the file's device, inode, size and time of
change, and the checksum it matched), and later openers in the same boot
that find the note matching skip the read. Any change through the file
system moves the file's time, and a new file is a new inode: either makes
the note stale. A note is only left for a file last changed
:data:`SETTLED_NS` ago or more, because a change within the file system's
clock tick would not move the time.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from kiosk.fileio import atomic_write

#: Changes every boot (Linux); without it nothing is vouched for.
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
#: How long a file must have been unchanged before its check is noted down.
SETTLED_NS = 2_000_000_000


def note_path(path: Path) -> Path:
    return path.with_suffix(".verified")


def _note(fd: int, crc: int) -> bytes | None:
    try:
        boot = BOOT_ID.read_bytes().strip()
    except OSError:
        return None
    st = os.fstat(fd)
    return b"%s %d %d %d %d %08x\n" % (boot, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, crc)


def vouched(path: Path, fd: int, crc: int) -> bool:
    """Whether the file open on ``fd`` was found to have CRC-32 ``crc`` earlier in this boot."""
    note = _note(fd, crc)
    try:
        return note is not None and note_path(path).read_bytes() == note
    except OSError:
        return False


def vouch(path: Path, fd: int, crc: int) -> None:
    """Note that the file open on ``fd`` matched ``crc``; a cache, so failing to is no error."""
    note = _note(fd, crc)
    if note is None or time.time_ns() - os.fstat(fd).st_mtime_ns < SETTLED_NS:
        return
    with contextlib.suppress(OSError):
        atomic_write(note_path(path), [note], sync=False)
