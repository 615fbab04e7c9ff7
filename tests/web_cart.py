"""A whole cart with its page on, in this process, and a small logged-in HTTP client.

Shared by the page's tests and its benchmark. The daemon runs on a thread
with no scanner; barcodes are handed to it as a scanner would.
"""

from __future__ import annotations

import dataclasses
import http.client
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kiosk import app
from kiosk.config import Config, Slims, StockTake, Web
from kiosk.daemon import Daemon
from kiosk.models import Barcode, Item
from kiosk.store import Store
from kiosk.web import Page

TOKEN = "test-token-42"


@dataclasses.dataclass
class Cart:
    daemon: Daemon
    store: Store
    page: Page
    host: str
    port: int

    def scan(self, code: str, scanner: str = "scanner-1") -> None:
        self.daemon.barcode(Barcode(code, scanner, time.time()))

    def scan_and_wait(self, *codes: str) -> None:
        """Scan ``codes`` and wait until the page's board has taken every one in."""
        before = self.store.scans(include_voided=True)
        last = max((s.seq for s in before), default=0) + len(codes)
        for code in codes:
            self.scan(code)
        assert self.page.board.wait(lambda b: b.has(last) or b.version < 0), f"scan {last} unseen"

    def client(self) -> Client:
        return Client(self.host, self.port)


class Client:
    """Just enough of a browser: cookies, forms with their CSRF token, no redirects followed."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        h = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} | (headers or {})
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        for value in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return r.status, dict(r.headers.items()), text

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str], **kw: Any) -> tuple[int, dict[str, str], str]:
        return self.request("POST", path, form, **kw)

    def login(self, token: str = TOKEN) -> tuple[int, dict[str, str], str]:
        _, _, page = self.get("/login")
        return self.post("/login", {"csrf": csrf_of(page), "token": token})

    def csrf(self, path: str = "/actions") -> str:
        return csrf_of(self.get(path)[2])


def csrf_of(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, "the page has no form token"
    return m.group(1)


def write_credentials(path: Path, extra: str = "") -> Path:
    path.write_text(f'{extra}\n[web]\ntoken = "{TOKEN}"\n')
    path.chmod(0o600)
    return path


@contextmanager
def running_cart(
    state_dir: Path, items: list[Item], *, credentials: Path, location: str = ""
) -> Iterator[Cart]:
    """A simulated cart with its page on an ephemeral port of 127.0.0.1."""
    cfg = Config(
        state_dir=str(state_dir),
        hardware="simulated",
        stocktake=StockTake(name="Opname 2025", location=location),
        slims=Slims(credentials_file=str(credentials)),
        web=Web(enabled=True, address="127.0.0.1", port=0),
    )
    with Store.open(state_dir) as store:
        store.replace_catalog(items, source="test")
        daemon = app.build_cart(cfg, store, simulate=True, sources=[])
        page = getattr(daemon.feedback, "page", None)
        assert isinstance(page, Page), "the page did not start"
        host, port = page.server.server_address[:2]
        thread = threading.Thread(target=daemon.run, name="test-daemon", daemon=True)
        thread.start()
        assert page.board.ready.wait(10)
        try:
            yield Cart(daemon, store, page, str(host), int(port))
        finally:
            daemon.stop()
            thread.join(20)
