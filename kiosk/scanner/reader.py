"""One thread per scanner: events from its device, through the decoder, to the sink.

Kept apart from :mod:`kiosk.scanner.evdev` (which finds, opens and watches
devices) so that reading a device can be understood, and tested, on its own.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from kiosk.exc import ScannerError
from kiosk.models import Barcode
from kiosk.scanner import Sink
from kiosk.scanner.decode import SYN_DROPPED, Decoder
from kiosk.scanner.discovery import Node, device_error
from kiosk.scanner.keymaps import EV_KEY, EV_SYN

log = logging.getLogger(__name__)

_GONE = (errno.ENODEV, errno.EIO, errno.ENXIO, errno.EBADF)


class Device(Protocol):
    """What a reader needs from an open device (``evdev.InputDevice`` or :class:`PipeDevice`)."""

    fd: int

    def read(self) -> Iterable[Any]: ...
    def grab(self) -> None: ...
    def ungrab(self) -> None: ...
    def close(self) -> None: ...


class DeviceReader(threading.Thread):
    """Reads one device until it disappears or the source stops.

    Everything it shares with its source is handed in: the source's stop flag
    and wake-up pipe, its clocks, and ``on_end``, called once the reader is
    done (before the sink hears why), so the source can forget or retry it.
    """

    def __init__(
        self,
        node: Node,
        device: Device,
        sink: Sink,
        *,
        make_decoder: Callable[[Callable[[str], None]], Decoder],
        grab: bool,
        stopping: threading.Event,
        wake_fd: int,
        clock: Callable[[], float],
        wall: Callable[[], float],
        on_end: Callable[[DeviceReader], None],
    ) -> None:
        super().__init__(name=f"scanner-{os.path.basename(node.path)}", daemon=True)
        self.node = node
        self.device = device
        self.sink = sink
        self.label = node.label or node.name or node.path
        self.decoder = make_decoder(self._problem)
        self._grab = grab
        self._stopping = stopping
        self._wake_fd = wake_fd
        self._clock = clock
        self._wall = wall
        self._on_end = on_end
        self._offset = 0.0  # local clock minus event clock, for timeouts between reads
        #: Ended by a fault (not unplugging): not retried until udev reports the node again.
        self.failed = False
        self._farewell = ""  # told to the sink once the source no longer lists this reader

    def _problem(self, message: str) -> None:
        self.sink.problem(f"scanner {self.label}: {message}")

    def _fail(self, message: str) -> None:
        self.failed = True
        self._farewell = f"scanner {self.label}: {message}"

    def _deliver(self, text: str | None) -> None:
        if text is not None:
            self.sink.barcode(Barcode(text=text, scanner=self.label, ts=self._wall()))

    def run(self) -> None:
        grabbed = False
        try:
            if self._grab:
                try:
                    self.device.grab()
                    grabbed = True
                except OSError as e:
                    err = device_error(e, self.node.path, "grab")
                    self._fail(f"{err}; not read until it is plugged in again")
                    return
            self._loop()
        except ScannerError as e:
            self._fail(f"{e}; not read until it is plugged in again")
        except Exception as e:  # a reader must never die silently
            log.exception("reader for %s failed", self.node.path)
            self._fail(f"reading stopped after an unexpected error: {e!r}")
        finally:
            if grabbed:
                # A vanished device fails to ungrab: the kernel released the grab already.
                with contextlib.suppress(OSError):
                    self.device.ungrab()
            with contextlib.suppress(OSError):
                self.device.close()
            self._on_end(self)
            if self._farewell:
                self.sink.problem(self._farewell)

    def _loop(self) -> None:
        fd, wake = self.device.fd, self._wake_fd
        clock, dec = self._clock, self.decoder
        while not self._stopping.is_set():
            deadline = dec.deadline()
            wait = None if deadline is None else max(0.0, deadline + self._offset - clock())
            try:
                readable, _, _ = select.select([fd, wake], [], [], wait)
            except OSError as e:  # EBADF: the device was closed under us
                if e.errno in _GONE and not self._stopping.is_set():
                    self._gone()
                    return
                raise
            if wake in readable:
                partial = dec.reset()
                if partial:
                    self._problem(f"partial barcode {partial!r} discarded at shutdown")
                return
            if not readable:
                self._deliver(dec.expire(clock() - self._offset))
                continue
            try:
                events = self.device.read()
                batch = list(events)
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno in _GONE:
                    self._gone()
                    return
                raise device_error(e, self.node.path, "read") from e
            if not batch:  # end of file: the device is gone
                self._gone()
                return
            feed = dec.feed
            for ev in batch:
                # Two in three events of a keyboard are scan codes and report ends, which
                # the decoder ignores: skipped here, before the cost of a call.
                t = ev.type
                if t == EV_KEY or (t == EV_SYN and ev.code == SYN_DROPPED):
                    text = feed(t, ev.code, ev.value, ev.sec + ev.usec / 1e6)
                    if text is not None:
                        self._deliver(text)
            last = batch[-1]
            self._offset = clock() - (last.sec + last.usec / 1e6)

    def _gone(self) -> None:
        partial = self.decoder.reset()
        msg = f"scanner {self.label} ({self.node.path}) disconnected"
        if partial:
            msg += f"; partial barcode {partial!r} discarded, scan that item again"
        self._farewell = msg
