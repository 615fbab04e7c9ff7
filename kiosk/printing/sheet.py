"""The printable sheet of command barcodes (undo, new shelf run, location, …).

The librarian tapes this sheet to the cart and scans a code instead of
pressing keys, so every code carries the configured prefix exactly as
:class:`kiosk.engine.Engine` expects it, and a caption in the cart's language.
The HTML sheet is one self-contained file (inline SVG, sized in millimetres so
bars print at a scale scanners read); each code is also written as a PNG for
people who paste codes into their own documents.
"""

from __future__ import annotations

import html
import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kiosk import textfmt
from kiosk.exc import BarcodeError, ConfigError
from kiosk.models import Command
from kiosk.printing import barcode

__all__ = ["CommandCode", "Sheet", "build_sheet", "render_html", "render_png", "write_sheet"]

#: command -> ((English caption, hint), (Indonesian caption, hint))
TEXTS: dict[Command, tuple[tuple[str, str], tuple[str, str]]] = {
    Command.UNDO: (
        ("Undo last scan", "Takes back the last book scanned."),
        ("Batalkan pindaian terakhir", "Membatalkan buku terakhir yang dipindai."),
    ),
    Command.RUN: (
        ("New shelf run", "Scan at the start of each shelf unit."),
        ("Deret rak baru", "Pindai setiap kali mulai memindai rak berikutnya."),
    ),
    Command.LOCATION: (
        ("Location: {name}", "Scan before walking this location (starts a new shelf run)."),
        ("Lokasi: {name}", "Pindai sebelum mulai memindai di lokasi ini (sekaligus deret baru)."),
    ),
    Command.SYNC: (
        ("Sync now", "Sends the scans to SLiMS (needs Wi-Fi)."),
        ("Kirim ke SLiMS sekarang", "Mengirim hasil pindai ke SLiMS (perlu Wi-Fi)."),
    ),
    Command.NOLABEL: (
        ("Item without a label", "Scan once per book that has no barcode label."),
        ("Buku tanpa label", "Pindai sekali untuk setiap buku yang tidak berlabel barcode."),
    ),
    Command.PAUSE: (
        ("Pause scanning", "Scans are ignored until Resume."),
        ("Jeda pemindaian", "Pindaian diabaikan sampai kode Lanjutkan dipindai."),
    ),
    Command.RESUME: (
        ("Resume scanning", "Scanning goes on after a pause."),
        ("Lanjutkan pemindaian", "Pemindaian berjalan lagi sesudah jeda."),
    ),
    Command.WEB: (
        ("Cart page", "Shows the page's QR code and a one-time PIN on the screen."),
        ("Halaman troli", "Menampilkan kode QR halaman dan PIN sekali pakai di layar."),
    ),
}

PAGE: dict[str, dict[str, str]] = {
    "en": {
        "title": "Command barcodes",
        "intro": "Scan a code with the cart's scanner to give a command. Every code starts "
        "with the prefix {prefix}.",
        "commands": "Commands",
        "locations": "Locations",
        "no_locations": "No locations known: pass --location NAME, or pull the catalogue first.",
        "generated": "Printed from kiosk on {when}. Print at 100% scale (not “fit to page”).",
    },
    "id": {
        "title": "Barkode perintah",
        "intro": "Pindai kode di bawah dengan pemindai troli untuk memberi perintah. Setiap "
        "kode diawali {prefix}.",
        "commands": "Perintah",
        "locations": "Lokasi",
        "no_locations": "Belum ada lokasi: tambahkan --location NAMA, atau ambil dulu katalog "
        "dari SLiMS (kiosk catalog pull).",
        "generated": "Dicetak dari kiosk pada {when}. Cetak dengan skala 100% (jangan pilih "
        "“sesuaikan dengan halaman”).",
    },
}

#: Narrowest bar on paper; below the floor, long location names are refused.
MODULE_MM = 0.33
MIN_MODULE_MM = 0.19
#: Widest barcode (quiet zones included) that fits an A4 page with margins.
MAX_WIDTH_MM = 180.0


@dataclass(frozen=True)
class CommandCode:
    """One command barcode: what it says, what the scanner reads, how it prints."""

    command: str
    text: str
    caption: str
    hint: str
    arg: str = ""

    @property
    def module_mm(self) -> float:
        """Bar width on paper: the standard size, narrower only for long names."""
        total = sum(barcode.widths(self.text)) + 2 * barcode.QUIET
        return min(MODULE_MM, MAX_WIDTH_MM / total)


@dataclass
class Sheet:
    """The codes to print, and the ones that could not be printed (with why)."""

    prefix: str
    language: str
    codes: list[CommandCode] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: HTML printed after the codes (the sounds-and-lights card, :mod:`kiosk.printing.card`).
    appendix: str = ""

    @property
    def locations(self) -> list[CommandCode]:
        return [c for c in self.codes if c.command == "location"]


