"""What the CLI tells a librarian (status, sync, report, commands, demo), in English and Indonesian.

The language is the configuration's ``[report] language``, the same as the
printed report and command sheet. Messages for the person who installs or
debugs the cart (doctor, errors, logs) stay in English. A test fails when a
text here exists in one language only.
"""

from __future__ import annotations

from typing import Final

from kiosk import textfmt
from kiosk.text import printable

LANGUAGES: Final = ("en", "id")

#: key → (English, Indonesian); ``{name}`` fields are filled by :func:`say`.
TEXTS: Final[dict[str, tuple[str, str]]] = {
    # kiosk status
    "status.state_dir": ("state directory: {path}", "folder data: {path}"),
    "status.catalog": (
        "catalogue: {n} items (source: {source})",
        "katalog: {n} eksemplar (sumber: {source})",
    ),
    "status.no_source": ("none", "belum ada"),
    "status.where": (
        "location: {location}   shelf run: {run}",
        "lokasi: {location}   deret rak: {run}",
    ),
    "status.scans": ("scans: {n}", "pindaian: {n}"),
    "status.unsynced": ("not yet in SLiMS: {n}", "belum masuk SLiMS: {n}"),
    "status.exported": (
        "  of which in the upload file: {n} (in {path} or on a USB stick; upload it in "
        "SLiMS, then `kiosk sync` online confirms them)",
        "  di antaranya sudah di berkas unggah: {n} (di {path} atau di flashdisk; unggah di "
        "SLiMS, lalu `kiosk sync` daring mengonfirmasinya)",
    ),
    # kiosk sync
    "sync.progress": ("sync {done}/{total}", "kirim {done}/{total}"),
    "sync.started": (
        "started stock take {name!r} in SLiMS",
        "stok opname {name!r} sudah dimulai di SLiMS",
    ),
    "sync.result": (
        "sync ({mode}){by}: {confirmed} of {pending} scans confirmed in SLiMS",
        "kirim ({mode}){by}: {confirmed} dari {pending} pindaian sudah masuk SLiMS",
    ),
    "sync.result_file": (
        "sync (file){by}: {exported} of {pending} scans in the upload file, not yet in SLiMS",
        "kirim (berkas){by}: {exported} dari {pending} pindaian ada di berkas unggah, "
        "belum masuk SLiMS",
    ),
    "sync.by_daemon": (" by the daemon (pid {pid})", " oleh layanan kiosk (pid {pid})"),
    "sync.file": ("file: {path}", "berkas: {path}"),
    "sync.usb": (
        "on the USB stick: run `sync; sudo umount {folder}` before pulling it out",
        "di flashdisk: jalankan `sync; sudo umount {folder}` sebelum mencabutnya",
    ),
    "sync.copy": (
        "copy it off the cart: scp {host}:{path} . "
        "(or plug in a USB stick and run `kiosk sync --mode file` again)",
        "salin dari troli: scp {host}:{path} . "
        "(atau colokkan flashdisk lalu jalankan `kiosk sync --mode file` lagi)",
    ),
    "sync.then": (
        "then: in SLiMS, Stock Take → Upload, choose the file; the next online "
        "`kiosk sync` confirms each scan",
        "lalu: di SLiMS, Stock Opname → Unggah, pilih berkas itu; `kiosk sync` daring "
        "berikutnya mengonfirmasi tiap pindaian",
    ),
    "sync.left": (
        "not synced: {n} (run `kiosk sync` again, or use --mode item)",
        "belum terkirim: {n} (jalankan `kiosk sync` lagi, atau pakai --mode item)",
    ),
    # kiosk commands
    "commands.left_out": ("warning: left out: {problem}", "peringatan: tidak dicetak: {problem}"),
    "commands.written": (
        "{n} command barcodes written to {out}/ ({file} to print)",
        "{n} barcode perintah disimpan di {out}/ (cetak {file})",
    ),
    "commands.card": (
        "what the sounds and lights mean: {page} (also on {sheet})",
        "arti bunyi dan lampu: {page} (juga ada di {sheet})",
    ),
    # kiosk demo
    "demo.catalog": (
        "catalogue: {n} items from the bundled SLiMS export sample",
        "katalog: {n} eksemplar dari contoh ekspor SLiMS bawaan",
    ),
    "demo.verdicts": ("scans by verdict: {counts}", "pindaian per hasil: {counts}"),
    "demo.outputs": ("outputs in {out}/:", "hasil di {out}/:"),
    "demo.upload": (
        "SLiMS stock-take upload file (one item code a line)",
        "berkas unggah stok opname SLiMS (satu kode eksemplar per baris)",
    ),
    "demo.html": ("report, open in a browser", "laporan, buka di peramban"),
    "demo.json": ("report as JSON", "laporan dalam format JSON"),
    "demo.frames": (
        "what the OLED showed, one PNG per frame",
        "tampilan layar OLED, satu PNG per tampilan",
    ),
    # kiosk session, and the session part of kiosk catalog pull
    "session.tied": ("SLiMS: {name}, started {started}", "SLiMS: {name}, mulai {started}"),
    "session.untied": ("(not tied to a SLiMS stock take yet)", "(belum terkait stok opname SLiMS)"),
    "session.archived": ("archived", "diarsipkan"),
    "session.counts": (
        "{found} found, {unsynced} not in SLiMS",
        "{found} ditemukan, {unsynced} belum di SLiMS",
    ),
    "session.started": (
        "session {old} archived with its scans; session {new} ({name}) begins",
        "sesi {old} diarsipkan beserta pindaiannya; sesi {new} ({name}) dimulai",
    ),
    "session.same": (
        "session {id} goes on with SLiMS's stock take {name}",
        "sesi {id} melanjutkan stok opname SLiMS {name}",
    ),
    "session.tie": (
        "session {id} is now tied to SLiMS's stock take {name}",
        "sesi {id} kini terkait stok opname SLiMS {name}",
    ),
    "session.switched": (
        "SLiMS runs a new stock take ({name}): session {old} archived with its {found} "
        "books found; session {new} begins",
        "SLiMS menjalankan stok opname baru ({name}): sesi {old} diarsipkan beserta "
        "{found} buku yang ditemukan; sesi {new} dimulai",
    ),
    "session.no_stocktake": (
        "no stock take is active in SLiMS: the cart stays in session {id}",
        "tidak ada stok opname aktif di SLiMS: kereta tetap di sesi {id}",
    ),
}


def say(lang: str, key: str, **fields: object) -> str:
    """The text ``key`` in ``lang`` (English for an unknown language), fields filled in.

    Whole numbers are grouped the reader's way (1,234 / 1.234); other values
    (location names, paths, scanned text) are escaped for the terminal.
    """
    en, id_ = TEXTS[key]
    text = id_ if lang == "id" else en
    shown = {
        k: textfmt.num(v, lang)
        if isinstance(v, int) and not isinstance(v, bool)
        else printable(str(v))
        for k, v in fields.items()
    }
    return text.format(**shown)
