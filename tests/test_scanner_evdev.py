"""EvdevSource and discovery: real event bytes through evdev's EventIO over pipes."""

from __future__ import annotations

import contextlib
import errno
import grp
import os
import pwd
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import Scanner, scanner_selectors
from kiosk.exc import (
    ConfigError,
    ScannerDisconnected,
    ScannerError,
    ScannerNotFound,
    ScannerPermissionError,
)
from kiosk.models import Barcode
from kiosk.scanner import capture, discovery, keymaps
from kiosk.scanner.decode import SYN_DROPPED
from kiosk.scanner.discovery import Node, Selector, classify, parse_selectors
from kiosk.scanner.evdev import EvdevSource, PipeDevice

KEYBOARD = frozenset(range(1, 128))
CONSUMER = frozenset({113, 114, 115, 163, 164, 165})
AUTO = [Selector("auto", "auto")]


class RecordingSink:
    """Collects what a source delivers; tests wait on its condition, never sleep."""

    def __init__(self) -> None:
        self.barcodes: list[Barcode] = []
        self.problems: list[str] = []
        self.ended: list[str] = []
        self.counts: list[int] = []
        self._cond = threading.Condition()

    def _add(self, where: list[Any], item: Any) -> None:
        with self._cond:
            where.append(item)
            self._cond.notify_all()

    def barcode(self, barcode: Barcode) -> None:
        self._add(self.barcodes, barcode)

    def problem(self, message: str) -> None:
        self._add(self.problems, message)

    def finished(self, source: str) -> None:
        self._add(self.ended, source)

    def scanners(self, count: int) -> None:
        self._add(self.counts, count)

    def wait_for(self, predicate: Callable[[], object], timeout: float = 5.0) -> bool:
        with self._cond:
            return bool(self._cond.wait_for(predicate, timeout))

    def wait_problem(self, text: str) -> bool:
        return self.wait_for(lambda: any(text in p for p in self.problems))


class Bench:
    """A stand-in /dev/input: pipe devices that can be plugged and unplugged."""

    def __init__(self) -> None:
        self.devices: dict[str, tuple[PipeDevice, str]] = {}
        self.root_only: set[str] = set()  # nodes the cart's user may not open (yet)

    def plug(
        self, path: str, name: str = "Acme Barcode Scanner", phys: str | None = None
    ) -> PipeDevice:
        dev = PipeDevice(name)
        self.devices[path] = (dev, phys or f"usb-0:{path[-1]}/input0")
        return dev

    def unplug(self, path: str) -> None:
        dev, _ = self.devices.pop(path)
        dev.unplug()

    def discover(self) -> list[Node]:
        nodes = [
            Node(path=p, name=d.name, phys=phys, vendor=0x1234, product=0x5678, keys=KEYBOARD)
            if p not in self.root_only
            else Node(path=p, error=f"no permission to open {p}", error_kind="permission")
            for p, (d, phys) in self.devices.items()
        ]
        return classify(nodes, AUTO)

    def open(self, node: Node) -> PipeDevice:
        if node.path not in self.devices:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", node.path)
        return self.devices[node.path][0]


def make_source(bench: Bench, **cfg: Any) -> EvdevSource:
    return EvdevSource(
        Scanner(**cfg), discover=bench.discover, open_device=bench.open, watch=None, settle_s=0.0
    )


@contextlib.contextmanager
def reading(bench: Bench, **cfg: Any) -> Iterator[tuple[EvdevSource, RecordingSink]]:
    """A started source over the bench's devices; stopped (devices released) on exit."""
    sink = RecordingSink()
    src = make_source(bench, **cfg)
    src.start(sink)
    try:
        yield src, sink
    finally:
        src.stop()


@pytest.fixture
def bench() -> Iterator[Bench]:
    b = Bench()
    yield b
    for dev, _ in b.devices.values():
        dev.close()


def test_evdev_reads_barcode_grabbed_and_releases_on_stop(bench: Bench) -> None:
    """A scanner's barcode arrives with its name; it is grabbed while read and released on stop."""
    dev = bench.plug("/dev/input/event3")
    with reading(bench) as (src, sink):
        dev.send(capture.barcode_events("B-0042"))
        assert sink.wait_for(lambda: sink.barcodes)
        held_while_reading = dev.grabbed
        assert src.active == ["/dev/input/event3"]
    assert [(b.text, b.scanner) for b in sink.barcodes] == [("B-0042", "Acme Barcode Scanner")]
    assert (held_while_reading, dev.grabbed) == (True, False)
    assert dev.closed
    assert sink.ended == ["evdev"]


