"""Live updates fanned out to the open pages, without ever making the publisher wait.

Each open page (one Server-Sent Events connection) gets a :class:`Mailbox`: a
small bounded queue. Publishing puts into every mailbox and returns at once;
a mailbox that is full (a phone on weak Wi-Fi, a tab in the background) is
emptied and left holding one ``reload`` event, so a slow reader costs a
constant amount of memory and learns to fetch the page state afresh. A reader
that vanished is noticed by its own connection thread, never by the publisher.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

#: Events a mailbox holds before it coalesces them into one ``reload``.
MAILBOX_SIZE = 32
#: Open live connections at most (each holds a server thread).
MAX_CLIENTS = 8


@dataclass(frozen=True, slots=True)
class Event:
    """One Server-Sent Event: its name and a JSON text (one line)."""

    name: str
    data: str = "{}"

    def encode(self) -> bytes:
        return f"event: {self.name}\ndata: {self.data}\n\n".encode()


RELOAD = Event("reload")


class Mailbox:
    """One page's bounded queue of events; ``put`` never blocks."""

    def __init__(self, size: int = MAILBOX_SIZE) -> None:
        self._events: deque[Event] = deque()
        self._size = size
        self._cond = threading.Condition(threading.Lock())
        self.closed = False
        self.coalesced = 0  # times the queue overflowed (tests and the benchmark read it)

    def put(self, event: Event) -> None:
        with self._cond:
            if len(self._events) >= self._size:
                self._events.clear()
                self._events.append(RELOAD)
                self.coalesced += 1
            elif not (self._events and self._events[-1] == RELOAD and event.name != "sync"):
                self._events.append(event)
            self._cond.notify()

    def get(self, timeout: float) -> list[Event]:
        """Every waiting event, or ``[]`` after ``timeout`` seconds (time for a heartbeat)."""
        with self._cond:
            if not self._events and not self.closed:
                self._cond.wait(timeout)
            out = list(self._events)
            self._events.clear()
            return out

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class Hub:
    """The set of open mailboxes."""

    def __init__(self, max_clients: int = MAX_CLIENTS, size: int = MAILBOX_SIZE) -> None:
        self._lock = threading.Lock()
        self._boxes: set[Mailbox] = set()
        self._max = max_clients
        self._size = size

    def subscribe(self) -> Mailbox | None:
        """A new mailbox, or ``None`` when too many pages are open already."""
        with self._lock:
            if len(self._boxes) >= self._max:
                return None
            box = Mailbox(self._size)
            self._boxes.add(box)
            return box

    def unsubscribe(self, box: Mailbox) -> None:
        with self._lock:
            self._boxes.discard(box)
        box.close()

    def publish(self, event: Event) -> None:
        with self._lock:
            boxes = list(self._boxes)
        for box in boxes:
            box.put(event)

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._boxes)

    def close(self) -> None:
        with self._lock:
            boxes, self._boxes = list(self._boxes), set()
        for box in boxes:
            box.close()
