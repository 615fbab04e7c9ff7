"""The scan snapshot, checked against its CRC-32 once per boot instead of at every open.

A snapshot (38 MB at 200,000 scans) is written whole, renamed into place and
never written again, yet every open read it through for its checksum: on a
Pi a read of the SD card and tens to hundreds of milliseconds of CPU for
every ``kiosk status``. The check guards against the card changing bytes
(worn flash, a power cut mid-erase); within a boot, what was read once is
mostly served from the page cache, so reading it again would rarely see the
card at all. So the first opener of a boot checks, and a writer that saw
the check pass leaves a note beside the file (``scans.verified``: the boot,
the file's device, inode, size and time of change, and the checksum
matched). Later openers in that boot that find the note matching skip the
read. A change through the file system moves the
file's time and a new file is a new inode: either makes the note stale. A
file changed less than :data:`SETTLED_NS` before its check gets no note,
since a change within the file system's clock tick would not move the time.
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


def _note(st: os.stat_result, crc: int) -> bytes | None:
    try:
        boot = BOOT_ID.read_bytes().strip()
    except OSError:
        return None
    return b"%s %d %d %d %d %08x\n" % (boot, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, crc)


def vouched(path: Path, fd: int, crc: int) -> bool:
    """Whether the file open on ``fd`` was found to have CRC-32 ``crc`` earlier in this boot."""
    note = _note(os.fstat(fd), crc)
    try:
        return note is not None and note_path(path).read_bytes() == note
    except OSError:
        return False


def vouch(path: Path, fd: int, crc: int) -> None:
    """Note that the file open on ``fd`` matched ``crc``; a cache, so failing to is no error."""
    st = os.fstat(fd)
    note = _note(st, crc)
    if note is None or time.time_ns() - st.st_mtime_ns < SETTLED_NS:
        return
    with contextlib.suppress(OSError):
        atomic_write(note_path(path), [note], sync=False)
