"""`kiosk commands`: a printed sheet whose every barcode the cart obeys."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from kiosk import cli
from kiosk.config import StockTake
from kiosk.engine import Engine
from kiosk.exc import ConfigError
from kiosk.models import Command, Item, Verdict
from kiosk.printing.sheet import build_sheet, render_html
from kiosk.store import Store
from tests.helpers import shelf_items
from tests.test_barcode import decode_row, image_row, svg_row


def run_cli(*argv: str) -> int:
    """``kiosk ARGV`` in-process."""
    return cli.main(list(argv))


@pytest.fixture(autouse=True)
def _no_env_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.delenv("KIOSK_STATE_DIR", raising=False)


def sheet_codes(html: str) -> list[tuple[str, str]]:
    """(decoded barcode, printed text) for every barcode on an HTML sheet."""
    cards = re.findall(r"(<svg.*?</svg>)<code>(.*?)</code>", html)
    return [(decode_row(svg_row(svg)), text) for svg, text in cards]


def test_sheet_has_every_command_and_catalogue_location(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every engine command and every catalogue location gets a barcode the engine obeys."""
    out = tmp_path / "sheet"
    assert run_cli("--state-dir", str(state_dir), "commands", "--out", str(out)) == 0
    html = (out / "commands.html").read_text()
    codes = sheet_codes(html)
    assert all(decoded == printed for decoded, printed in codes)

    engine = Engine({it.code: it for it in shelf_items()}, StockTake())
    seen: set[tuple[str, str]] = set()
    for decoded, _ in codes:
        decision = engine.decide(decoded)
        assert decision.verdict is Verdict.COMMAND, decoded
        seen.add((str(decision.detail.command), decision.detail.arg))
    plain = {(str(c), "") for c in Command if c is not Command.LOCATION}
    assert seen == plain | {("location", "Rak Umum"), ("location", "Fiksi")}
    assert "commands.html" in capsys.readouterr().out


def test_pngs_one_per_code_read_back(state_dir: Path, tmp_path: Path) -> None:
    """Each PNG holds one readable barcode, named after its command, printed at 300 dpi."""
    out = tmp_path / "sheet"
    run_cli("--state-dir", str(state_dir), "commands", "--out", str(out), "--location", "Lantai 2")
    pngs = sorted(out.glob("*.png"))
    names = [p.name for p in pngs]
    assert "01-undo.png" in names and "08-location-lantai-2.png" in names
    decoded = set()
    for p in pngs:
        with Image.open(p) as img:
            assert round(img.info["dpi"][0]) == 300
            decoded.add(decode_row(image_row(img, y=img.height // 2)))
    assert "KIOSK:location:Lantai 2" in decoded
    assert len(decoded) == len(pngs) == len(Command) - 1 + 3


def test_indonesian_captions_and_configured_prefix(tmp_path: Path) -> None:
    """With --language id the captions are Indonesian and the codes carry the configured prefix."""
    conf = tmp_path / "kiosk.toml"
    conf.write_text('[stocktake]\ncommand_prefix = "CART-"\n')
    out = tmp_path / "sheet"
    rc = run_cli(
        "--config",
        str(conf),
        "--state-dir",
        str(tmp_path / "nothing-here"),
        "commands",
        "--out",
        str(out),
        "--language",
        "id",
        "--location",
        "Referensi",
    )
    assert rc == 0
    html = (out / "commands.html").read_text()
    assert (
        'lang="id"' in html and "Batalkan pindaian terakhir" in html and "Lokasi: Referensi" in html
    )
    assert "Undo last scan" not in html
    decoded = {d for d, _ in sheet_codes(html)}
    assert {"CART-undo", "CART-location:Referensi"} <= decoded
    engine = Engine({}, StockTake(command_prefix="CART-"))
    assert all(engine.decide(d).verdict is Verdict.COMMAND for d in decoded)


def test_sheet_is_self_contained_and_printable() -> None:
    """The sheet needs nothing but itself: no scripts, no external files, and A4 print rules."""
    html = render_html(build_sheet("KIOSK:", locations=["Rak Umum"]))
    assert "<script" not in html and "src=" not in html and "href=" not in html
    assert "@page{size:A4" in html and "break-inside:avoid" in html
    assert re.search(r'<svg [^>]*width="[\d.]+mm"', html)


def test_unprintable_location_is_left_out_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A location name a barcode cannot carry is skipped with a warning; the rest still prints."""
    state = tmp_path / "state"
    with Store.open(state) as store:
        store.replace_catalog(
            [
                Item("B1", "100 A b", "t", "Ruang Baca"),
                Item("B2", "200 C d", "t", "Perpustakaan Café"),
            ],
            source="test",
        )
    out = tmp_path / "sheet"
    assert run_cli("--state-dir", str(state), "commands", "--out", str(out)) == 0
    err = capsys.readouterr().err
    assert "Perpustakaan Café" in err and "'é'" in err
    decoded = {d for d, _ in sheet_codes((out / "commands.html").read_text())}
    assert "KIOSK:location:Ruang Baca" in decoded
    # Asked for by name, the same problem is an error status.
    rc = run_cli("--state-dir", str(state), "commands", "--out", str(out), "--location", "Gudang É")
    assert rc == 1


def test_names_longer_than_the_scanner_accepts_are_refused() -> None:
    """A location code longer than scanner.max_length is not printed (the cart would drop it)."""
    sheet = build_sheet("KIOSK:", locations=["A" * 60, "Fiksi"], max_length=64)
    assert [c.arg for c in sheet.locations] == ["Fiksi"]
    assert "max_length" in sheet.problems[0]


def test_empty_prefix_is_a_config_error() -> None:
    """With no command prefix the cart ignores command codes, so printing them is refused."""
    with pytest.raises(ConfigError, match="command_prefix"):
        build_sheet("")
