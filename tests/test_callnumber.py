"""Call numbers as SLiMS libraries write them, and the shelf order they give."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.engine import callnumber
from kiosk.engine.callnumber import CallNumber, ddc_group, parse, shelf_key, sort_key

# text, prefix, class, marks, title, year, volume, copy
SHAPES = [
    ("297.3 SUB m", "", "297.3", ("SUB",), "m", None, "", None),
    ("R 030 ENS", "R", "030", ("ENS",), "", None, "", None),
    ("899.221 3 HAM t", "", "899.2213", ("HAM",), "t", None, "", None),
    ("F HIR l", "F", "", ("HIR",), "l", None, "", None),
    ("2X4.3 KAR", "", "2X4.3", ("KAR",), "", None, "", None),
    ("005.133 KAD p c.2", "", "005.133", ("KAD",), "p", None, "", 2),
    ("370.1 NAS s 2010", "", "370.1", ("NAS",), "s", 2010, "", None),
    ("REF 423 OXF", "R", "423", ("OXF",), "", None, "", None),
    ("S 899.221 TER", "S", "899.221", ("TER",), "", None, "", None),
    ("Fic PRA b", "F", "", ("PRA",), "b", None, "", None),
    ("823.914 ROW h v.1", "", "823.914", ("ROW",), "h", None, "1", None),
    ("340.09598 SOE", "", "340.09598", ("SOE",), "", None, "", None),
    ("297.3/SUB/m", "", "297.3", ("SUB",), "m", None, "", None),
    ("297,3 SUB m", "", "297.3", ("SUB",), "m", None, "", None),
    ("297.3SUBm", "", "297.3", ("SUB",), "m", None, "", None),
    ("R030 ENS e", "R", "030", ("ENS",), "e", None, "", None),
    ("Ref. 030 ENS", "R", "030", ("ENS",), "", None, "", None),
    ("813.54 S12a", "", "813.54", ("S12a",), "", None, "", None),
    ("297.3 SUB m Jil. 3", "", "297.3", ("SUB",), "m", None, "3", None),
    ("297.3 SUB m Vol 2", "", "297.3", ("SUB",), "m", None, "2", None),
    ("297.3 SUB m Vol. II", "", "297.3", ("SUB",), "m", None, "II", None),
    ("297.3 SUB m eks.2", "", "297.3", ("SUB",), "m", None, "", 2),
    ("005.133 KAD c c 2", "", "005.133", ("KAD",), "c", None, "", 2),
    ("297.3 Sub m (2010)", "", "297.3", ("Sub",), "m", 2010, "", None),
    ("Ｒ　０３０ Müller", "R", "030", ("Muller",), "", None, "", None),
]


@pytest.mark.parametrize("shape", SHAPES, ids=[s[0] or "empty" for s in SHAPES])
def test_real_world_shapes_are_read(shape):
    """Call numbers as typed in SLiMS catalogues are read into their parts, without complaint."""
    text, *expected = shape
    cn = parse(text)
    got = [cn.prefix, cn.class_number, cn.marks, cn.title_letter, cn.year, cn.volume, cn.copy]
    assert got == expected
    assert cn.problems == ()
    assert cn.orderable


@pytest.mark.parametrize("text", ["", "   ", "-", "???", "...", "eks.2", "2010"])
def test_empty_or_odd_call_numbers_are_reported(text):
    """Empty and meaningless call numbers are flagged and sorted after all readable ones."""
    cn = parse(text)
    assert cn.problems
    assert not cn.orderable
    assert sort_key(text) > sort_key("999.99 ZZZ z v.99 c.99")
    assert sort_key(text) > sort_key("S ZZZ")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("HIR l", "no class number"),
        ("297.3", "no author mark"),
        ("29 SUB", "fewer than three digits"),
        ("297.3 SUB m ###x", "unrecognised part"),
        ("297.3 SUB m c.1 c.2", "repeated copy"),
    ],
)
def test_doubtful_call_numbers_are_ordered_with_a_warning(text, problem):
    """A call number missing a part is still placed on the shelf, and the gap is reported."""
    cn = parse(text)
    assert cn.orderable
    assert any(problem in p for p in cn.problems)


def test_shelf_order_of_a_mixed_collection():
    """A mixed list sorts as the books stand: class, mark, title, volume, copy; sections apart."""
    expected = [
        "005.133 KAD p",
        "005.133 KAD p c.2",
        "005.2 ABC",
        "030 ENS",
        "297.3 SUB m",
        "297.3 SUB m v.2",
        "297.3 SUB m v.10",
        "297.31 ABA",
        "297.4 ABA",
        "299 ZZZ",
        "2X0 ABC",
        "2X4.3 KAR",
        "340.09598 SOE",
        "370.1 NAS s",
        "370.1 NAS s 2010",
        "813.54 S12a",
        "813.54 S123",
        "813.54 S13",
        "823.914 ROW h v.1",
        "899.221 HAM",
        "899.221 3 HAM t",
        "899.222 ABC",
        "HIR l",
        "F HIR l",
        "Fic PRA b",
        "R 030 ENS",
        "REF 423 OXF",
        "S 899.221 TER",
        "",
        "-",
        "???",
    ]
    shuffled = expected[:]
    random.Random(3).shuffle(shuffled)
    assert sorted(shuffled, key=sort_key) == expected


def test_decimals_compare_as_decimals():
    """297.31 stands after 297.3 and before 297.4; 899.2213 written 899.221 3 stands as such."""
    assert sort_key("297.3 A") < sort_key("297.31 A") < sort_key("297.4 A")
    assert shelf_key("899.221 3 HAM t") == shelf_key("899.2213 HAM t")


def test_spelling_variants_stand_together():
    """REF/Ref./R and F/Fic/Fiksi, case and spacing differences give the same shelf place."""
    assert shelf_key("REF 030 ENS") == shelf_key("R 030 ENS") == shelf_key("Ref. 030  ens")
    assert shelf_key("F HIR l") == shelf_key("Fic HIR l") == shelf_key("FIKSI HIR L")
    assert sort_key("REF 030 ENS") != sort_key("R 030 ENS")  # still a total order


def test_year_and_copy_do_not_change_the_shelf_place():
    """Copies and years of one book share a shelf place; volumes do not."""
    assert shelf_key("297.3 SUB m c.1") == shelf_key("297.3 SUB m eks. 2")
    assert shelf_key("297.3 SUB m 2010") == shelf_key("297.3 SUB m")
    assert shelf_key("297.3 SUB m v.1") != shelf_key("297.3 SUB m v.2")


@pytest.mark.parametrize(
    ("text", "group"),
    [
        ("297.3 SUB m", "200"),
        ("2X4.3 KAR", "200"),
        ("005.133 KAD", "000"),
        ("R 030 ENS", "000"),
        ("F HIR l", "fiction"),
        ("R ENS", "other"),
        ("???", "other"),
    ],
)
def test_report_groups(text, group):
    """Reports group items by DDC hundred, fiction apart, odd ones as other."""
    assert parse(text).ddc_class == group == ddc_group(text)


# -- fiction and children's shelves, and a few hundred real shapes ----------------------

HAND_SORTED = Path(__file__).parent / "data" / "callnumbers.txt"


def hand_sorted_shelves(path: Path = HAND_SORTED) -> dict[str, list[str]]:
    """Shelves of the hand-sorted data file: ``[name]`` starts one, ``#`` is a comment."""
    shelves: dict[str, list[str]] = {}
    rows: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("["):
            rows = shelves.setdefault(line.strip().strip("[]"), [])
        else:
            rows.append(line.strip())
    return shelves


