"""USB HID barcode scanners read through Linux evdev, hot-plugged and grabbed.

:class:`EvdevSource` keeps one reader thread per scanner node, each with its
own :class:`~kiosk.scanner.decode.Decoder`, so two scanners typing at once never mix
their characters. Every scanner is grabbed (``EVIOCGRAB``) so its keystrokes
never reach a console or login prompt, and released in a ``finally`` whatever
ends the reader (python-evdev's ``grab_context`` has no such guarantee).

Hot-plug comes from udev (pyudev): an ``add``/``remove`` of an input node
triggers a re-scan shortly after the burst of events a USB device causes; a
reader that loses its device reports it (once the device is released), along
with any half-read barcode, and asks for a re-scan so a re-plugged scanner is
read again at once. A device that fails for another reason (grab refused,
read error) is not retried until udev reports it again.

The device opener, the discovery function and the hot-plug watcher are
injected, so the whole source runs in tests on :class:`PipeDevice`: an
``evdev.eventio.EventIO`` reading real kernel-format event bytes from a pipe.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from evdev.eventio import EventIO

from kiosk.exc import ScannerError, ScannerPermissionError
from kiosk.scanner import Sink, capture
from kiosk.scanner.decode import Decoder, ScannerSettings
from kiosk.scanner.discovery import (
    INPUT_DIR,
    Node,
    Selector,
    device_error,
    diagnose,
    parse_selectors,
)
from kiosk.scanner.discovery import discover as discover_nodes
from kiosk.scanner.reader import Device, DeviceReader

log = logging.getLogger(__name__)

#: Seconds to let a USB device create all its nodes before re-scanning.
SETTLE_S = 0.25
#: Re-scan interval when udev is unavailable (containers without udev).
FALLBACK_POLL_S = 1.0


class EvdevSettings(ScannerSettings, Protocol):
    """Decoding settings plus which devices to read (the ``[scanner]`` section fits)."""

    @property
    def grab(self) -> bool: ...
    @property
    def devices(self) -> Sequence[str]: ...


Notify = Callable[[str, str | None], None]
Watch = Callable[[Notify], Callable[[], None]]


def open_input_device(node: Node) -> Device:
    """Open a real ``/dev/input`` node (read-write if allowed, else read-only)."""
    import evdev  # noqa: PLC0415

    return evdev.InputDevice(node.path)


def udev_watch(notify: Notify) -> Callable[[], None]:
    """Report udev add/remove events of input devices to ``notify``; return a stopper."""
    import pyudev  # noqa: PLC0415

    context = pyudev.Context()
    monitor = pyudev.Monitor.from_netlink(context)
    monitor.filter_by("input")

    def on_event(device: Any) -> None:
        notify(str(device.action), device.device_node)

    observer = pyudev.MonitorObserver(monitor, callback=on_event, name="scanner-udev")
    observer.daemon = True
    observer.start()
    return observer.stop  # type: ignore[no-any-return]


class PipeDevice(EventIO):
    """A scanner made of a pipe: bytes written to it read back as kernel input events.

    The test and benchmark stand-in for ``evdev.InputDevice``: reading goes
    through evdev's own ``EventIO.read`` (its C ``device_read_many``), so the
    source sees exactly what a real device would give. Grabbing only records
    that it happened; :meth:`unplug` makes reads end as a removed device does.
    """

    def __init__(self, name: str = "pipe scanner", grab_error: OSError | None = None) -> None:
        self.fd, self._writer = os.pipe()
        self.name = name
        self.path = f"pipe:{self.fd}"
        self.grabbed = False
        self.closed = False
        self.grab_error = grab_error

    def send(self, events: Iterable[capture.Event]) -> None:
        """Write events in this machine's ``input_event`` layout."""
        data = capture.encode(events)
        view = memoryview(data)
        while view:
            view = view[os.write(self._writer, view) :]

    def unplug(self) -> None:
        if self._writer >= 0:
            os.close(self._writer)
            self._writer = -1

    def grab(self) -> None:
        if self.grab_error is not None:
            raise self.grab_error
        self.grabbed = True

    def ungrab(self) -> None:
        self.grabbed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.unplug()
            os.close(self.fd)


