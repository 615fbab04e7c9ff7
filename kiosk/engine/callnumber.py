"""Call numbers as SLiMS libraries write them, and the order books stand in.

A SLiMS call number is free text typed by many hands over many years, e.g.
``297.3 SUB m``, ``R 030 ENS``, ``899.221 3 HAM t``, ``Fic PRA b``,
``005.133 KAD p c.2``. It is read left to right as

* an optional collection prefix before the class number (``R``/``REF`` for
  reference, ``F``/``Fic`` for fiction, ``S``, ``TA`` …), normalised so that
  spelling variants (``REF``, ``Ref.``) stand together;
* a DDC class number, with decimals written with a point or a comma and the
  Indonesian habit of grouping decimals in threes (``899.221 3``); the
  Kemenag ``2X`` notation for Islam (``2X4.3``) sorts as if ``X`` were a digit
  after 9, i.e. after 299 and before 300, as a plain text sort in SLiMS does;
* author marks or Cutter numbers (``SUB``, ``S12a``, ``.P98``), compared
  letters first, then digits as a decimal fraction (``S12 < S123 < S13``);
* a title letter, a year, an edition (``ed.2``, ``cet.3``), a volume (``v.2``,
  ``Jil. 3``, ``Vol II``, ``IV``) and a copy (``c.2``, ``eks.2``).

A number is a class number only right after the prefix (``R 030``,
``A 398.2``). On fiction and children's shelves (``F``, ``FIK``, ``A``, ``K``)
a number after the author mark begins the title: ``F DEE 1`` is "1984" by DEE,
``FIK DEE 5 cm`` is "5 cm"; such books stand after the author's books without
a title letter and before the lettered ones, by the number's value. Read as a
class, ``F DEE 1`` would stand after ``F ZZZ a`` and every correctly shelved
numeric title would raise a false misshelf alarm.

Nothing here raises on odd input: whatever cannot be read is listed in
:attr:`CallNumber.problems` and the call number is still ordered (unreadable
ones after all readable ones), so one bad catalogue row never stops a shelf.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from kiosk.engine import callwords as cw

__all__ = ["CallNumber", "ddc_group", "parse", "shelf_key", "sort_key"]


@dataclass(frozen=True, slots=True)
class CallNumber:
    """One parsed call number; :attr:`key` is where it stands on the shelf."""

    text: str
    prefix: str = ""
    class_number: str = ""
    marks: tuple[str, ...] = ()
    title_letter: str = ""
    year: int | None = None
    edition: int | None = None
    volume: str = ""
    copy: int | None = None
    title_number: int | None = None
    title_words: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    key: tuple[object, ...] = field(default=(), compare=False, repr=False)
    shelf_key: tuple[object, ...] = field(default=(), compare=False, repr=False)

    @property
    def orderable(self) -> bool:
        """Whether enough was read to place the book among others."""
        return bool(self.prefix or self.class_number or self.marks)

    @property
    def author_mark(self) -> str:
        """The first author mark or Cutter number, as written."""
        return self.marks[0] if self.marks else ""

    @property
    def ddc_class(self) -> str:
        """Report group: the DDC hundred (``"000"``…``"900"``), ``fiction`` or ``other``."""
        if self.class_number:
            return self.class_number[0] + "00"
        if self.prefix == "F":
            return "fiction"
        return "other"


def _class_parts(token: str) -> tuple[str, str] | None:
    m = cw.CLASS.fullmatch(token)
    if not m:
        return None
    whole, dec = m.group(1).upper(), m.group(2) or ""
    if "X" in whole:  # Kemenag notation: only "2X", "2X4" shapes
        if len(whole) < 2 or whole[1] != "X" or "X" in whole[2:]:
            return None
        whole = whole.ljust(3, "0")
    return whole, dec


def _is_prefix_word(token: str) -> bool:
    return token.strip("()[].").upper() in cw.KNOWN_PREFIXES


def _starts_class(words: list[str], parts: tuple[str, str]) -> bool:
    """Whether a number after ``words`` is a class number rather than a title or volume.

    A prefix followed directly by a number (``R 030``, ``A 398.2``) is a class.
    After a fiction or children's prefix and an author mark it is a title
    (``F DEE 1``); after other words, a short number without decimals is a
    volume (``R ENS 2``), while ``REF IND 030`` keeps its class.
    """
    if len(words) >= 2 and _norm_prefix(words[:1]) in cw.TITLE_SHELVES:
        return False
    if all(_is_prefix_word(w) for w in words):
        return True
    whole, dec = parts
    return len(whole) == 3 or bool(dec)


def _norm_prefix(words: list[str]) -> str:
    cleaned = [w.strip("()[].,:-").upper() for w in words]
    cleaned = [w for w in cleaned if w]
    if len(cleaned) == 1:
        return cw.PREFIX_ALIASES.get(cleaned[0], cleaned[0])
    return " ".join(cleaned)


@lru_cache(maxsize=65536)
def parse(text: str) -> CallNumber:
    """Read a call number; never raises, reports what it could not read in ``problems``."""
    return _parse_common(text) or _parse_any(text)


def _parse_common(text: str) -> CallNumber | None:
    """Shortcut for the everyday shape (``R 297.3 SUB m c.2``); same result as the long way."""
    m = cw.COMMON.fullmatch(text.strip()) if text.isascii() else None
    if m is None:
        return None
    pre, whole, dec, mark, title, copy = m.groups()
    if cw.WORD_NUM.fullmatch(mark):
        return None  # "VOL i" would read as volume 1; leave it to the long way
    return _make(
        text,
        tokens=text.split(),
        prefix=_norm_prefix([pre]) if pre else "",
        whole=whole,
        dec=dec or "",
        marks=[mark],
        title=title or "",
        copy=int(copy) if copy else None,
    )


def _parse_any(text: str) -> CallNumber:
    if text.isascii():
        norm = text.strip()
    else:  # fold width variants and accents ("Ｒ", "Müller") to plain ASCII letters
        norm = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
        norm = "".join(c for c in norm if not unicodedata.combining(c)).strip()
    tokens = [t.strip(",:") for t in cw.SPLIT.split(norm)]
    tokens = [t for t in tokens if t and not cw.PUNCT_ONLY.fullmatch(t)]
    problems: list[str] = []
    if not norm:
        problems.append("empty call number")
    elif not tokens:
        problems.append(f"no letters or digits in call number {text!r}")

    # Prefix words stand before the class number; a prefix glued to the class
    # (``R030``) or a mark glued to it (``297.3SUB``) is split apart first.
    prefix_words: list[str] = []
    whole = dec = ""
    i = 0
    for j, tok in enumerate(tokens):
        if j > 2:  # "REF IND 030" at most
            break
        parts = _class_parts(tok)
        if parts is None:
            w = cw.WORD_NUM.fullmatch(tok)
            if w and (w.group(2) or w.group(3)):  # "Jil. 3" is no prefix
                break
        if parts is None and j == 0:
            g = cw.PREFIX_GLUED.fullmatch(tok)
            if g and _is_prefix_word(g.group(1)):
                tokens[j : j + 1] = [g.group(1), g.group(2)]
                prefix_words.append(g.group(1))
                continue
        if parts is None:
            g = cw.CLASS_GLUED.fullmatch(tok)
            if g:
                tokens[j : j + 1] = [g.group(1), g.group(2)]
                parts = _class_parts(g.group(1))
        if parts is not None and j > 0 and not _starts_class(tokens[:j], parts):
            break  # "F DEE 1", "R ENS 2": a title or a volume after the author mark
        if parts is not None:
            whole, dec = parts
            prefix_words.extend(tokens[len(prefix_words) : j])
            i = j + 1
            break
        if not tok.replace(".", "").replace("(", "").replace(")", "").isalpha():
            break
    if not whole:
        prefix_words = []
        # "F HIR l": a known prefix needs something after it, unless it is R or F alone.
        alone = len(tokens) == 1 and _norm_prefix(tokens) in ("R", "F")
        if alone or (len(tokens) > 1 and _is_prefix_word(tokens[0])):
            prefix_words = [tokens[0]]
        i = len(prefix_words)
    else:
        if len(whole) < 3:
            problems.append(f"class number {whole!r} has fewer than three digits")
            whole = whole.rjust(3, "0")
        # "899.221 3": decimals grouped in threes continue in the next token.
        while dec and i < len(tokens) and cw.DIGITS3.fullmatch(tokens[i]):
            dec += tokens[i]
            i += 1
    prefix = _norm_prefix(prefix_words)
    class_number = whole + ("." + dec if dec else "")  # only tells whether one was read

    marks: list[str] = []
    extra: list[str] = []
    title = volume = ""
    year: int | None = None
    edition: int | None = None
    copy: int | None = None
    title_number: int | None = None
    title_words: list[str] = []
    # "F DEE 1", "FIK DEE 5 cm": on a fiction or children's shelf a number right
    # after the author mark starts the title; the words after it belong to it.
    titled_shelf = prefix in cw.TITLE_SHELVES and not class_number
    rest = tokens[i:]
    k = 0
    while k < len(rest):
        tok = rest[k]
        nxt = rest[k + 1] if k + 1 < len(rest) else ""
        k += 1
        t = cw.TITLE_NUMBER.fullmatch(tok) if titled_shelf and marks else None
        if t and not title and title_number is None and not volume:
            title_number = int(t.group(1))
            title_words.extend([t.group(2).lower()] if t.group(2) else [])
            continue
        y = cw.YEAR.fullmatch(tok)
        if y and year is None:
            year = int(y.group(1))
            continue
        bare = tok.strip("()[]")  # "(c.2)"
        w = cw.WORD_NUM.fullmatch(bare)
        if w and len(w.group(1)) == 1 and bare[0].isupper() and w.group(3) and not w.group(2):
            w = None  # "C12" is a Cutter number; a copy is written "c2" or "C.2"
        elif w and not marks and not w.group(2) and not w.group(3):
            w = None  # a bare "NO" or "ED" before any mark is an author mark
        if w:
            word, dot, num, tail = w.group(1).lower(), w.group(2), w.group(3), w.group(4)
            # A bare single letter is a title letter until one is known ("KAD c").
            ambiguous = len(word) == 1 and not dot and not num
            spelled = ""
            if num:
                spelled = num + tail.lower()
            elif not tail and nxt and not (ambiguous and not title):
                roman = cw.ROMAN.fullmatch(nxt) and nxt.isupper()  # "Vol II", not a title "i"
                if cw.NUMBER.fullmatch(nxt) or (roman and not ambiguous):
                    spelled = nxt
                    k += 1
            if spelled:
                kind = (
                    "copy"
                    if word in cw.COPY_SET
                    else "edition"
                    if word in cw.EDITION_SET
                    else "volume"
                )
                n = cw.number_key(spelled)[0]
                if kind == "copy" and copy is None and n != cw.NO_NUMBER:
                    copy = n
                    continue
                if kind == "edition" and edition is None and n != cw.NO_NUMBER:
                    edition = n
                    continue
                if kind == "volume" and not volume:
                    volume = spelled
                    continue
                extra.append(f"{tok} {spelled}" if not num else tok)
                problems.append(f"repeated {kind} {tok!r}")
                continue
        if title_number is not None:  # "99 Cahaya di Langit Eropa": the rest of the title
            title_words.append(tok.lower())
            continue
        if marks and not volume and cw.ROMAN_VOLUME.fullmatch(tok) and (title or len(tok) > 1):
            volume = tok  # "F PRA b IV", "R 030 ENS II": a roman volume, not a second mark
            continue
        g = cw.MARK_TITLE_GLUED.fullmatch(tok)
        if g and not marks:
            marks.append(g.group(1))
            title = g.group(2)
            continue
        if cw.MARK.fullmatch(tok):
            letters = tok.strip(".")
            if marks and not title and len(letters) == 1 and letters.isalpha():
                title = letters.lower()
            else:
                marks.append(tok.lstrip("."))
            continue
        if cw.NUMBER.fullmatch(tok) and not volume and len(tok) <= 3 and (marks or class_number):
            volume = tok  # "370.1 NAS s 2": a bare number after the marks is a volume
            continue
        extra.append(tok)
        problems.append(f"unrecognised part {tok!r}")

    return _make(
        text,
        tokens=tokens,
        prefix=prefix,
        whole=whole,
        dec=dec,
        marks=marks,
        title=title,
        year=year,
        edition=edition,
        volume=volume,
        copy=copy,
        title_number=title_number,
        title_words=title_words,
        extra=extra,
        problems=problems,
    )


def _make(
    text: str,
    *,
    tokens: list[str],
    prefix: str,
    whole: str,
    dec: str,
    marks: list[str],
    title: str,
    year: int | None = None,
    edition: int | None = None,
    volume: str = "",
    copy: int | None = None,
    title_number: int | None = None,
    title_words: list[str] | None = None,
    extra: list[str] | None = None,
    problems: list[str] | None = None,
) -> CallNumber:
    extra = extra or []
    problems = problems or []
    class_number = whole + ("." + dec if dec else "")
    cn_orderable = bool(prefix or class_number or marks)
    if tokens and not cn_orderable:
        problems.append(f"no class number, prefix or author mark in {text!r}")
    elif cn_orderable and not class_number and not prefix:
        problems.append("no class number")
    elif class_number and not marks:
        problems.append("no author mark")

    marks_key = tuple(cw.mark_key(m) for m in marks)
    # X after 9: ':' follows '9' in ASCII, so "2X4" sorts after "299".
    class_key = (0, whole.replace("X", ":"), dec) if class_number else (1, "", "")
    shelf = (
        0 if cn_orderable else 1,
        prefix,
        *class_key,
        marks_key,
        title.lower(),
        -1 if title_number is None else title_number,
        tuple(title_words or ()),
        cw.number_key(volume) if volume else (0, ""),
    )
    key = (
        *shelf,
        year or 0,
        edition or 0,
        copy or 0,
        tuple(e.lower() for e in extra),
        " ".join(tokens).upper(),
        text,
    )
    return CallNumber(
        text=text,
        prefix=prefix,
        class_number=class_number,
        marks=tuple(marks),
        title_letter=title.lower(),
        year=year,
        edition=edition,
        volume=volume,
        copy=copy,
        title_number=title_number,
        title_words=tuple(title_words or ()),
        extra=tuple(extra),
        problems=tuple(problems),
        key=key,
        shelf_key=shelf,
    )


def sort_key(text: str) -> tuple[object, ...]:
    """Key for ``sorted()``: books in the order they stand; distinct texts never tie."""
    return parse(text).key


def shelf_key(text: str) -> tuple[object, ...]:
    """Coarser key: books with equal shelf keys may stand in either order.

    Year, edition and copy are left out on purpose: librarians do not agree on
    them, and two copies of one book swapped is not worth an alarm.
    """
    return parse(text).shelf_key


def ddc_group(text: str) -> str:
    """Report group of a call number: ``"000"``…``"900"``, ``fiction`` or ``other``."""
    return parse(text).ddc_class