# text, prefix, marks, title number, title words, title letter, volume
NUMBER_AFTER_MARK = [
    ("F DEE 1", "F", ("DEE",), 1, (), "", ""),
    ("FIK DEE 5 cm", "F", ("DEE",), 5, ("cm",), "", ""),
    (
        "F FUA 99 Cahaya di Langit Eropa",
        "F",
        ("FUA",),
        99,
        ("cahaya", "di", "langit", "eropa"),
        "",
        "",
    ),
    ("F AYU 9 Summers 10 Autumns", "F", ("AYU",), 9, ("summers", "10", "autumns"), "", ""),
    ("F ORW 1984", "F", ("ORW",), 1984, (), "", ""),
    ("F MUR 1Q84", "F", ("MUR",), 1, ("q84",), "", ""),
    ("A BLY 5 Sekawan Jil. 2", "A", ("BLY",), 5, ("sekawan",), "", "2"),
    ("ANAK KAK 1", "A", ("KAK",), 1, (), "", ""),
    ("K AND 2", "K", ("AND",), 2, (), "", ""),
    ("F DEE s 2", "F", ("DEE",), None, (), "s", "2"),
    ("F PRA b IV", "F", ("PRA",), None, (), "b", "IV"),
    ("R ENS 2", "R", ("ENS",), None, (), "", "2"),
]


