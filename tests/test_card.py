"""The printed "what the sounds and lights mean" card: the cart's own patterns, in words."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from kiosk import cli
from kiosk.feedback.describe import light_words, sound_words
from kiosk.feedback.patterns import DEFAULTS, PROBLEM, with_overrides
from kiosk.models import Verdict
from kiosk.printing.card import PAGE, TEXTS, build_card, render_page


@pytest.fixture(autouse=True)
def _no_env_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.delenv("KIOSK_STATE_DIR", raising=False)


def test_card_has_a_row_for_every_signal_in_both_languages() -> None:
    """Every verdict and the problem alert has a row with meaning and action, EN and ID."""
    assert set(TEXTS) == {*map(str, Verdict), PROBLEM}
    for signal, ((en_means, en_do), (id_means, id_do)) in TEXTS.items():
        assert all((en_means, en_do, id_means, id_do)), signal
    assert PAGE["en"].keys() == PAGE["id"].keys()
    for lang in ("en", "id"):
        rows = build_card(DEFAULTS, lang)
        assert {r.signal for r in rows} == set(TEXTS)


def test_card_rows_are_the_patterns_in_words() -> None:
    """Each row's sound and light are the describe words of that signal's pattern."""
    for row in build_card(DEFAULTS, "id", pitched=False):
        p = DEFAULTS[row.signal]
        assert row.sound == sound_words(p.sound, "id", pitched=False)
        assert row.light == light_words(p.light, p.latch, "id")
    ok = build_card(DEFAULTS, "en")[0]
    assert (ok.screen, ok.sound, ok.light) == (
        "OK",
        "one very short beep (high pitch, soft)",
        "green flashes once",
    )


def test_card_follows_overrides_and_screen_language() -> None:
    """An overridden pattern changes its row; screen words are in the OLED's language."""
    patterns = with_overrides(["misshelved = 500@400"], ["misshelved = 1000:r"])
    rows = {r.signal: r for r in build_card(patterns, "en", screen_language="id")}
    assert rows["misshelved"].sound == "one long beep (very low pitch)"
    assert rows["misshelved"].light == "red flashes once"
    assert rows["misshelved"].screen == "SALAH LETAK"
    assert rows["misshelved"].means.startswith("Out of call-number order")


def test_card_page_notes_an_active_buzzer() -> None:
    """With a one-pitch buzzer the card says to listen for the rhythm; muted, to watch."""
    rows = build_card(DEFAULTS, "en", pitched=False)
    page = html.unescape(render_page(rows, "en", pitched=False, muted=True))
    assert PAGE["en"]["active"] in page and PAGE["en"]["muted"] in page
    assert "(high pitch" not in page


def test_kiosk_commands_writes_the_card_and_puts_it_on_the_sheet(
    state_dir: Path, tmp_path: Path
) -> None:
    """`kiosk commands` writes sounds-and-lights.html and the same table on the sheet."""
    conf = tmp_path / "kiosk.toml"
    conf.write_text(
        '[buzzer]\nkind = "passive"\npatterns = ["duplicate = 400@500 100 400@500"]\n'
        '[report]\nlanguage = "id"\n'
    )
    out = tmp_path / "sheet"
    argv = ["--config", str(conf), "--state-dir", str(state_dir), "commands", "--out", str(out)]
    assert cli.main(argv) == 0
    page = html.unescape((out / "sounds-and-lights.html").read_text("utf-8"))
    sheet = html.unescape((out / "commands.html").read_text("utf-8"))
    assert "Arti bunyi dan lampu" in page and "Arti bunyi dan lampu" in sheet
    duplicate = "dua bip panjang (nada rendah)"
    assert duplicate in page and duplicate in sheet  # the override, pitched (passive buzzer)
    assert "satu bip sangat pendek (nada tinggi, pelan)" in sheet
    assert sheet.index("Arti bunyi dan lampu") > sheet.index("<svg")  # after the codes
