"""Scans made before the Pi's clock is set are ordered and later dated honestly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from kiosk.clock import (
    Anchor,
    Clock,
    Dated,
    Stamp,
    SyncState,
    plausible,
    read_boot_id,
    redate,
    sync_state,
)

TRUE_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()
FAKE_START = datetime(2026, 2, 27, 17, 5, tzinfo=UTC).timestamp()  # fake-hwclock's last save


class Pi:
    """A Pi without RTC: boots at its last saved time, learns the truth at NTP sync."""

    def __init__(self) -> None:
        self.mono = 12.0
        self.offset = FAKE_START - self.mono  # wall = mono + offset
        self.state = SyncState.UNSYNCED

    def wall(self) -> float:
        return self.mono + self.offset

    def ntp_sync(self) -> None:
        self.offset = TRUE_START - 12.0  # the clock steps to the truth
        self.state = SyncState.SYNCED


def test_scans_before_sync_get_their_true_time_once_synced():
    """Scans made in the stacks before Wi-Fi are re-dated exactly after the clock syncs."""
    pi = Pi()
    clock = Clock(
        wall=pi.wall, mono=lambda: pi.mono, boot_id="boot-1", probe=lambda: pi.state, probe_every=0
    )
    early = []
    for minutes in (0, 5, 30):
        pi.mono = 12.0 + minutes * 60
        early.append(clock.now())
    assert not any(s.synced for s in early)
    before_sync = clock.anchor
    assert before_sync is None

    pi.mono = 12.0 + 3600
    pi.ntp_sync()
    late = clock.now()
    assert late.synced
    anchor = clock.anchor
    assert anchor is not None and anchor.boot == "boot-1"

    dated = [redate(s, {anchor.boot: anchor}) for s in [*early, late]]
    assert all(d.exact for d in dated)
    expected = [TRUE_START + m * 60 for m in (0, 5, 30, 60)]
    assert [round(d.wall, 6) for d in dated] == [round(e, 6) for e in expected]


def test_wall_clock_jump_does_not_reorder_scans():
    """When NTP steps the clock backwards, scans keep the order they were made in."""
    pi = Pi()
    pi.offset = TRUE_START + 86400 * 365 - 12.0  # fake clock a year ahead
    clock = Clock(
        wall=pi.wall, mono=lambda: pi.mono, boot_id="b", probe=lambda: pi.state, probe_every=0
    )
    first = clock.now()
    pi.mono += 10
    pi.ntp_sync()
    second = clock.now()
    assert second.wall < first.wall  # the raw wall clock went backwards...
    anchor = clock.anchor
    assert anchor is not None
    anchors = {"b": anchor}
    assert redate(first, anchors).wall < redate(second, anchors).wall  # ...the true times do not
    assert first.mono < second.mono


def test_scans_from_a_boot_that_never_synced_stay_approximate():
    """A day without network is dated approximately, and marked so, never invented."""
    stamp = Stamp(wall=FAKE_START, mono=50.0, boot="offline-day", synced=False)
    other = Anchor("another-boot", 1_000_000.0)
    for anchors in (None, {}, {"another-boot": other}):
        d = redate(stamp, anchors)
        assert d == Dated(FAKE_START, exact=False)
    assert d.isoformat().startswith("~")
    assert not Dated(FAKE_START, exact=True).isoformat().startswith("~")


def test_synced_stamp_is_exact_as_it_stands():
    """A scan made while the clock was synchronised keeps its own time."""
    stamp = Stamp(wall=TRUE_START, mono=5.0, boot="b", synced=True)
    assert redate(stamp, None) == Dated(TRUE_START, exact=True)


def test_stamps_survive_the_store_as_json():
    """What the store writes as JSON reads back as the same stamp."""
    stamp = Stamp(wall=TRUE_START, mono=123.456, boot="b1", synced=False)
    assert Stamp.from_dict(json.loads(json.dumps(stamp.to_dict()))) == stamp


def test_probe_runs_at_most_once_per_interval():
    """The sync probe is not repeated for every scan, and a failing probe means 'unknown'."""
    calls = []
    mono = [0.0]

    def probe() -> SyncState:
        calls.append(mono[0])
        if len(calls) == 2:
            raise OSError("no adjtimex here")
        return SyncState.UNSYNCED

    clock = Clock(
        wall=lambda: TRUE_START, mono=lambda: mono[0], boot_id="b", probe=probe, probe_every=10
    )
    for t in (0.0, 1.0, 9.9, 10.0, 15.0, 20.0):
        mono[0] = t
        state = clock.state()
        if t == 10.0:
            assert state is SyncState.UNKNOWN
    assert calls == [0.0, 10.0, 20.0]


def test_flag_file_answers_when_the_kernel_may_not_be_asked(tmp_path):
    """Inside the hardened service (adjtimex refused), timesyncd's flag file says 'synced'."""
    flag = tmp_path / "synchronized"
    unknown = lambda: SyncState.UNKNOWN  # noqa: E731
    assert sync_state(flag, kernel=unknown) is SyncState.UNKNOWN
    flag.touch()
    assert sync_state(flag, kernel=unknown) is SyncState.SYNCED
    assert sync_state(flag, kernel=lambda: SyncState.UNSYNCED) is SyncState.UNSYNCED


def test_boot_id_and_plausibility(tmp_path: Path):
    """Each boot has an id; 1970 or a build date is recognised as an unset clock."""
    assert read_boot_id(tmp_path / "missing") == ""
    (tmp_path / "boot_id").write_text("0f2c\n")
    assert read_boot_id(tmp_path / "boot_id") == "0f2c"
    assert not plausible(0.0)
    assert not plausible(datetime(2021, 5, 1, tzinfo=UTC).timestamp())
    assert plausible(TRUE_START)