@pytest.mark.parametrize("case", NUMBER_AFTER_MARK, ids=[c[0] for c in NUMBER_AFTER_MARK])
def test_number_after_the_author_mark_is_no_class(case):
    """A number after a prefix and an author mark is a title (fiction, children) or a volume."""
    text, *expected = case
    cn = parse(text)
    got = (cn.prefix, cn.marks, cn.title_number, cn.title_words, cn.title_letter, cn.volume)
    assert got == tuple(expected)
    assert cn.class_number == ""
    assert cn.problems == ()


@pytest.mark.parametrize(
    ("text", "prefix", "class_number"),
    [
        ("R 030 ENS", "R", "030"),
        ("A 398.2 SUL", "A", "398.2"),
        ("K 813 ROW h", "K", "813"),
        ("F 813 ROW h", "F", "813"),
        ("KL 899.221 3", "KL", "899.2213"),
        ("X 100 ABC", "X", "100"),
        ("SKRIPSI 658 ANI", "SKR", "658"),
        ("REF IND 030 ABC", "REF IND", "030"),
    ],
)
def test_number_right_after_a_prefix_is_a_class(text, prefix, class_number):
    """A prefix followed directly by a number (known or not) gives a class number."""
    cn = parse(text)
    assert (cn.prefix, cn.class_number) == (prefix, class_number)


def test_numeric_titles_stand_between_no_title_and_lettered_titles():
    """``F DEE 1`` ("1984") stands with DEE, after ``F DEE``, before ``F DEE a``; not after ZZZ."""
    order = ["F DEE", "F DEE 1", "F DEE 5 cm", "F DEE 12", "F DEE a", "F DEE s 2", "F ZZZ a"]
    assert [shelf_key(t) for t in order] == sorted(shelf_key(t) for t in order)
    assert len({shelf_key(t) for t in order}) == len(order)
    assert shelf_key("F DEE 1") == shelf_key("F DEE 1 c.2") == shelf_key("FIKSI DEE 1")


def test_roman_volumes_stand_by_value():
    """Roman volumes after a mark or title letter stand as numbers: IV before V before IX."""
    for stem in ("F PRA b", "R 030 ENS"):
        order = [f"{stem} II", f"{stem} III", f"{stem} IV", f"{stem} IX", f"{stem} X"]
        assert [shelf_key(t) for t in order] == sorted(shelf_key(t) for t in order)
    assert shelf_key("R 030 ENS II") == shelf_key("R 030 ENS Jil. 2")


def test_hand_sorted_shelves_keep_their_order():
    """Several hundred call numbers, sorted by hand shelf by shelf, keep that order."""
    shelves = hand_sorted_shelves()
    assert sum(len(rows) for rows in shelves.values()) >= 500
    for name, rows in shelves.items():
        for a, b in itertools.pairwise(rows):
            assert shelf_key(a) <= shelf_key(b), f"{name}: {a!r} stands before {b!r}"
        shuffled = rows[:]
        random.Random(name).shuffle(shuffled)
        resorted = sorted(shuffled, key=sort_key)
        assert [shelf_key(t) for t in resorted] == [shelf_key(t) for t in rows]


def test_hand_sorted_shapes_are_read_without_problems():
    """Every shape in the data file reads cleanly; only one lacking a mark is flagged."""
    flagged = {t: parse(t).problems for rows in hand_sorted_shelves().values() for t in rows}
    flagged = {t: p for t, p in flagged.items() if p}
    assert flagged == {"KL 899.221 3": ("no author mark",)}


# -- properties -----------------------------------------------------------------------

