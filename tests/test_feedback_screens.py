"""OLED screens compared with reference images, and the display thread on luma's dummy.

The references in tests/reference/ are regenerated, after a deliberate change
to a screen, with ``python -m kiosk.cli.screens --out tests/reference --scale 1``
(``kiosk screens`` once the verb is wired); look at them before committing.
"""

from __future__ import annotations

import errno
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from luma.core.device import dummy
from PIL import Image, ImageChops

from kiosk.feedback import Status
from kiosk.feedback.display import DIM_CONTRAST, DisplayWorker
from kiosk.feedback.gallery import enlarge, examples, write_all
from kiosk.feedback.i18n import LANGUAGES
from kiosk.feedback.screens import Idle, VerdictScreen, fold, render
from kiosk.models import Neighbours, Scan, ScanDetail, Verdict

REFERENCE = Path(__file__).parent / "reference"
REGENERATE = "python -m kiosk.cli.screens --out tests/reference --scale 1"
CASES = [(lang, screen) for lang in LANGUAGES for screen in examples()]


def _same(a: Image.Image, b: Image.Image) -> bool:
    return (
        a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None
    )


@pytest.mark.parametrize(
    ("lang", "screen"), CASES, ids=[f"{lang}-{screen.name}" for lang, screen in CASES]
)
def test_screens_match_reference(lang: str, screen: Any, tmp_path: Path) -> None:
    """Each screen looks exactly like its reviewed reference picture."""
    path = REFERENCE / f"{lang}-{screen.name}.png"
    got = render(screen, lang)
    with Image.open(path) as ref:
        if not _same(got, ref):
            got.save(tmp_path / path.name)
            pytest.fail(
                f"{path.name} differs (got: {tmp_path / path.name}); if intended: {REGENERATE}"
            )


def test_screens_every_reference_is_used() -> None:
    """No stale reference image lingers for a screen that no longer exists."""
    names = {f"{lang}-{screen.name}.png" for lang, screen in CASES}
    assert {p.name for p in REFERENCE.glob("*-*.png")} >= names
    stale = {p.name for p in REFERENCE.glob("en-*.png")} | {
        p.name for p in REFERENCE.glob("id-*.png")
    }
    assert stale == names


def test_screens_languages_differ() -> None:
    """The Indonesian screens really are translated, not the English ones again."""
    for screen in examples():
        if screen.name in ("ok",):
            continue
        assert not _same(render(screen, "en"), render(screen, "id")), screen.name


def test_screens_gallery_is_enlarged(tmp_path: Path) -> None:
    """The gallery files are 4x the panel, pixel for pixel, named by language and screen."""
    written = write_all(tmp_path, scale=4, languages=("en",))
    assert (tmp_path / "en-misshelved.png") in written
    with Image.open(tmp_path / "en-misshelved.png") as big:
        assert big.size == (512, 256)
        small = big.resize((128, 64), Image.Resampling.NEAREST)
        with Image.open(REFERENCE / "en-misshelved.png") as ref:
            assert _same(small, ref)
    assert _same(enlarge(render(next(examples())), 1), render(next(examples())))


def test_screens_misshelved_tells_where_it_belongs() -> None:
    """A misshelved book's screen changes with where it belongs (not a fixed picture)."""
    base = Neighbours(after_call="020 PRA m", before_call="020.3 ANW s")
    moved = base._replace(after_call="999 ZZZ")
    a = VerdictScreen(Scan(1, "B1", Verdict.MISSHELVED, "s", 0.0, detail=ScanDetail(belongs=base)))
    b = VerdictScreen(Scan(1, "B1", Verdict.MISSHELVED, "s", 0.0, detail=ScanDetail(belongs=moved)))
    assert not _same(render(a), render(b))


def test_screens_fold_accents() -> None:
    """Accented catalogue titles are shown with their base letters, not as boxes."""
    assert fold("Café Müller – 東") == "Cafe Muller ? ?"