class EvdevSource:
    """All configured scanners, read through evdev; implements :class:`~kiosk.scanner.Source`.

    :param settings: the ``[scanner]`` config section (decoding keys and ``grab``).
    :param discover: returns the classified nodes (default: probe ``/dev/input``).
    :param open_device: opens a node for reading (default: ``evdev.InputDevice``).
    :param watch: starts hot-plug notifications (default: udev); None for none.
    """

    name = "evdev"

    def __init__(
        self,
        settings: ScannerSettings,
        *,
        grab: bool = True,
        discover: Callable[[], list[Node]] | None = None,
        open_device: Callable[[Node], Device] = open_input_device,
        watch: Watch | None = udev_watch,
        settle_s: float = SETTLE_S,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        input_dir: str = INPUT_DIR,
        selectors: list[Selector] | None = None,
    ) -> None:
        self.settings = settings
        self.grab = grab
        self.input_dir = input_dir
        sels = selectors if selectors is not None else [Selector("auto", "auto")]
        self._discover = discover or (lambda: discover_nodes(sels, input_dir))
        self._open = open_device
        self._watch = watch
        self.settle_s = settle_s
        self.clock = clock
        self.wall = wall
        Decoder.from_config(settings)  # ValueError at construction on a bad layout/terminator
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._readers: dict[str, DeviceReader] = {}
        self._reported: set[str] = set()
        self._failed: set[str] = set()  # nodes whose reader hit a fault; retried on udev events
        # Event nodes udev has announced: only then are their permissions final.
        self._announced: set[str] = set()
        self._due: float | None = None
        self._stopping = threading.Event()
        self._wake_r, self._wake_w = -1, -1
        self._sink: Sink | None = None
        self._hotplug: threading.Thread | None = None
        self._stop_watch: Callable[[], None] | None = None
        self._poll_s: float | None = None

    @classmethod
    def from_config(
        cls, settings: EvdevSettings, *, selectors: list[Selector] | None = None, **kwargs: Any
    ) -> EvdevSource:
        """The source for scanner settings such as the ``[scanner]`` section.

        ``selectors`` are ``settings.devices`` already parsed; without them the
        devices are parsed here (:class:`ValueError` for an entry that is no selector).
        """
        if selectors is None:
            selectors = parse_selectors(settings.devices)
        return cls(settings, grab=settings.grab, selectors=selectors, **kwargs)

    def make_decoder(self, on_problem: Callable[[str], None]) -> Decoder:
        return Decoder.from_config(self.settings, on_problem)

    @property
    def active(self) -> list[str]:
        """Paths of the devices being read now."""
        with self._lock:
            return sorted(self._readers)

    # -- Source protocol ---------------------------------------------------------------
    def start(self, sink: Sink) -> None:
        """Attach every scanner present and start watching for more.

        Raises :class:`ScannerPermissionError` when input devices exist but
        none can be opened: waiting for a scanner then would wait forever.
        """
        self._sink = sink
        self._stopping.clear()
        self._wake_r, self._wake_w = os.pipe()
        nodes = self._discover()
        attached = self._attach_all(nodes, sink, initial=True)
        sink.scanners(attached)
        if not attached:
            diag = diagnose(nodes, self.input_dir)
            if diag.permission:
                self._close_wake()
                raise ScannerPermissionError("no scanner can be read: " + "; ".join(diag.messages))
            hint = "; ".join(diag.messages)
            sink.problem(
                "no scanner found yet; waiting for one to be plugged in"
                + (f" ({hint})" if hint else "")
                + "; `kiosk devices` shows why each input device is not used"
            )
        if self._watch is not None:
            try:
                self._stop_watch = self._watch(self.notify)
            except Exception as e:  # no udev (container, missing library)
                self._poll_s = FALLBACK_POLL_S
                sink.problem(
                    f"hot-plug via udev unavailable ({e}); checking for scanners every "
                    f"{FALLBACK_POLL_S:g} s instead"
                )
        self._hotplug = threading.Thread(target=self._hotplug_loop, name="scanner-hotplug")
        self._hotplug.daemon = True
        self._hotplug.start()

    def stop(self) -> None:
        """Stop all readers (ungrabbing their devices) and the hot-plug watcher."""
        if self._sink is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._wake_w >= 0:
            os.write(self._wake_w, b"x")
        if self._stop_watch is not None:
            self._stop_watch()
            self._stop_watch = None
        with self._lock:
            readers = list(self._readers.values())
        for reader in readers:
            reader.join(timeout=2.0)
        if self._hotplug is not None:
            self._hotplug.join(timeout=2.0)
        self._close_wake()
        sink, self._sink = self._sink, None
        sink.finished(self.name)

    # -- hot-plug -----------------------------------------------------------------------
    def notify(self, action: str, devnode: str | None) -> None:
        """A device was added or removed (udev callback; tests call it directly)."""
        if devnode is not None and not os.path.basename(devnode).startswith("event"):
            return
        if devnode is not None:
            self._failed.discard(devnode)
            if action == "remove":
                self._reported.discard(devnode)
                self._announced.discard(devnode)
            else:
                self._announced.add(devnode)
        if action in ("add", "remove", "change"):
            self.rescan(self.settle_s)

    def rescan(self, delay: float = 0.0) -> None:
        """Look for new scanners after ``delay`` seconds (later calls push it back)."""
        with self._cond:
            self._due = self.clock() + delay
            self._cond.notify_all()

    def _hotplug_loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping.is_set():
                    if self._due is None:
                        if not self._cond.wait(self._poll_s) and self._poll_s is not None:
                            self._due = self.clock()
                        continue
                    wait = self._due - self.clock()
                    if wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._stopping.is_set():
                    return
                self._due = None
            sink = self._sink
            if sink is None:
                return
            try:
                if self._attach_all(self._discover(), sink, initial=False):
                    sink.scanners(len(self.active))
            except Exception as e:  # keep watching whatever one scan does
                log.exception("scanner re-scan failed")
                sink.problem(f"looking for scanners failed: {e!r}")

    # -- readers --------------------------------------------------------------------------
    def _attach_all(self, nodes: list[Node], sink: Sink, *, initial: bool) -> int:
        attached = 0
        with self._lock:  # a faulty node that vanished is retried when it comes back
            self._failed &= {n.path for n in nodes}
        for node in nodes:
            if not node.use:
                if node.error_kind == "permission" and node.path not in self._reported:
                    if not (initial or self._permissions_final(node.path)):
                        continue  # udev has yet to give it its group: read once it says so
                    self._reported.add(node.path)
                    if not initial:
                        sink.problem(f"input device {node.path}: {node.error}")
                continue
            with self._lock:
                busy = node.path in self._readers or node.path in self._failed
                if busy or self._stopping.is_set():
                    continue
            try:
                device = self._open(node)
            except OSError as e:
                err = device_error(e, node.path)
                if node.path not in self._reported:
                    self._reported.add(node.path)
                    sink.problem(f"scanner {node.label or node.path}: {err}")
                continue
            reader = DeviceReader(
                node,
                device,
                sink,
                make_decoder=self.make_decoder,
                grab=self.grab,
                stopping=self._stopping,
                wake_fd=self._wake_r,
                clock=self.clock,
                wall=self.wall,
                on_end=self._reader_ended,
            )
            with self._lock:
                if self._stopping.is_set():
                    device.close()
                    continue
                self._readers[node.path] = reader
                # Started under the lock so stop() never sees a reader it cannot join.
                reader.start()
            self._reported.discard(node.path)
            log.info("reading scanner %s (%s): %s", reader.label, node.path, node.reason)
            attached += 1
            if not initial:
                sink.problem(f"scanner {reader.label} connected ({node.path})")
        return attached

    def _permissions_final(self, path: str) -> bool:
        """Whether a node's access rights are the ones udev gives it, so a refusal is real.

        The kernel makes a new node root-only; udev then sets its group and
        announces it. A re-scan caused by an earlier event of the same USB plug
        (the parent input device has no node) can see it before that.
        """
        return self._poll_s is not None or path in self._announced

    def _reader_ended(self, reader: DeviceReader) -> None:
        with self._lock:
            if self._readers.get(reader.node.path) is reader:
                del self._readers[reader.node.path]
            if reader.failed:
                self._failed.add(reader.node.path)
        if self._stopping.is_set():
            return
        reader.sink.scanners(len(self.active))
        if not reader.failed:
            self.rescan(self.settle_s)  # the same scanner may already be back

    def _close_wake(self) -> None:
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1


__all__ = [
    "Device",
    "EvdevSettings",
    "EvdevSource",
    "PipeDevice",
    "ScannerError",
    "open_input_device",
    "udev_watch",
]
