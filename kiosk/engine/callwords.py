"""The words and shapes of a call number: prefixes, volume and copy words, numbers, marks.

Kept apart from :mod:`kiosk.engine.callnumber` (which reads a call number
left to right) so the vocabulary a library may need to extend sits in one
short place.
"""

from __future__ import annotations

import re

#: Spelling variants of the prefixes whose meaning is shared by most libraries.
PREFIX_ALIASES: dict[str, str] = {
    "R": "R",
    "REF": "R",
    "REFERENCE": "R",
    "REFERENSI": "R",
    "RUJUKAN": "R",
    "F": "F",
    "FIC": "F",
    "FIK": "F",
    "FIKSI": "F",
    "FICTION": "F",
    "A": "A",
    "ANAK": "A",
    "SKR": "SKR",
    "SKRIPSI": "SKR",
    "TES": "TES",
    "TESIS": "TES",
    "DIS": "DIS",
    "DISERTASI": "DIS",
}

#: Fiction and children's shelves (normalised prefixes): there a number after
#: the author mark begins the title (``F DEE 1`` is "1984", ``FIK DEE 5 cm``)
#: and never is a class number, which would follow the prefix directly.
TITLE_SHELVES: frozenset[str] = frozenset({"F", "A", "J", "K"})

#: Prefixes recognised even when no class number follows (``F HIR l``).
#: Before a class number any word is a prefix, so this list only matters for
#: classless call numbers and for prefixes glued to the class (``R030``).
KNOWN_PREFIXES: frozenset[str] = frozenset({*PREFIX_ALIASES, "S", "J", "B", "K", "P", "TA"})

VOLUME_WORDS = "v|vol|volume|jil|jilid|jld|juz|bk|book|buku|pt|part|bag|bagian|tom|tome|no|nomor|nr"
COPY_WORDS = "c|cp|cop|copy|eks|eksp|eksemplar|ex|exp|exs|exemplar"
EDITION_WORDS = "ed|edn|edisi|cet|cetakan"

COPY_SET = frozenset(COPY_WORDS.split("|"))
EDITION_SET = frozenset(EDITION_WORDS.split("|"))

A = re.ASCII
SPLIT = re.compile(r"[\s/|;]+")
CLASS = re.compile(r"([0-9][0-9Xx]{0,2})(?:[.,]([0-9]*))?", A)
CLASS_GLUED = re.compile(r"([0-9]{3}(?:[.,][0-9]+)?)([A-Za-z].*)", A)
PREFIX_GLUED = re.compile(r"([A-Za-z]{1,5})\.?([0-9]{3}(?:[.,][0-9]+)?)", A)
DIGITS3 = re.compile(r"[0-9]{1,3}", A)
YEAR = re.compile(r"[(\[]?((?:1[5-9]|20)[0-9]{2})[)\].]?", A)
NUMBER = re.compile(r"([0-9]{1,9})([A-Za-z]?)\.?", A)
ROMAN = re.compile(r"([IVXLCDM]{1,8})\.?", A | re.IGNORECASE)
WORD_NUM = re.compile(
    rf"({VOLUME_WORDS}|{COPY_WORDS}|{EDITION_WORDS})(\.?)(?:ke-?)?([0-9]{{1,9}})?([A-Za-z]?)\.?",
    A | re.IGNORECASE,
)
#: Roman volume numbers up to 39 (``Vol II``, ``F PRA b IV``): only I, V and X,
#: so that a mark like ``CD`` or ``MIL`` is never taken for a volume.
ROMAN_VOLUME = re.compile(r"(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3})", A)
TITLE_NUMBER = re.compile(r"([0-9]{1,9})([A-Za-z][0-9A-Za-z]*)?", A)  # "1984", "1Q84"
MARK_TITLE_GLUED = re.compile(r"([A-Z]{2,4})([a-z])", A)
MARK = re.compile(r"\.?([A-Za-z][A-Za-z'\-]*)([0-9]*)([a-z]*)\.?", A)
PUNCT_ONLY = re.compile(r"[^0-9A-Za-z]*", A)
NOT_ALNUM = re.compile(r"[^0-9A-Za-z]", A)
COMMON = re.compile(
    r"(?:([A-Za-z]{1,5}) +)?([0-9]{3})(?:\.([0-9]+))? +([A-Z]{1,4}|[A-Z][a-z]{1,3})"
    r"(?: +([a-z]))?(?: +c\.([0-9]{1,3}))?",
    A,
)
ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}

#: Sorts a number-less volume or copy after numbered ones of the same book.
NO_NUMBER = 10**10


def roman(text: str) -> int | None:
    total, prev = 0, 0
    for ch in reversed(text.upper()):
        v = ROMAN_VALUES[ch]
        total = total - v if v < prev else total + v
        prev = max(prev, v)
    return total or None


def number_key(text: str) -> tuple[int, str]:
    """Numbers as numbers (``2 < 10``), roman volumes too, anything else after them."""
    m = NUMBER.fullmatch(text)
    if m:
        return int(m.group(1)), m.group(2).lower()
    r = ROMAN.fullmatch(text)
    if r:
        v = roman(r.group(1))
        if v is not None:
            return v, ""
    return NO_NUMBER, text.lower()


def mark_key(mark: str) -> tuple[str, str, str]:
    m = MARK.fullmatch(mark)
    assert m is not None  # marks are only stored after matching MARK
    return NOT_ALNUM.sub("", m.group(1)).upper(), m.group(2), m.group(3).lower()