class Panel(dummy):  # type: ignore[misc]
    """luma's dummy display that records contrast and power commands."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(width=128, height=64, mode="1", **kw)
        self.contrasts: list[int] = []
        self.hidden = threading.Event()
        self.dimmed = threading.Event()

    def contrast(self, level: int) -> None:
        self.contrasts.append(level)
        if level == DIM_CONTRAST:
            self.dimmed.set()

    def hide(self) -> None:
        self.hidden.set()


def _wait_frame(worker: DisplayWorker) -> None:
    assert worker.frames_drawn.acquire(timeout=5)


def test_display_shows_on_luma_device(tmp_path: Path) -> None:
    """What the panel receives is the reference picture; frames are also kept as PNGs."""
    panel = Panel()
    worker = DisplayWorker(lambda: panel, frames_dir=tmp_path)
    screen = next(s for s in examples() if s.name == "misshelved")
    _wait_frame(worker)  # the start screen
    worker.show(screen, hold_s=None)
    _wait_frame(worker)
    with Image.open(REFERENCE / "en-misshelved.png") as ref:
        assert _same(panel.image, ref)
    worker.close(Idle(Status()))
    frames = sorted(p.name for p in tmp_path.iterdir())
    assert frames == ["0001-starting.png", "0002-misshelved.png", "0003-idle.png"]
    assert panel.persist is True  # the last screen survives luma's exit handler


def test_display_retries_absent_panel(caplog: pytest.LogCaptureFixture) -> None:
    """A panel missing at start appears later; the problem is logged once, recovery once."""
    attempts = []
    panel = Panel()

    def opener() -> Panel:
        attempts.append(1)
        if len(attempts) < 4:
            raise OSError(errno.ENOENT, "No such file or directory", "/dev/i2c-1")
        return panel

    with caplog.at_level(logging.INFO, logger="kiosk.feedback.display"):
        worker = DisplayWorker(opener, retry_first_s=0.01, retry_max_s=0.02)
        _wait_frame(worker)
        worker.close(Idle(Status()))
    assert len(attempts) == 4
    messages = [r.message for r in caplog.records]
    assert sum("cannot be opened" in m for m in messages) == 1
    assert sum("display is back" in m for m in messages) == 1


def test_display_io_error_later_is_retried(caplog: pytest.LogCaptureFixture) -> None:
    """A loose cable (I/O errors while drawing) drops frames, then the panel is re-opened."""

    class Flaky(Panel):
        failures = 3

        def display(self, image: Image.Image) -> None:
            if Flaky.failures > 0:
                Flaky.failures -= 1
                raise OSError(errno.EREMOTEIO, "Remote I/O error")
            super().display(image)

    opened: list[Flaky] = []

    def opener() -> Flaky:
        opened.append(Flaky())
        return opened[-1]

    worker = DisplayWorker(opener, retry_first_s=0.01, retry_max_s=0.02)
    _wait_frame(worker)
    worker.close(Idle(Status()))
    assert len(opened) == 4
    assert sum("stopped answering" in r.message for r in caplog.records) == 1
    assert opened[-1].image is not None


def test_display_dims_then_blanks_when_idle() -> None:
    """Left alone the panel first dims, then switches off; activity brings it back."""
    now = [0.0]
    panel = Panel()
    worker = DisplayWorker(
        lambda: panel, contrast=200, dim_after_s=60, blank_after_s=600, clock=lambda: now[0]
    )
    _wait_frame(worker)
    now[0] = 61.0
    worker.set_base(Idle(Status(scanned=1)))
    assert panel.dimmed.wait(5)
    now[0] = 601.0
    worker.set_base(Idle(Status(scanned=2)))
    assert panel.hidden.wait(5)
    panel.dimmed.clear()
    worker.wake()
    worker.close(Idle(Status()))
    assert panel.contrasts[0] == 200
    assert panel.contrasts[-1] == 200
    assert DIM_CONTRAST in panel.contrasts


def test_display_releases_a_panel_that_failed_to_start() -> None:
    """A panel that opens but fails its first command is let go and cannot blank the exit screen."""

    class Stubborn(Panel):
        def contrast(self, level: int) -> None:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")

    opened: list[Panel] = []

    def opener() -> Panel:
        opened.append(Stubborn() if not opened else Panel())
        return opened[-1]

    worker = DisplayWorker(opener, retry_first_s=0.01, retry_max_s=0.02)
    _wait_frame(worker)
    worker.close(Idle(Status()))
    assert len(opened) == 2
    assert opened[0].persist is True  # cleaned up without clearing, not left for luma's exit hook


def _variants() -> list[Any]:
    """Screens beyond the gallery's one example each: the other states a screen can show."""
    from kiosk.feedback.gallery import STATUS
    from kiosk.feedback.screens import ProblemScreen
    from kiosk.models import Command, ProblemKind

    cmd = Scan(9, "KIOSK:run", Verdict.COMMAND, "s", 0.0, detail=ScanDetail(command=Command.RUN))
    return [
        *examples(),
        Idle(STATUS._replace(exported=STATUS.unsynced)),
        Idle(STATUS._replace(exported=0)),
        Idle(STATUS._replace(unsynced=0, exported=0)),
        Idle(STATUS._replace(unsynced=123_456, exported=65_432, paused=True), muted=True),
        VerdictScreen(cmd, None, Status(run=1)),  # the first run: nothing walked yet
        VerdictScreen(cmd, None, Status(run=12)),  # after a restart: span unknown
        ProblemScreen(ProblemKind.UNDO, "a sync is running"),
        ProblemScreen(ProblemKind.CATALOG, "the catalogue is empty"),
        ProblemScreen(ProblemKind.CATALOG, "old", ("365",)),
        ProblemScreen(ProblemKind.LOCATION, "unknown", ("Rak Umun", "Rak Umum, Referensi")),
    ]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_screens_never_cut_words(lang: str) -> None:
    """Every screen, in every language, shows its words whole; only data (titles) may be cut."""
    from kiosk.feedback.screens import cut_words

    cut = {f"{screen.name}: {text}" for screen in _variants() for text in cut_words(screen, lang)}
    assert not cut, f"words cut short on the {lang} screens: {sorted(cut)}"