def test_evdev_two_scanners_typing_at_once_never_interleave(bench: Bench) -> None:
    """Two scanners sending at the same moment each deliver their own intact barcode."""
    a = bench.plug("/dev/input/event1", "Left Scanner")
    b = bench.plug("/dev/input/event2", "Right Scanner")
    with reading(bench) as (_src, sink):
        ea = capture.barcode_events("AAAA1111")
        eb = capture.barcode_events("bbbb2222")
        for i in range(0, max(len(ea), len(eb)), 3):
            a.send(ea[i : i + 3])
            b.send(eb[i : i + 3])
        assert sink.wait_for(lambda: len(sink.barcodes) == 2)
    got = {(x.scanner, x.text) for x in sink.barcodes}
    assert got == {("Left Scanner", "AAAA1111"), ("Right Scanner", "bbbb2222")}


def test_evdev_keys_the_kernel_dropped_are_announced_and_the_next_code_is_whole(
    bench: Bench,
) -> None:
    """Keys the kernel dropped mid-code (SYN_DROPPED) are announced; the next code arrives whole."""
    dev = bench.plug("/dev/input/event1", "Left Scanner")
    with reading(bench) as (_src, sink):
        holed = capture.barcode_events("HOLE-1")
        dev.send([*holed[:9], (keymaps.EV_SYN, SYN_DROPPED, 0, 0.009), *holed[18:]])
        dev.send(capture.barcode_events("WHOLE-2", t0=0.1))
        assert sink.wait_for(lambda: sink.barcodes)
    assert [b.text for b in sink.barcodes] == ["WHOLE-2"]
    assert sink.wait_problem("Left Scanner: keys were lost")


def test_evdev_unplug_mid_barcode_reports_partial_and_replug_resumes(bench: Bench) -> None:
    """Pulling a scanner mid-code says which code was lost; plugging it back resumes scanning."""
    dev = bench.plug("/dev/input/event5")
    with reading(bench) as (src, sink):
        layout = keymaps.LAYOUTS["us"]
        dev.send(capture.key_events(layout.keystrokes("PART")))
        bench.unplug("/dev/input/event5")
        assert sink.wait_problem("'PART' discarded")
        assert src.active == []
        assert sink.wait_for(lambda: sink.counts[-1:] == [0])  # the cart shows "no scanner"
        dev2 = bench.plug("/dev/input/event5")
        src.notify("add", "/dev/input/event5")
        assert sink.wait_problem("connected (")
        assert src.active == ["/dev/input/event5"]
        assert sink.wait_for(lambda: sink.counts == [1, 0, 1])
        dev2.send(capture.barcode_events("WHOLE1"))
        assert sink.wait_for(lambda: sink.barcodes)
    assert [b.text for b in sink.barcodes] == ["WHOLE1"]
    assert not dev.grabbed
    assert not dev2.grabbed


def test_evdev_starts_without_scanner_and_picks_up_a_new_one(bench: Bench) -> None:
    """With no scanner at start the daemon says it is waiting, then uses one plugged in later."""
    with reading(bench) as (src, sink):
        assert any("no scanner found yet" in p for p in sink.problems)
        dev = bench.plug("/dev/input/event7")
        src.notify("add", "/dev/input/event7")
        assert sink.wait_for(lambda: src.active == ["/dev/input/event7"])
        dev.send(capture.barcode_events("NEW7"))
        assert sink.wait_for(lambda: sink.barcodes)
    assert sink.barcodes[0].text == "NEW7"


