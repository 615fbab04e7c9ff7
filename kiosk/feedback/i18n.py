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
    "found_again": ("FOUND AGAIN", "KETEMU LAGI"),
    "command": ("COMMAND", "PERINTAH"),
    "error": ("ERROR", "GALAT"),
    # verdict hints: what happened, then what to do (small lines under the word)
    "hint.duplicate": ("already scanned", "sudah dipindai"),
    "hint.unknown": ("not in catalogue", "tidak ada di katalog"),
    "todo.unknown": ("set aside to catalogue", "sisihkan untuk didata"),
    "hint.on_loan": ("SLiMS: on loan", "SLiMS: dipinjam"),
    "todo.on_loan": ("to the returns trolley", "ke troli pengembalian"),
    "hint.invalid": ("not an item code", "bukan kode buku"),
    "todo.invalid": ("scan the label again", "pindai ulang labelnya"),
    "hint.excluded": ("skip: {status}", "lewati: {status}"),
    "hint.found_again": ("SLiMS: {status}", "SLiMS: {status}"),
    "todo.found_again": ("to the desk: fix status", "ke meja: ubah status"),
    "hint.error": ("scan NOT stored", "TIDAK tersimpan"),
    "belongs": ("move to: {where}", "pindah ke: {where}"),
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
    "cmd.web": ("CART PAGE", "HALAMAN TROLI"),
    # command hints: what the command did and what comes next (wrapped over the lines)
    "hint.cmd.undo": ("last scan taken back", "pindaian terakhir dibatalkan"),
    "hint.cmd.run": ("run {n} begins", "deret {n} dimulai"),
    "hint.cmd.location": ("run {n} begins", "deret {n} dimulai"),
    "next.run": ("scan the first book", "pindai buku pertama"),
    "span.from": ("run {n}: {x}", "deret {n}: {x}"),
    "span.to": ("to {x}", "sampai {x}"),
    "hint.cmd.sync": ("sync started", "sinkronisasi dimulai"),
    "hint.cmd.nolabel": ("{n} without label here", "{n} tanpa label di sini"),
    "todo.nolabel": ("set it aside for a label", "sisihkan untuk dilabeli"),
    "hint.cmd.pause": ("paused: scan RESUME to go on", "dijeda: pindai LANJUT untuk terus"),
    "hint.cmd.resume": ("scanning again", "memindai lagi"),
    # seen only when the page is off: when it is on, its QR code and PIN stand in
    "hint.cmd.web": (
        "Its QR code shows here if [web] is on in kiosk.toml.",
        "Kode QR tampil di sini bila [web] aktif di kiosk.toml.",
    ),
    # idle
    "stocktake": ("Stock take", "Stok opname"),
    "no_location": ("no location", "tanpa lokasi"),
    "run": ("run {n}", "deret {n}"),
    "scanned": ("scanned", "dipindai"),
    "unsynced": ("{n} to sync", "{n} belum dikirim"),
    "exported": ("{n} in file, not in SLiMS", "{n} baru di berkas unggah"),
    "unsynced_exported": ("{n} to sync, {m} in file", "{n} antre, {m} di berkas"),
    "not_in_slims": ("{n} not in SLiMS yet", "{n} belum di SLiMS"),
    "all_synced": ("all in SLiMS", "semua sudah di SLiMS"),
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
    "problem.catalog": ("CATALOGUE", "KATALOG"),
    "problem.location": ("UNKNOWN PLACE", "LOKASI ASING"),
    # problems: what happened and what to do, wrapped under the title; "{0}", "{1}"
    # are the problem's details; ".bare" is the text when it has none
    "body.no_scanner": (
        "Plug a barcode scanner into a USB port.",
        "Colokkan pemindai barcode ke port USB.",
    ),
    "body.store": (
        "Storage trouble: ask the technician to run kiosk doctor.",
        "Penyimpanan bermasalah: panggil teknisi (kiosk doctor).",
    ),
    "body.low_disk": (
        "Scans are NOT stored. Free space on the SD card.",
        "Pindaian TIDAK tersimpan. Kosongkan kartu SD.",
    ),
    "body.slims": (
        "Scans are safe on the cart. Sync again later.",
        "Pindaian aman di troli. Sinkronkan lagi nanti.",
    ),
    "body.paused": ("Scan RESUME to go on.", "Pindai LANJUT untuk meneruskan."),
    "body.undo": (
        "{0} has left the cart: fix it in SLiMS.",
        "{0} sudah dikirim: perbaiki di SLiMS.",
    ),
    "body.undo.bare": (
        "A sync is running: undo after it ends.",
        "Sinkronisasi berjalan: batalkan setelah selesai.",
    ),
    "body.catalog": (
        "Catalogue is {0} days old: pull it again.",
        "Katalog sudah {0} hari: tarik ulang.",
    ),
    "body.catalog.bare": (
        "Catalogue is empty: run kiosk catalog pull.",
        "Katalog kosong: jalankan kiosk catalog pull.",
    ),
    "body.location": ("No {0} in catalogue. Try: {1}", "{0} tidak ada di katalog. Coba: {1}"),
    "body.location.bare": (
        "Not in the catalogue: check the barcode.",
        "Tidak ada di katalog: periksa barcodenya.",
    ),
    # problems: one-line banner on the idle screen
    "banner.no_scanner": ("no scanner found", "pemindai tak ada"),
    "banner.store": ("storage problem", "masalah penyimpanan"),
    "banner.low_disk": ("disk almost full", "disk hampir penuh"),
    "banner.slims": ("SLiMS unreachable", "SLiMS tak terjangkau"),
    "banner.paused": ("scanning paused", "pemindaian dijeda"),
    "banner.undo": ("undo refused", "batal ditolak"),
    "banner.catalog": ("pull the catalogue", "perbarui katalog"),
    "banner.location": ("unknown location", "lokasi asing"),
    # the cart page's address (a QR code) and one-time login PIN
    "web": ("CART PAGE", "HALAMAN"),
    "web.pin": ("login PIN", "PIN masuk"),
    # start / stop
    "starting": ("Starting...", "Memulai..."),
    "stopped": ("STOPPED", "BERHENTI"),
    "stopped.hint": ("scanning stopped", "pemindaian berhenti"),
}


def tr(lang: str, key: str, *args: object, **fmt: object) -> str:
    """Text for ``key`` in ``lang`` (English if unknown); ``args``/``fmt`` fill ``{…}`` fields."""
    pair = TEXTS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "id" else pair[0]
    return text.format(*args, **fmt) if args or fmt else text


def has(key: str) -> bool:
    return key in TEXTS