def test_screens_cut_words_notices_a_long_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cut-words check itself fails on words that do not fit (it is not vacuous)."""
    from kiosk.feedback.i18n import TEXTS
    from kiosk.feedback.screens import ProblemScreen, cut_words
    from kiosk.models import ProblemKind

    monkeypatch.setitem(TEXTS, "body.store", ("word " * 40, "kata " * 40))
    assert cut_words(ProblemScreen(ProblemKind.STORE, "x"), "id")


def _words(screen: Any, lang: str) -> str:
    """What a screen says, as its renderer lays it out (for content checks)."""
    from kiosk.feedback import screens

    said: list[str] = []
    real = screens._Canvas.text

    def spy(self: Any, xy: Any, text: str, f: Any, **kw: Any) -> None:
        said.append(text.replace("  ", " "))
        real(self, xy, text, f, **kw)

    screens._Canvas.text = spy  # type: ignore[method-assign]
    try:
        render(screen, lang)
    finally:
        screens._Canvas.text = real  # type: ignore[method-assign]
    return " | ".join(said)


def test_screens_say_what_to_do_with_the_book() -> None:
    """ON LOAN and UNKNOWN tell where the book goes, in both languages."""
    on_loan = VerdictScreen(Scan(1, "B1", Verdict.ON_LOAN, "s", 0.0))
    unknown = VerdictScreen(Scan(1, "B9", Verdict.UNKNOWN, "s", 0.0))
    assert "returns trolley" in _words(on_loan, "en")
    assert "troli pengembalian" in _words(on_loan, "id")
    assert "set aside" in _words(unknown, "en") and "sisihkan" in _words(unknown, "id")


def test_screens_idle_never_calls_a_file_synced() -> None:
    """Scans only in the upload file are 'not in SLiMS'; 'all in SLiMS' needs SLiMS's word."""
    exported = Idle(Status(scanned=4, unsynced=4, exported=4))
    assert "4 in file, not in SLiMS" in _words(exported, "en")
    assert "4 baru di berkas unggah" in _words(exported, "id")
    assert "all in SLiMS" in _words(Idle(Status(scanned=4)), "en")


def test_screens_command_details() -> None:
    """LOCATION, NEW RUN and NO LABEL show the run, the span walked and the tally."""
    from kiosk.models import Command

    def cmd(command: Command, arg: str = "") -> Scan:
        detail = ScanDetail(command=command, arg=arg)
        return Scan(1, f"KIOSK:{command}", Verdict.COMMAND, "s", 0.0, detail=detail)

    st = Status(location="Fiksi", run=4, nolabel=7, last_span=("F AND a", "F HIR l"))
    run_en = _words(VerdictScreen(cmd(Command.RUN), None, st), "en")
    assert "run 4 begins" in run_en and "run 3: F AND a" in run_en and "to F HIR l" in run_en
    loc_id = _words(VerdictScreen(cmd(Command.LOCATION, "Fiksi"), None, st), "id")
    assert "Fiksi" in loc_id and "deret 4 dimulai" in loc_id
    assert "7 without label here" in _words(VerdictScreen(cmd(Command.NOLABEL), None, st), "en")