def test_evdev_plugged_scanner_is_not_reported_unreadable_before_udev_sets_its_group(
    bench: Bench,
) -> None:
    """A scanner plugged in is read once udev announces it, with no false "no permission"."""
    bench.plug("/dev/input/event1", "Left Scanner")
    with reading(bench) as (src, sink):
        # A plug: the kernel's root-only node is there before udev gives it its group, and
        # another device's event (here the first scanner's) makes the cart look meanwhile.
        dev = bench.plug("/dev/input/event2", "Right Scanner")
        bench.root_only.add("/dev/input/event2")
        bench.unplug("/dev/input/event1")
        assert sink.wait_problem("Left Scanner (/dev/input/event1) disconnected")
        bench.plug("/dev/input/event1", "Left Scanner")
        src.notify("add", "/dev/input/event1")
        assert sink.wait_problem("Left Scanner connected")
        bench.root_only.discard("/dev/input/event2")
        src.notify("add", "/dev/input/event2")
        assert sink.wait_problem("Right Scanner connected")
        dev.send(capture.barcode_events("R-1"))
        assert sink.wait_for(lambda: sink.barcodes)
    assert not [p for p in sink.problems if "permission" in p], sink.problems
    assert [(b.text, b.scanner) for b in sink.barcodes] == [("R-1", "Right Scanner")]


def test_evdev_unreadable_scanner_is_reported_once_udev_announces_it(bench: Bench) -> None:
    """A scanner plugged in that the cart's user may not open is reported once udev announces it."""
    bench.plug("/dev/input/event1", "Left Scanner")
    with reading(bench) as (src, sink):
        bench.plug("/dev/input/event2", "Right Scanner")
        bench.root_only.add("/dev/input/event2")
        src.notify("add", "/dev/input/event2")
        assert sink.wait_problem("no permission to open /dev/input/event2")
        assert src.active == ["/dev/input/event1"]


def test_evdev_flushes_barcode_without_terminator_after_timeout(bench: Bench) -> None:
    """A scanner that sends no Enter still delivers each barcode after the configured pause."""
    dev = bench.plug("/dev/input/event4")
    with reading(bench, timeout_ms=20) as (_src, sink):
        dev.send(capture.key_events(keymaps.LAYOUTS["us"].keystrokes("9780")))
        assert sink.wait_for(lambda: sink.barcodes)
    assert sink.barcodes[0].text == "9780"


def test_evdev_grab_refused_is_reported_and_device_not_read(bench: Bench) -> None:
    """A scanner grabbed by another program is reported, not read, and closed again."""
    dev = bench.plug("/dev/input/event2")
    dev.grab_error = OSError(errno.EBUSY, "Device or resource busy")
    with reading(bench) as (_src, sink):
        assert sink.wait_problem("another program has grabbed it")
        assert sink.wait_for(lambda: dev.closed)
    assert sink.barcodes == []


class FailingDevice(PipeDevice):
    def read(self) -> Iterator[Any]:
        raise OSError(errno.EINVAL, "Invalid argument")


def test_evdev_read_error_still_ungrabs(bench: Bench) -> None:
    """Whatever ends a reader, the scanner is released so the console is usable again."""
    dev = FailingDevice("Broken Scanner")
    bench.devices["/dev/input/event8"] = (dev, "usb-0:8/input0")
    sink = RecordingSink()
    src = make_source(bench)
    src.start(sink)
    try:
        dev.send(capture.barcode_events("X"))
        assert sink.wait_for(lambda: dev.closed)
        assert sink.wait_problem("not an input event device")
        assert not dev.grabbed
    finally:
        bench.devices.pop("/dev/input/event8")
        src.stop()


def test_evdev_permission_denied_everywhere_fails_clearly() -> None:
    """Without the input group the daemon stops with the fix instead of silently finding nothing."""
    node = Node(path="/dev/input/event0", error="no permission", error_kind="permission")
    src = EvdevSource(Scanner(), discover=lambda: [node], watch=None, input_dir="/")
    with pytest.raises(ScannerPermissionError, match="'input' group"):
        src.start(RecordingSink())


def test_evdev_udev_watch_failure_falls_back_and_says_so(bench: Bench) -> None:
    """Where udev is missing, the technician is told and re-plugging still works (slow poll)."""

    def no_udev(_notify: Any) -> Callable[[], None]:
        raise OSError("netlink unavailable")

    dev = bench.plug("/dev/input/event1")
    sink = RecordingSink()
    src = EvdevSource(Scanner(), discover=bench.discover, open_device=bench.open, watch=no_udev)
    src.start(sink)
    try:
        assert any("udev unavailable" in p for p in sink.problems)
        dev.send(capture.barcode_events("S1"))
        assert sink.wait_for(lambda: sink.barcodes)
    finally:
        src.stop()


