"""Honest timestamps on a computer without a real-time clock.

A Raspberry Pi boots with whatever time ``fake-hwclock`` or
``systemd-timesyncd`` saved at the last shutdown, and only learns the real
time once it reaches an NTP server: in the stacks, possibly never that day.
So every scan is stamped with three things:

* ``wall``: ``time.time()`` as the Pi believed it,
* ``mono``: seconds since boot (``CLOCK_BOOTTIME``), which never jumps,
* ``boot`` and ``synced``: which boot the reading belongs to and whether
  the wall clock was synchronised at that moment.

Order within a boot comes from ``mono`` (the store's sequence number orders
across boots). Once the clock is synchronised, :class:`Clock` records an
:class:`Anchor` (``wall - mono`` for this boot); :func:`redate` then turns any
earlier stamp of the same boot into its true wall time. Stamps from a boot
that never saw a synchronised clock stay marked ``exact=False``: reports must
show them as approximate rather than invent a date.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

log = logging.getLogger(__name__)

#: systemd-timesyncd creates this file once it has synchronised the clock.
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")
#: Where the kernel publishes the current boot's random identifier.
BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")
#: A wall clock earlier than this was certainly never set (1970 after a
#: power cut without fake-hwclock, or an image's build date).
PLAUSIBLE_AFTER = datetime(2025, 1, 1, tzinfo=UTC).timestamp()

_TIME_ERROR = 5  # adjtimex(2) return value: clock not synchronised


class SyncState(StrEnum):
    """Whether the wall clock is known to follow real time."""

    SYNCED = "synced"
    UNSYNCED = "unsynced"
    UNKNOWN = "unknown"  # could not be asked (e.g. ProtectClock= forbids adjtimex)


def kernel_sync_state() -> SyncState:
    """Ask the kernel (``adjtimex``, read-only) whether NTP disciplines the clock.

    This covers every NTP client (timesyncd, chrony, ntpd). Services with
    ``ProtectClock=yes`` get ``EPERM`` even for reading; then ``UNKNOWN``.
    """
    import ctypes  # noqa: PLC0415 (asked at the first scan, not at start)

    adjtimex = _adjtimex()
    if adjtimex is None:
        return SyncState.UNKNOWN
    # struct timex is at most ~210 bytes on any ABI; modes=0 (all zero) only reads.
    buf = ctypes.create_string_buffer(512)
    state = int(adjtimex(buf))
    if state < 0:
        err = ctypes.get_errno()
        if err != errno.EPERM:
            log.debug("adjtimex failed: %s", os.strerror(err))
        return SyncState.UNKNOWN
    return SyncState.UNSYNCED if state == _TIME_ERROR else SyncState.SYNCED


@functools.cache
def _adjtimex() -> Callable[[Any], int] | None:
    """libc's ``adjtimex``, looked up once among the symbols already loaded.

    Not through ``ctypes.util.find_library``: that starts ``ldconfig`` as a
    child process each time (about 10 ms here, more on a Pi), at every start.
    """
    import ctypes  # noqa: PLC0415

    try:
        fn: Callable[[Any], int] = ctypes.CDLL(None, use_errno=True).adjtimex
    except (OSError, AttributeError):
        return None
    return fn


def sync_state(
    flag: Path = TIMESYNC_FLAG, *, kernel: Callable[[], SyncState] = kernel_sync_state
) -> SyncState:
    """Best available answer: the kernel's, else systemd-timesyncd's flag file.

    The flag file is the fallback inside the hardened service, where adjtimex
    is refused; its absence then proves nothing on a chrony host, so it only
    ever upgrades ``UNKNOWN`` to ``SYNCED``.
    """
    state = kernel()
    if state is SyncState.UNKNOWN and flag.exists():
        return SyncState.SYNCED
    return state


def boottime() -> float:
    """Seconds since boot, counting suspend; never jumps when the wall clock is set."""
    try:
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return time.monotonic()


def read_boot_id(path: Path = BOOT_ID_PATH) -> str:
    """The current boot's identifier, or ``""`` when the kernel does not say."""
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def plausible(wall: float) -> bool:
    """Whether a wall time can be a real date for a scan (not an unset clock)."""
    return wall >= PLAUSIBLE_AFTER


