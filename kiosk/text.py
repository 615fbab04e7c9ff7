"""Scanned text made safe for where it is shown: terminals, logs, file names, spreadsheets.

A barcode is whatever the scanner typed, and a catalogue is whatever SLiMS
holds: either can carry an ESC sequence that repaints a terminal, a newline
that forges a log line, or a cell such as ``=HYPERLINK(...)`` that a
spreadsheet runs as a formula. Every place that shows such text passes it
through one of the two functions here, so the rule lives in one place.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from typing import Any

__all__ = ["PrintableLog", "csv_cell", "json_line", "printable"]

#: Format characters that reorder or hide text on screen (bidi overrides and
#: isolates, "Trojan Source"); escaped like control characters.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: First characters a spreadsheet reads as the start of a formula (OWASP's list).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


#: What ``json.dumps(..., ensure_ascii=False)`` leaves raw although a terminal
#: acts on it: DEL, the C1 controls (U+009B is CSI), line separators, bidi controls.
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029" + "".join(sorted(_BIDI)) + "]")


def _escape(ch: str) -> str:
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def printable(text: str) -> str:
    """``text`` with every control character written as an escape (``\\x1b``, ``\\n``, ...).

    Plain text, accents and scripts other than Latin are kept as they are; only
    characters that a terminal or a log reader would act on instead of showing
    (C0, DEL, C1, line and paragraph separators, bidi controls) are escaped, and
    a backslash stays itself, so the common case costs one scan of the string.
    """
    if text.isprintable() and not _BIDI.intersection(text):
        return text
    out = []
    for ch in text:
        if ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch in _BIDI or unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)


def csv_cell(value: object) -> str:
    """One CSV cell that a spreadsheet shows as text and never runs as a formula.

    The OWASP rule: a cell that starts with ``=``, ``+``, ``-``, ``@``, tab or
    carriage return gets a leading single quote, which spreadsheets hide. A
    code such as ``-0012`` keeps its leading zeros that way, too.
    """
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def json_line(obj: Any) -> str:
    """``obj`` as one line of JSON, readable (UTF-8) yet with no raw control character.

    JSON itself escapes C0 controls; the few others a terminal would act on are
    written as ``\\uXXXX`` too, which any JSON reader turns back into the same text.
    """
    text = json.dumps(obj, ensure_ascii=False)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class PrintableLog(logging.Filter):
    """A handler filter that escapes control characters in each log message.

    A scanned ``\\n`` would otherwise forge a second log line, and an ESC
    sequence would repaint the terminal of whoever reads the log. The message
    is formatted once here; tracebacks are left to the formatter as they are.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        safe = printable(message)
        if safe is not message:
            record.msg, record.args = safe, None
        return True
