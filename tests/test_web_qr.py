"""The cart's screen brings a phone to the page: a QR code of its address and a one-time PIN."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import segno
from luma.core.device import dummy
from PIL import Image

from kiosk.feedback.display import DisplayWorker
from kiosk.feedback.gallery import enlarge
from kiosk.feedback.i18n import LANGUAGES
from kiosk.feedback.qr import symbol
from kiosk.feedback.screens import (
    HEIGHT,
    VerdictScreen,
    WebAddress,
    cut_words,
    render,
    verdict_lines,
)
from kiosk.models import Command, Scan, ScanDetail, Verdict
from kiosk.web.auth import OVERALL, PIN_S, Gate
from tests.helpers import shelf_items
from tests.web_cart import TOKEN, Cart, running_cart, write_credentials

#: The longest IPv4 address with a port; an address on the library's network; an IPv6 one.
LONGEST_V4 = "http://255.255.255.255:65535/"
URLS = ("http://192.168.1.20:8080/", LONGEST_V4, "http://[fe80::1234:5678:9abc:def0]:8080/")
ZBARIMG = shutil.which("zbarimg")


def qr_origin(url: str) -> tuple[int, int]:
    """Where the screen puts the symbol's quiet-zone corner (left edge, centred)."""
    return 0, (HEIGHT - symbol(url, HEIGHT).side) // 2


def read_modules(image: Image.Image, url: str) -> list[list[bool]]:
    """The module matrix as drawn: a module is dark when every one of its pixels is unlit."""
    sym = symbol(url, HEIGHT)
    x, y = qr_origin(url)
    s, q = sym.scale, sym.quiet
    px = image.convert("1")
    return [
        [
            all(
                not px.getpixel((x + (q + c) * s + i, y + (q + r) * s + j))
                for i in range(s)
                for j in range(s)
            )
            for c in range(sym.modules)
        ]
        for r in range(sym.modules)
    ]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("url", URLS)
def test_qr_pixels_are_the_symbol_segno_encoded(url: str, lang: str) -> None:
    """Every module of the encoded address is on the panel, dark on a lit quiet zone."""
    image = render(WebAddress(url, "482913"), lang)
    expected = [[bool(m) for m in row] for row in segno.make_qr(url, error="l").matrix]
    assert read_modules(image, url) == expected
    sym = symbol(url, HEIGHT)
    x, y = qr_origin(url)
    ring = [(x + i, y) for i in range(sym.side)] + [(x, y + j) for j in range(sym.side)]
    assert all(image.getpixel(p) for p in ring), "the quiet zone is not lit"
    assert cut_words(WebAddress(url, "482913"), lang) == []


def test_qr_any_ipv4_address_is_drawn_two_pixels_a_module() -> None:
    """Any IPv4 address fits a version 2 symbol at 2 px a module inside the 64-pixel panel."""
    sym = symbol(LONGEST_V4, HEIGHT)
    assert (sym.version, sym.scale) == (2, 2) and sym.quiet >= 3 and sym.side <= HEIGHT


def test_qr_an_address_too_long_for_the_panel_is_refused_clearly() -> None:
    """An address no symbol fits in 64 pixels raises ValueError, and the screen shows words."""
    url = "http://" + "x" * 300 + ".example/"
    with pytest.raises(ValueError, match="pixels"):
        symbol(url, HEIGHT)
    image = render(WebAddress(url, "482913"))
    assert image.getbbox() is not None