def test_evdev_from_config_checks_selectors() -> None:
    """A malformed scanner.devices entry is refused; the config names it by its key."""
    with pytest.raises(ValueError, match="'Honeywell' is not a scanner selector"):
        EvdevSource.from_config(Scanner(devices=("auto", "Honeywell")), watch=None)
    bad = Scanner(devices=("auto", "Honeywell"))
    with pytest.raises(ConfigError, match=r"scanner.devices\[1\]: 'Honeywell' is not a"):
        EvdevSource.from_config(bad, selectors=scanner_selectors(bad), watch=None)
    src = EvdevSource.from_config(Scanner(devices=("0c2e:0b61", "name:*scan*")), watch=None)
    assert src.name == "evdev"
    good = Scanner(devices=("usb:0C2E:0B61",))
    src = EvdevSource.from_config(good, selectors=scanner_selectors(good), watch=None)
    assert src.name == "evdev"


# -- discovery ---------------------------------------------------------------------------
def scanner_nodes() -> list[Node]:
    """One USB scanner exposing three nodes, plus the system keyboard."""
    return [
        Node(
            "/dev/input/event0",
            name="AT Translated Set 2 keyboard",
            phys="isa0060/serio0/input0",
            keys=KEYBOARD,
        ),
        Node(
            "/dev/input/event4",
            name="Honeywell Imaging 1900 Consumer Control",
            phys="usb-0000:01:00.0-1.2/input1",
            vendor=0x0C2E,
            product=0x0B61,
            keys=CONSUMER,
        ),
        Node(
            "/dev/input/event3",
            name="Honeywell Imaging 1900",
            phys="usb-0000:01:00.0-1.2/input0",
            vendor=0x0C2E,
            product=0x0B61,
            keys=KEYBOARD,
            links=("/dev/input/by-id/usb-Honeywell_1900-event-kbd",),
        ),
        Node(
            "/dev/input/event5",
            name="Honeywell Imaging 1900 Mouse",
            phys="usb-0000:01:00.0-1.2/input2",
            vendor=0x0C2E,
            product=0x0B61,
            keys=frozenset({272, 273}),
        ),
    ]


def used(nodes: Iterable[Node]) -> list[str]:
    return [n.path for n in nodes if n.use]


def test_discovery_auto_picks_scanner_keyboard_node_never_system_keyboard() -> None:
    """auto reads the scanner's keyboard node only, and explains why the others are skipped."""
    nodes = {n.path: n for n in classify(scanner_nodes(), AUTO)}
    assert used(nodes.values()) == ["/dev/input/event3"]
    assert "honeywell" in nodes["/dev/input/event3"].reason
    assert "not recognised as a scanner" in nodes["/dev/input/event0"].reason
    assert "no letter/digit keys" in nodes["/dev/input/event4"].reason
    assert "no letter/digit keys" in nodes["/dev/input/event5"].reason


def test_discovery_selectors_by_id_name_and_path() -> None:
    """Scanners can be chosen by USB id, by name pattern or by by-id path."""
    assert used(classify(scanner_nodes(), parse_selectors(["0c2e:0b61"]))) == ["/dev/input/event3"]
    by_usb = parse_selectors(["usb:0C2E:0B61"])
    assert used(classify(scanner_nodes(), by_usb)) == ["/dev/input/event3"]
    assert used(classify(scanner_nodes(), parse_selectors(["name:*1900*"]))) == [
        "/dev/input/event3"
    ]
    by_id = parse_selectors(["/dev/input/by-id/usb-Honeywell_*-event-kbd"])
    assert used(classify(scanner_nodes(), by_id)) == ["/dev/input/event3"]
    explicit = parse_selectors(["/dev/input/event0"])
    assert used(classify(scanner_nodes(), explicit)) == ["/dev/input/event0"]


def test_discovery_two_keyboard_nodes_of_one_scanner_read_once() -> None:
    """When one scanner has two full keyboard nodes, only one is read so no code is doubled."""
    nodes = [
        Node("/dev/input/event6", name="Scanner A", phys="usb-1/input1", keys=KEYBOARD),
        Node("/dev/input/event5", name="Scanner A", phys="usb-1/input0", keys=KEYBOARD),
    ]
    result = {n.path: n for n in classify(nodes, AUTO)}
    assert used(result.values()) == ["/dev/input/event5"]
    assert "same device as /dev/input/event5" in result["/dev/input/event6"].reason


