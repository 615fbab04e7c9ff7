"""The cart's own page: live progress, the to-do list, books to go and find, sync, report.

Served by the daemon itself (threads in ``kiosk run``), off by default
(``[web] enabled``). The page learns what happens through a
:class:`~kiosk.web.board.Board` teed beside the buzzer and screen, and acts
only by handing the daemon the command barcode an action stands for: the
store keeps its one writer. :func:`start` is what the wiring calls.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kiosk.feedback import Feedback
from kiosk.feedback.display import DisplayWorker
from kiosk.feedback.screens import WebAddress
from kiosk.models import Barcode, Command
from kiosk.store import Store
from kiosk.web.auth import Gate, load_token
from kiosk.web.board import Board, Tee
from kiosk.web.hub import Hub
from kiosk.web.server import PageServer, Site

__all__ = ["Page", "WebSettings", "start"]

log = logging.getLogger(__name__)

#: Seconds the address and PIN stay on the cart's screen: after the command
#: barcode asks for them, and at start (a scan brings its verdict back at once).
ADDRESS_HOLD_S = 90.0
START_HOLD_S = 30.0


class WebSettings(Protocol):
    """The page as configured (the ``[web]`` config section fits)."""

    @property
    def address(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def language(self) -> str: ...


@dataclass
class Page:
    """A running page: its board (a feedback to tee in), server and address."""

    board: Board
    hub: Hub
    server: PageServer
    url: str
    token_source: str
    _thread: threading.Thread

    def feedback(self, first: Feedback) -> Feedback:
        """``first`` (buzzer, LEDs, screen) with the page listening beside it.

        When ``first`` has a screen, the page's address and a login PIN stand in
        for the ``KIOSK:web`` command's screen, and show for a while right away.
        """
        tee = Tee(first, self.board, on_close=self.stop)
        tee.page = self
        display = getattr(first, "display", None)
        if isinstance(display, DisplayWorker):
            display.stand_in(f"command-{Command.WEB}", lambda: (self.address(), ADDRESS_HOLD_S))
            display.show(self.address(), START_HOLD_S)
        return tee

    def address(self) -> WebAddress:
        """The screen that brings a phone here: the address as a QR code, a fresh PIN.

        The address is looked up again each time: the Wi-Fi may have come up
        (or changed) since the page started.
        """
        host, port = self.server.server_address[:2]
        url = f"http://{_reachable(str(host))}:{port}/"
        return WebAddress(url, self.server.site.gate.issue_pin())

    def stop(self) -> None:
        self.server.site.stopping.set()
        self.hub.close()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5.0)


def start(
    settings: WebSettings,
    store: Store,
    submit: Callable[[Barcode], None],
    *,
    credentials_file: str,
    command_prefix: str,
    excluded_statuses: Sequence[str],
    report_language: str = "en",
    new_session: Callable[[str], object] | None = None,
) -> Page:
    """Open the page's socket and serve it on threads of its own.

    :raises OSError: the address cannot be bound (in use, not this machine's).
    :raises kiosk.exc.CredentialsError: the credentials file is readable by others.
    """
    token, source = load_token(credentials_file, Path(store.state_dir))
    hub = Hub()
    board = Board(store, hub, excluded_statuses=excluded_statuses)
    site = Site(
        board=board,
        hub=hub,
        gate=Gate(token),
        submit=submit,
        new_session=new_session,
        command_prefix=command_prefix,
        language=settings.language,
        report_language=report_language,
        excluded_statuses=tuple(excluded_statuses),
        stopping=threading.Event(),
    )
    try:
        server = PageServer((settings.address, settings.port), site)
    except OSError:
        board.close()
        raise
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.5}, name="web", daemon=True
    )
    thread.start()
    host, port = server.server_address[:2]
    url = f"http://{_reachable(str(host))}:{port}/"
    log.info("cart page at %s (token in %s)", url, source)
    return Page(board, hub, server, url, source, thread)


def _reachable(host: str) -> str:
    """The address a phone would use: the outward interface's when bound to all of them."""
    if host not in ("0.0.0.0", "::"):  # noqa: S104
        return f"[{host}]" if ":" in host else host
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: picks a route, sends nothing
            return str(s.getsockname()[0])
    except OSError:
        return "127.0.0.1"