@pytest.mark.skipif(ZBARIMG is None, reason="zbarimg absent (apt-get install zbar-tools)")
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("url", URLS)
def test_qr_on_the_screen_reads_back_as_the_address(url: str, lang: str, tmp_path: Path) -> None:
    """A QR reader given the rendered screen (enlarged, as a camera sees it) gets the address."""
    path = tmp_path / "web.png"
    enlarge(render(WebAddress(url, "482913"), lang), 4).save(path)
    assert ZBARIMG is not None
    out = subprocess.run(
        [ZBARIMG, "--quiet", "--raw", "--nodbus", "-Sdisable", "-Sqrcode.enable", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert out.stdout.strip() == url, out.stderr


# -- the PIN -----------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_pin_opens_one_session_and_then_no_more() -> None:
    """A PIN shown on the screen logs in once; typed again it is refused."""
    gate = Gate(TOKEN)
    pin = gate.issue_pin()
    assert len(pin) == 6 and pin.isdigit()
    assert gate.login("10.0.0.5", f"{pin[:3]} {pin[3:]}") is not None
    assert gate.login("10.0.0.6", pin) is None


def test_pin_expires_and_the_next_replaces_it() -> None:
    """A PIN stops working after two minutes, and as soon as a newer one is shown."""
    clock = Clock()
    gate = Gate(TOKEN, clock=clock)
    old = gate.issue_pin()
    new = gate.issue_pin()
    if old != new:
        assert gate.login("10.0.0.5", old) is None
    clock.now += PIN_S
    assert gate.login("10.0.0.5", new) is None
    assert gate.login("10.0.0.5", TOKEN) is not None, "the token still opens the page"


def test_pin_guesses_are_braked_like_tokens() -> None:
    """Wrong PINs count as failed logins: past the limit even the right PIN waits."""
    gate = Gate(TOKEN)
    pin = gate.issue_pin()
    wrong = f"{(int(pin) + 1) % 10**6:06d}"
    for n in range(OVERALL):
        assert gate.login(f"10.0.{n}.1", wrong) is None
    assert gate.login("10.9.9.9", pin) is None
    assert gate.wait_s("10.9.9.9") > 0


# -- the screen on the cart ----------------------------------------------------------------
@pytest.fixture
def cart(tmp_path: Path) -> Iterator[Cart]:
    cred = write_credentials(tmp_path / "credentials.toml")
    with running_cart(tmp_path / "state", shelf_items(), credentials=cred) as c:
        yield c


def _screen(cart: Cart) -> DisplayWorker:
    display = getattr(cart.daemon.feedback, "display", None)
    assert isinstance(display, DisplayWorker)
    return display


def wait_for_address(worker: DisplayWorker, pin_not: str = "") -> WebAddress:
    """The address screen once the panel draws it (a new PIN when ``pin_not`` is given)."""
    while True:
        shown = worker.shown
        if isinstance(shown, WebAddress) and shown.pin != pin_not:
            return shown
        assert worker.frames_drawn.acquire(timeout=10), f"no address screen; shown: {shown}"


def test_web_command_shows_the_address_and_its_pin_opens_the_page(cart: Cart) -> None:
    """Scanning KIOSK:web puts the address and a PIN on the screen; the PIN logs a phone in once."""
    worker = _screen(cart)
    first = wait_for_address(worker)  # shown at start
    assert first.url == cart.page.url
    cart.scan_and_wait("KIOSK:web")
    shown = wait_for_address(worker, pin_not=first.pin)
    assert shown.url == cart.page.url
    assert cart.client().login(first.pin)[0] == 401, "the start PIN was replaced"
    status, headers, _ = cart.client().login(shown.pin)
    assert status == 303 and headers["Location"] == "/"
    assert cart.client().login(shown.pin)[0] == 401
    assert cart.client().login(TOKEN)[0] == 303


def test_web_command_without_the_page_says_how_to_switch_it_on() -> None:
    """With the page off, KIOSK:web shows its command screen telling where to switch it on."""
    scan = Scan(1, "KIOSK:web", Verdict.COMMAND, "sim", 0.0, detail=ScanDetail(command=Command.WEB))
    for lang in LANGUAGES:
        _, hint = verdict_lines(VerdictScreen(scan), lang)
        assert "[web]" in hint and "kiosk.toml" in hint


def test_display_stand_in_replaces_the_named_screen() -> None:
    """A screen with a stand-in is never drawn: the stand-in is, for the stand-in's seconds."""
    scan = Scan(1, "KIOSK:web", Verdict.COMMAND, "sim", 0.0, detail=ScanDetail(command=Command.WEB))
    address = WebAddress("http://192.168.1.20:8080/", "482913")
    worker = DisplayWorker(lambda: dummy(width=128, height=64, mode="1"), dim_after_s=0)
    try:
        worker.stand_in("command-web", lambda: (address, None))
        worker.show(VerdictScreen(scan), 3.0)
        assert worker.frames_drawn.acquire(timeout=10)
        while worker.shown != address:
            assert not isinstance(worker.shown, VerdictScreen)
            assert worker.frames_drawn.acquire(timeout=10)
        assert worker.device.image == render(address).convert(worker.device.mode)
    finally:
        worker.close(address)


def test_web_command_works_while_paused(cart: Cart) -> None:
    """Paused, the cart refuses books but still shows the page's address and a new PIN."""
    worker = _screen(cart)
    first = wait_for_address(worker)
    cart.scan_and_wait("KIOSK:pause")
    cart.scan_and_wait("KIOSK:web")
    shown = wait_for_address(worker, pin_not=first.pin)
    assert cart.client().login(shown.pin)[0] == 303
    assert [s.command for s in cart.store.scans()] == [Command.PAUSE, Command.WEB]