def build_sheet(
    prefix: str,
    *,
    locations: Iterable[str] = (),
    language: str = "en",
    max_length: int = 64,
) -> Sheet:
    """Every command, plus one ``location`` code per distinct location name.

    A code that cannot be printed or read (a character outside printable ASCII,
    longer than the scanner's ``max_length``, too long for the page) is left
    out and explained in :attr:`Sheet.problems`, so one odd catalogue location
    does not cost the whole sheet.
    """
    if not prefix:
        raise ConfigError(
            "stocktake.command_prefix is empty, so the cart ignores command barcodes; "
            'set it (e.g. "KIOSK:") before printing a sheet'
        )
    if language not in PAGE:
        raise ConfigError(f"unknown language {language!r}; choose one of {', '.join(PAGE)}")
    lang = 0 if language == "en" else 1
    sheet = Sheet(prefix, language)
    for command in Command:
        if command is not Command.LOCATION:
            caption, hint = TEXTS[command][lang]
            _add(sheet, CommandCode(command, f"{prefix}{command}", caption, hint), max_length)
    caption, hint = TEXTS[Command.LOCATION][lang]
    for name in dict.fromkeys(" ".join(n.split()) for n in locations):
        if name:
            text = f"{prefix}location:{name}"
            code = CommandCode("location", text, caption.format(name=name), hint, name)
            _add(sheet, code, max_length)
    return sheet


def _add(sheet: Sheet, code: CommandCode, max_length: int) -> None:
    try:
        module = code.module_mm
    except BarcodeError as e:
        sheet.problems.append(str(e))
        return
    if len(code.text) > max_length:
        sheet.problems.append(
            f"{code.text!r} is {len(code.text)} characters, longer than scanner.max_length "
            f"({max_length}): the cart would drop it; shorten the name or raise the limit"
        )
    elif module < MIN_MODULE_MM:
        sheet.problems.append(
            f"{code.text!r} is too long to print readably on one A4 line; shorten the name"
        )
    else:
        sheet.codes.append(code)


# -- HTML ------------------------------------------------------------------------------
_CSS = """
@page{size:A4;margin:12mm}
body{font-family:system-ui,'DejaVu Sans',sans-serif;color:#111;margin:0 auto;max-width:186mm}
h1{font-size:20pt;margin:4mm 0 1mm}h2{font-size:13pt;margin:5mm 0 2mm;break-after:avoid}
p.intro{margin:0 0 3mm}p.foot{font-size:8pt;color:#555;margin-top:6mm}
.grid{display:flex;flex-wrap:wrap;gap:3mm}
.card{border:1px dashed #999;padding:2.5mm 3mm;break-inside:avoid;page-break-inside:avoid}
.card b{display:block;font-size:13pt}.card i{display:block;font-size:8.5pt;color:#444;
font-style:normal;margin-bottom:1.5mm;max-width:62mm}
.card svg{display:block}.card code{display:block;font-size:8pt;margin-top:1mm;color:#333}
@media print{body{max-width:none}}
"""


def render_html(sheet: Sheet) -> str:
    """The sheet as one self-contained HTML page (inline CSS and SVG, no scripts)."""
    e = html.escape
    t = PAGE[sheet.language]
    lang = 0 if sheet.language == "en" else 1
    when = textfmt.timestamp(time.time(), sheet.language)
    out = [
        f'<!DOCTYPE html><html lang="{sheet.language}"><head><meta charset="utf-8">',
        f"<title>{e(t['title'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(t['title'])}</h1>",
        f"<p class='intro'>{e(t['intro']).format(prefix=f'<code>{e(sheet.prefix)}</code>')}</p>",
        f"<h2>{e(t['commands'])}</h2>",
        _cards(c for c in sheet.codes if c.command != "location"),
        f"<h2>{e(t['locations'])}</h2>",
        f"<p class='intro'>{e(TEXTS[Command.LOCATION][lang][1])}</p>" if sheet.locations else "",
        _cards(sheet.locations, hints=False)
        if sheet.locations
        else f"<p>{e(t['no_locations'])}</p>",
        sheet.appendix,
        f"<p class='foot'>{e(t['generated'].format(when=when))}</p>",
        "</body></html>\n",
    ]
    return "\n".join(out)


def _cards(codes: Iterable[CommandCode], *, hints: bool = True) -> str:
    e = html.escape
    cards = [
        f'<div class="card"><b>{e(c.caption)}</b>'
        + (f"<i>{e(c.hint)}</i>" if hints else "")
        + f"{barcode.svg(c.text, module_mm=c.module_mm)}<code>{e(c.text)}</code></div>"
        for c in codes
    ]
    return f'<div class="grid">{"".join(cards)}</div>'


# -- PNG -------------------------------------------------------------------------------
#: Pixels per inch of the PNGs (stored in the file so printing keeps the scale).
DPI = 300


def render_png(code: CommandCode) -> Image.Image:
    """One code with its caption above and its text below, at :data:`DPI`."""
    module = max(1, round(code.module_mm / 25.4 * DPI))
    bars = barcode.render(code.text, module=module, height=round(14 / 25.4 * DPI))
    big = ImageFont.load_default(size=40)
    small = ImageFont.load_default(size=26)
    pad = 24
    cap_h, text_h = 56, 40
    width = max(bars.width, int(big.getlength(code.caption)) + 2 * pad)
    img = Image.new("L", (width, cap_h + bars.height + text_h + pad), 255)
    draw = ImageDraw.Draw(img)
    draw.text((pad, 8), code.caption, font=big, fill=0)
    img.paste(bars.convert("L"), ((width - bars.width) // 2, cap_h))
    draw.text((pad, cap_h + bars.height + 6), code.text, font=small, fill=60)
    return img


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "code"


def write_sheet(sheet: Sheet, out: Path) -> list[Path]:
    """Write ``commands.html`` and one numbered PNG per code into ``out``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "commands.html"]
    written[0].write_text(render_html(sheet), encoding="utf-8")
    for i, code in enumerate(sheet.codes, start=1):
        name = code.command if not code.arg else f"location-{_slug(code.arg)}"
        path = out / f"{i:02d}-{name}.png"
        render_png(code).save(path, dpi=(DPI, DPI))
        written.append(path)
    return written
