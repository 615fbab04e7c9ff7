"""Screen texts in English and Indonesian.

Words are short on purpose: a 128-pixel line holds about 20 small characters,
and the verdict word must be readable at arm's length from a moving cart.
"""

from __future__ import annotations

LANGUAGES = ("en", "id")

#: key -> (English, Indonesian)
TEXTS: dict[str, tuple[str, str]] = {
    # verdict words (the big line)
    "ok": ("OK", "OK"),
    "duplicate": ("DUPLICATE", "DUPLIKAT"),
    "unknown": ("UNKNOWN", "TAK DIKENAL"),
    "on_loan": ("ON LOAN", "DIPINJAM"),
    "wrong_location": ("WRONG PLACE", "SALAH LOKASI"),
    "misshelved": ("MISSHELVED", "SALAH LETAK"),
    "invalid": ("INVALID", "TIDAK VALID"),
    "excluded": ("EXCLUDED", "DIKECUALIKAN"),
    "command": ("COMMAND", "PERINTAH"),
    "error": ("ERROR", "GALAT"),
    # verdict hints (a small line under the word)
    "hint.duplicate": ("already scanned", "sudah dipindai"),
    "hint.unknown": ("not in catalogue", "tidak ada di katalog"),
    "hint.on_loan": ("catalogue: on loan", "katalog: dipinjam"),
    "hint.invalid": ("not an item code", "kode tidak sah"),
    "hint.excluded": ("skip: {status}", "lewati: {status}"),
    "hint.error": ("scan not stored", "pindaian tak tersimpan"),
    "belongs": ("belongs: {where}", "seharusnya: {where}"),
    "after": ("after {x}", "setelah {x}"),
    "before": ("before {x}", "sebelum {x}"),
    # command words
    "cmd.undo": ("UNDO", "BATAL"),
    "cmd.run": ("NEW RUN", "DERET BARU"),
    "cmd.location": ("LOCATION", "LOKASI"),
    "cmd.sync": ("SYNC", "SINKRON"),
    "cmd.nolabel": ("NO LABEL", "TANPA LABEL"),
    "cmd.pause": ("PAUSE", "JEDA"),
    "cmd.resume": ("RESUME", "LANJUT"),
    # command hints (what the command did; LOCATION shows the location instead)
    "hint.cmd.undo": ("last scan taken back", "pindaian dibatalkan"),
    "hint.cmd.run": ("new shelf run begins", "deret rak baru dimulai"),
    "hint.cmd.location": ("location set", "lokasi diatur"),
    "hint.cmd.sync": ("sending to SLiMS", "mengirim ke SLiMS"),
    "hint.cmd.nolabel": ("book counted", "buku dihitung"),
    "hint.cmd.pause": ("scan RESUME to go on", "pindai LANJUT"),
    "hint.cmd.resume": ("scanning again", "memindai lagi"),
    # idle
    "stocktake": ("Stock take", "Stok opname"),
    "no_location": ("no location", "tanpa lokasi"),
    "run": ("run {n}", "deret {n}"),
    "scanned": ("scanned", "dipindai"),
    "unsynced": ("{n} to sync", "{n} belum kirim"),
    "all_synced": ("all synced", "semua terkirim"),
    "last": ("last: {v} {code}", "akhir: {v} {code}"),
    "ready": ("ready to scan", "siap memindai"),
    "paused": ("PAUSED", "JEDA"),
    "muted": ("MUTE", "SENYAP"),
    # progress
    "sync": ("SYNC", "SINKRONISASI"),
    "catalog": ("CATALOGUE", "KATALOG"),
    "upload": ("UPLOAD", "UNGGAH"),
    "report": ("REPORT", "LAPORAN"),
    # problems: title
    "problem.no_scanner": ("NO SCANNER", "PEMINDAI HILANG"),
    "problem.store": ("STORAGE", "PENYIMPANAN"),
    "problem.low_disk": ("DISK FULL", "DISK PENUH"),
    "problem.slims": ("NO SLIMS", "SLIMS PUTUS"),
    "problem.paused": ("PAUSED", "JEDA"),
    "problem.undo": ("NO UNDO", "TAK BISA BATAL"),
    # problems: one-line banner on the idle screen
    "banner.no_scanner": ("no scanner found", "pemindai tak ada"),
    "banner.store": ("storage problem", "masalah simpan"),
    "banner.low_disk": ("disk almost full", "disk hampir penuh"),
    "banner.slims": ("SLiMS unreachable", "SLiMS tak terjangkau"),
    "banner.paused": ("scanning paused", "pemindaian dijeda"),
    "banner.undo": ("undo refused", "batal ditolak"),
    # start / stop
    "starting": ("Starting...", "Memulai..."),
    "stopped": ("STOPPED", "BERHENTI"),
    "stopped.hint": ("scanning stopped", "pemindaian berhenti"),
}


def tr(lang: str, key: str, **fmt: object) -> str:
    """Text for ``key`` in ``lang`` (English if unknown); ``fmt`` fills ``{…}`` fields."""
    pair = TEXTS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "id" else pair[0]
    return text.format(**fmt) if fmt else text


def has(key: str) -> bool:
    return key in TEXTS