def test_discovery_identical_scanners_get_distinct_labels() -> None:
    """Two scanners of the same model are told apart by their USB port in each barcode."""
    nodes = [
        Node("/dev/input/event5", name="Scanner A", phys="usb-1/input0", keys=KEYBOARD),
        Node("/dev/input/event6", name="Scanner A", phys="usb-2/input0", keys=KEYBOARD),
    ]
    labels = {n.label for n in classify(nodes, AUTO)}
    assert labels == {"Scanner A @ usb-1", "Scanner A @ usb-2"}


def test_discovery_permission_diagnosis_names_the_group(tmp_path: Path) -> None:
    """An unopenable node is reported with the input-group fix, not silently skipped."""
    node = tmp_path / "event0"
    node.write_bytes(b"")
    denied = Node(str(node), error="no permission", error_kind="permission")
    diag = discovery.diagnose([denied], str(tmp_path))
    assert diag.permission
    assert "input" in diag.messages[0]
    missing = discovery.diagnose([], str(tmp_path / "nope"))
    assert "does not exist" in missing.messages[0]


def test_discovery_group_hint_for_a_member_not_yet_active(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user listed in the node's group whose session predates that is told to log in again."""
    node = tmp_path / "event0"
    node.write_bytes(b"")
    denied = Node(str(node), error="no permission", error_kind="permission")
    group = grp.getgrgid(os.stat(node).st_gid)
    entry = grp.struct_group((group.gr_name, "x", group.gr_gid, ["cart"]))
    monkeypatch.setattr(grp, "getgrnam", lambda _name: entry)
    monkeypatch.setattr(os, "getgroups", lambda: [])
    diag = discovery.diagnose([denied], str(tmp_path), user="cart")
    assert "log out and in again" in diag.messages[0]
    other = discovery.diagnose([denied], str(tmp_path), user="someone")
    assert "log out" not in other.messages[0]
    assert discovery.current_user() == pwd.getpwuid(os.geteuid()).pw_name


def test_discovery_errno_mapping() -> None:
    """Device errors become the kiosk's scanner exceptions with an actionable message."""
    assert isinstance(
        discovery.device_error(OSError(errno.EACCES, "x"), "/d"), ScannerPermissionError
    )
    assert isinstance(discovery.device_error(OSError(errno.ENOENT, "x"), "/d"), ScannerNotFound)
    assert isinstance(discovery.device_error(OSError(errno.ENODEV, "x"), "/d"), ScannerDisconnected)
    other = discovery.device_error(OSError(errno.EMFILE, "Too many open files"), "/d")
    assert type(other) is ScannerError
    assert "/d" in str(other)


def test_discovery_probe_of_non_input_node_explains(tmp_path: Path) -> None:
    """A node that is not an event device is listed with the reason instead of crashing."""
    fifo = tmp_path / "event0"
    os.mkfifo(fifo)
    (node,) = discovery.list_nodes(str(tmp_path))
    assert node.error_kind == "other"
    assert "not an input event device" in node.error


@pytest.mark.uinput
def test_evdev_real_uinput_keyboard_end_to_end() -> None:
    """A real kernel keyboard named like a scanner is found by auto, grabbed and decoded."""
    if not os.access("/dev/uinput", os.W_OK):
        pytest.skip("/dev/uinput is not writable here")
    from evdev import UInput
    from evdev import ecodes as e

    ui = UInput({e.EV_KEY: list(range(1, 128))}, name="kiosk test barcode scanner")
    sink = RecordingSink()
    src = EvdevSource.from_config(Scanner(devices=("name:kiosk test barcode*",)))
    try:
        src.start(sink)
        assert sink.wait_for(lambda: src.active)
        strokes = keymaps.LAYOUTS["us"].keystrokes("U-1")
        for code, value in [*strokes, (e.KEY_ENTER, 1), (e.KEY_ENTER, 0)]:
            ui.write(e.EV_KEY, code, value)
            ui.syn()
        assert sink.wait_for(lambda: sink.barcodes)
    finally:
        src.stop()
        ui.close()
    assert sink.barcodes[0].text == "U-1"