PREFIX = st.sampled_from(["", "R ", "REF ", "F ", "Fic ", "S ", "TA "])
MARK = st.from_regex(r"[A-Z][A-Za-z]{1,3}|[A-Z][0-9]{1,3}[a-z]?", fullmatch=True)
TITLE = st.sampled_from(["", " a", " m", " t", " c", " v", " i"])
TAIL = st.sampled_from(["", " 2010", " v.1", " v.2", " Jil. 3", " Vol II", " c.2", " eks.3"])


@st.composite
def class_numbers(draw: st.DrawFn) -> str:
    whole = draw(st.from_regex(r"[0-9]{3}|2X[0-9]", fullmatch=True))
    dec = draw(st.from_regex(r"[0-9]{0,6}", fullmatch=True))
    return whole + ("." + dec if dec else "")


@st.composite
def call_numbers(draw: st.DrawFn) -> str:
    cls = draw(st.one_of(st.just(""), class_numbers()))
    pre = draw(PREFIX)
    if not cls and not pre:
        pre = "F "
    body = f"{pre}{cls} {draw(MARK)}{draw(TITLE)}{draw(TAIL)}"
    return " ".join(body.split())


ANY_TEXT = st.one_of(st.text(), call_numbers(), st.text(alphabet="0123456789.XRFSc v/- "))


@given(ANY_TEXT)
def test_parse_never_raises(text):
    """Any text at all, however garbled, is read without an exception."""
    cn = parse(text)
    assert isinstance(cn, CallNumber)
    assert cn.orderable or cn.problems


@given(ANY_TEXT, ANY_TEXT)
def test_order_is_total_and_antisymmetric(a, b):
    """Two call numbers always compare, and only the same text compares equal."""
    ka, kb = sort_key(a), sort_key(b)
    assert (ka < kb) + (ka == kb) + (ka > kb) == 1
    assert (ka == kb) == (a == b)
    if shelf_key(a) < shelf_key(b):
        assert ka < kb  # the coarse shelf order never contradicts the full one


@given(ANY_TEXT, ANY_TEXT, ANY_TEXT)
def test_order_is_transitive(a, b, c):
    """Sorting is consistent: a <= b and b <= c imply a <= c."""
    x, y, z = sorted([a, b, c], key=sort_key)
    assert sort_key(x) <= sort_key(y) <= sort_key(z)
    assert sort_key(x) <= sort_key(z)
    for p, q, r in [(a, b, c), (b, c, a), (c, a, b)]:
        if sort_key(p) <= sort_key(q) and sort_key(q) <= sort_key(r):
            assert sort_key(p) <= sort_key(r)


@given(st.lists(ANY_TEXT, max_size=30))
def test_sorting_any_catalogue_never_fails(texts):
    """A whole catalogue of arbitrary call numbers sorts without a type error."""
    out = sorted(texts, key=sort_key)
    assert sorted(out, key=sort_key) == out


@given(class_numbers(), class_numbers(), MARK)
def test_class_numbers_sort_as_decimals(c1, c2, mark):
    """With the same mark, books follow their class numbers as decimal numbers (2X after 299)."""

    def value(c: str) -> tuple[int, int, int, Decimal]:
        whole, _, dec = c.partition(".")
        tens = 10 if whole[1] == "X" else int(whole[1])
        return int(whole[0]), tens, int(whole[2]), Decimal("0." + (dec or "0"))

    if value(c1) < value(c2):
        assert shelf_key(f"{c1} {mark}") < shelf_key(f"{c2} {mark}")


@given(call_numbers())
def test_generated_shapes_read_without_problems(text):
    """Well-formed call numbers of every common shape are read with no problem reported."""
    cn = parse(text)
    assert cn.problems == ()
    assert cn.orderable and cn.marks


@given(st.one_of(call_numbers(), st.sampled_from(["297.3 VOL i", "005 Kad p", "R 030 NO c.2"])))
def test_common_shape_shortcut_agrees_with_the_full_reader(text):
    """The fast path for everyday call numbers gives the very same result as the full reader."""
    slow = callnumber._parse_any(text)
    fast = callnumber._parse_common(text)
    if fast is not None:
        assert (fast, fast.key, fast.shelf_key) == (slow, slow.key, slow.shelf_key)
