"""The printable "what the sounds and lights mean" card.

One row per signal: the screen's words, the sound and the light in words (from
the cart's own patterns, overrides included, via
:mod:`kiosk.feedback.describe`), what it means and what to do with the book.
``kiosk commands`` writes it as its own page and puts it on the command sheet,
so the card taped to the cart always matches the cart it was printed for.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

from kiosk.exc import ConfigError
from kiosk.feedback.describe import light_words, sound_words
from kiosk.feedback.i18n import tr
from kiosk.feedback.patterns import PROBLEM, Pattern
from kiosk.models import Command, ProblemKind, Verdict

__all__ = ["CardRow", "build_card", "render_card", "render_page"]

#: Signals in the order a librarian meets them: the quiet case first, then the alerts.
ORDER = (
    Verdict.OK,
    Verdict.DUPLICATE,
    Verdict.ON_LOAN,
    Verdict.WRONG_LOCATION,
    Verdict.MISSHELVED,
    Verdict.UNKNOWN,
    Verdict.INVALID,
    Verdict.EXCLUDED,
    Verdict.FOUND_AGAIN,
    Verdict.COMMAND,
    Verdict.ERROR,
    PROBLEM,
)

#: signal -> ((English meaning, action), (Indonesian meaning, action))
TEXTS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    Verdict.OK: (
        ("Found and counted.", "Go on scanning."),
        ("Ditemukan dan tercatat.", "Lanjutkan memindai."),
    ),
    Verdict.DUPLICATE: (
        (
            "Already scanned in this stock take; it still counts once.",
            "Nothing to do. A second book with the same label: set it aside for a new label.",
        ),
        (
            "Sudah dipindai dalam stok opname ini; tetap dihitung sekali.",
            "Tidak perlu apa-apa. Bila buku lain berlabel sama: sisihkan untuk diberi label baru.",
        ),
    ),
    Verdict.ON_LOAN: (
        (
            "SLiMS says it is on loan, yet it is on the shelf.",
            "Put it on the returns trolley so circulation can check the loan.",
        ),
        (
            "Menurut SLiMS sedang dipinjam, padahal ada di rak.",
            "Taruh di troli pengembalian agar petugas sirkulasi memeriksa peminjamannya.",
        ),
    ),
    Verdict.WRONG_LOCATION: (
        (
            "It belongs to another location; the screen says which.",
            "Take it out and put it on the trolley for that location.",
        ),
        (
            "Buku ini milik lokasi lain; layar menyebutkan lokasinya.",
            "Keluarkan dan taruh di troli untuk lokasi tersebut.",
        ),
    ),
    Verdict.MISSHELVED: (
        (
            "Out of call-number order; the screen says which call numbers it belongs between.",
            "Move it there now, or set it aside for reshelving.",
        ),
        (
            "Tidak urut nomor panggil; layar menyebutkan di antara nomor panggil mana tempatnya.",
            "Pindahkan ke sana sekarang, atau sisihkan untuk ditata ulang.",
        ),
    ),
    Verdict.UNKNOWN: (
        (
            "The barcode is not in the catalogue on the cart.",
            "Set the book aside to be checked in SLiMS.",
        ),
        (
            "Barkodenya tidak ada di katalog pada troli.",
            "Sisihkan bukunya untuk diperiksa di SLiMS.",
        ),
    ),
    Verdict.INVALID: (
        (
            "What was read is not an item code (a smudged or torn label).",
            "Scan again. Still wrong: set it aside for a new label, or scan NO LABEL.",
        ),
        (
            "Yang terbaca bukan kode eksemplar (label kotor atau sobek).",
            "Pindai ulang. Masih salah: sisihkan untuk diberi label baru, atau pindai TANPA LABEL.",
        ),
    ),
    Verdict.EXCLUDED: (
        (
            "Its status (such as Repair) is left out of this stock take.",
            "Nothing to do; leave it where it is.",
        ),
        (
            "Statusnya (misalnya Repair) tidak ikut stok opname ini.",
            "Tidak perlu apa-apa; biarkan di tempatnya.",
        ),
    ),
    Verdict.FOUND_AGAIN: (
        (
            "SLiMS holds it as lost (Missing) from an earlier count, yet it is here.",
            "Take it to the desk: its status must be changed in SLiMS.",
        ),
        (
            "SLiMS mencatatnya hilang sejak stok opname lalu, padahal ada di sini.",
            "Bawa ke meja sirkulasi: statusnya harus diubah di SLiMS.",
        ),
    ),
    Verdict.COMMAND: (
        (
            "A command barcode from the sheet was read.",
            "Check that the screen shows the command you meant.",
        ),
        (
            "Barkode perintah dari lembar perintah terbaca.",
            "Pastikan layar menampilkan perintah yang dimaksud.",
        ),
    ),
    Verdict.ERROR: (
        (
            "The scan could NOT be stored.",
            "Scan the book again. If it happens again, stop and call the technician.",
        ),
        (
            "Pindaian TIDAK tersimpan.",
            "Pindai ulang bukunya. Bila terjadi lagi, berhenti dan hubungi teknisi.",
        ),
    ),
    PROBLEM: (
        (
            "The cart has a problem: scanner, storage, disk full, SLiMS, or a scan while paused.",
            "Read the screen: it says what is wrong and what to do.",
        ),
        (
            "Troli bermasalah: pemindai, penyimpanan, disk penuh, SLiMS, atau memindai saat jeda.",
            "Baca layar: di sana tertulis masalahnya dan yang harus dilakukan.",
        ),
    ),
}

PAGE: dict[str, dict[str, str]] = {
    "en": {
        "title": "What the sounds and lights mean",
        "screen": "Screen",
        "sound": "Sound",
        "light": "Light",
        "means": "What it means",
        "do": "What to do",
        "latch": "Lights that stay lit go out at the next scan or when you press the mute button.",
        "active": "This cart's buzzer has one pitch: tell the sounds apart by their rhythm.",
        "pitched": "Pitch (in brackets) helps, but the rhythm alone tells the sounds apart.",
        "muted": "The sound is switched off in this cart's settings: watch the lights.",
    },
    "id": {
        "title": "Arti bunyi dan lampu",
        "screen": "Layar",
        "sound": "Bunyi",
        "light": "Lampu",
        "means": "Artinya",
        "do": "Yang harus dilakukan",
        "latch": "Lampu yang tetap menyala padam pada pindaian berikutnya atau saat tombol "
        "senyap ditekan.",
        "active": "Buzzer troli ini hanya punya satu nada: bedakan bunyinya dari iramanya.",
        "pitched": "Nada (dalam kurung) membantu, tetapi irama saja sudah membedakan bunyinya.",
        "muted": "Bunyi dimatikan di pengaturan troli ini: perhatikan lampunya.",
    },
}


@dataclass(frozen=True)
class CardRow:
    """One signal on the card, every cell already in words."""

    signal: str
    screen: str
    sound: str
    light: str
    means: str
    action: str


def _screen(signal: str, lang: str) -> str:
    if signal == Verdict.COMMAND:
        return " / ".join(tr(lang, f"cmd.{c}") for c in Command)
    if signal == PROBLEM:
        return " / ".join("! " + tr(lang, f"problem.{k}") for k in ProblemKind)
    return tr(lang, signal)


def build_card(
    patterns: Mapping[str, Pattern],
    language: str = "en",
    *,
    pitched: bool = True,
    screen_language: str = "",
) -> list[CardRow]:
    """The card's rows for ``patterns`` (the cart's, overrides applied).

    :param pitched: the buzzer plays pitches (passive); an active one has rhythm only.
    :param screen_language: the OLED's language, for the screen words (default: ``language``).
    """
    if language not in PAGE:
        raise ConfigError(f"unknown language {language!r}; choose one of {', '.join(PAGE)}")
    lang = 1 if language == "id" else 0
    rows = []
    for signal in ORDER:
        p = patterns[signal]
        means, action = TEXTS[signal][lang]
        rows.append(
            CardRow(
                str(signal),
                _screen(signal, screen_language or language),
                sound_words(p.sound, language, pitched=pitched),
                light_words(p.light, p.latch, language),
                means,
                action,
            )
        )
    return rows


_CSS = """
.sl{border-collapse:collapse;width:100%;font-size:10pt;break-inside:auto}
.sl th,.sl td{border:1px solid #999;padding:1.5mm 2mm;text-align:left;vertical-align:top}
.sl th{background:#eee}.sl td:first-child{font-weight:bold;white-space:normal}
.sl tr{break-inside:avoid;page-break-inside:avoid}.sl-notes{font-size:9pt;margin:2mm 0}
"""


def render_card(
    rows: list[CardRow], language: str = "en", *, pitched: bool = True, muted: bool = False
) -> str:
    """The card as an HTML fragment (a heading, the table, the notes) for any page."""
    e = html.escape
    t = PAGE[language]
    head = "".join(f"<th>{e(t[k])}</th>" for k in ("screen", "sound", "light", "means", "do"))
    body = "".join(
        "<tr>"
        + "".join(f"<td>{e(cell)}</td>" for cell in (r.screen, r.sound, r.light, r.means, r.action))
        + "</tr>"
        for r in rows
    )
    notes = [t["muted"]] if muted else []
    notes += [t["pitched" if pitched else "active"], t["latch"]]
    return (
        f"<section class='sounds-lights'><style>{_CSS}</style><h2>{e(t['title'])}</h2>"
        f"<table class='sl'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        + "".join(f"<p class='sl-notes'>{e(n)}</p>" for n in notes)
        + "</section>"
    )


def render_page(
    rows: list[CardRow], language: str = "en", *, pitched: bool = True, muted: bool = False
) -> str:
    """The card as one self-contained printable page (A4 landscape)."""
    title = html.escape(PAGE[language]["title"])
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>@page{{size:A4 landscape;margin:10mm}}"
        "body{font-family:system-ui,'DejaVu Sans',sans-serif;color:#111;margin:0 auto;"
        "max-width:277mm}h2{font-size:16pt}</style></head><body>"
        + render_card(rows, language, pitched=pitched, muted=muted)
        + "</body></html>\n"
    )