class Stamp(NamedTuple):
    """When something happened, as well as this Pi could tell at that moment."""

    wall: float
    mono: float
    boot: str
    synced: bool

    def to_dict(self) -> dict[str, Any]:
        return {"wall": self.wall, "mono": self.mono, "boot": self.boot, "synced": self.synced}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Stamp:
        return cls(
            wall=float(d["wall"]),
            mono=float(d["mono"]),
            boot=str(d.get("boot", "")),
            synced=bool(d.get("synced", False)),
        )


class Anchor(NamedTuple):
    """Links one boot's monotonic clock to real time (taken while synchronised)."""

    boot: str
    offset: float  # wall - mono

    def wall_at(self, mono: float) -> float:
        return mono + self.offset


class Dated(NamedTuple):
    """A stamp's best wall time and whether it is trustworthy."""

    wall: float
    exact: bool

    def isoformat(self) -> str:
        """Local time to the second, with ``~`` in front when approximate."""
        text = datetime.fromtimestamp(self.wall).astimezone().isoformat(timespec="seconds")
        return text if self.exact else "~" + text


def redate(stamp: Stamp, anchors: Mapping[str, Anchor] | None) -> Dated:
    """The true time of ``stamp`` if it can be known, else its reading marked inexact.

    ``anchors`` maps boot ids to the anchor recorded in that boot. A
    synchronised stamp is exact as it stands; an unsynchronised one is exact
    only if its own boot later recorded an anchor.
    """
    if stamp.synced:
        return Dated(stamp.wall, exact=True)
    anchor = None if anchors is None else anchors.get(stamp.boot)
    if anchor is not None and stamp.boot and anchor.boot == stamp.boot:
        return Dated(anchor.wall_at(stamp.mono), exact=True)
    return Dated(stamp.wall, exact=False)


class Clock:
    """Stamps events and notices when the wall clock becomes trustworthy.

    The sync probe is a syscall plus maybe a ``stat``; it runs at most once
    per ``probe_every`` seconds, so :meth:`now` is cheap enough for every scan.
    Until a probe says synchronised, stamps are marked unsynchronised: erring
    that way costs nothing, because :func:`redate` restores the exact time.
    """

    def __init__(
        self,
        *,
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = boottime,
        boot_id: str | None = None,
        probe: Callable[[], SyncState] = sync_state,
        probe_every: float = 10.0,
    ) -> None:
        self._wall = wall
        self._mono = mono
        self.boot = read_boot_id() if boot_id is None else boot_id
        self._probe = probe
        self.probe_every = probe_every
        self._lock = threading.Lock()
        self._state = SyncState.UNKNOWN
        self._probed_at: float | None = None
        self._anchor: Anchor | None = None

    def state(self) -> SyncState:
        """The last probe's answer, re-probing when it is older than ``probe_every``."""
        with self._lock:
            return self._refresh_locked(self._mono())

    def now(self) -> Stamp:
        """A stamp for an event happening now."""
        with self._lock:
            mono = self._mono()
            state = self._refresh_locked(mono)
            synced = state is SyncState.SYNCED
            return Stamp(wall=self._wall(), mono=mono, boot=self.boot, synced=synced)

    @property
    def anchor(self) -> Anchor | None:
        """This boot's anchor, once the clock has been seen synchronised."""
        with self._lock:
            return self._anchor

    def _refresh_locked(self, mono: float) -> SyncState:
        if self._probed_at is None or mono - self._probed_at >= self.probe_every:
            self._probed_at = mono
            try:
                self._state = self._probe()
            except OSError as e:
                log.debug("clock sync probe failed: %s", e)
                self._state = SyncState.UNKNOWN
            if self._state is SyncState.SYNCED and self._anchor is None:
                self._anchor = Anchor(self.boot, self._wall() - mono)
                log.info("wall clock is synchronised; earlier scans of this boot can be dated")
        return self._state


def dated(stamp: Mapping[str, Any] | None, wall: float, anchors: Mapping[str, Anchor]) -> Dated:
    """When a stored event happened, from its stamp (``None``: stored before stamps existed)."""
    return Dated(wall, exact=True) if stamp is None else redate(Stamp.from_dict(stamp), anchors)
