"""Every word the report prints exists in both languages, so a missing translation fails."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk import textfmt
from kiosk.models import Command, SyncOutcome, Verdict
from kiosk.report import TEXT
from kiosk.report.rows import PENDING
from kiosk.report.texts import (
    DDC_NAMES,
    LANGUAGES,
    command_name,
    ddc_names,
    outcome_name,
    verdict_name,
)


def test_report_languages_are_the_text_tables() -> None:
    assert tuple(TEXT) == LANGUAGES == ("en", "id")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_key_exists_in_every_language(lang: str) -> None:
    """Both tables hold the same keys, and no text is empty."""
    keys = {k for table in TEXT.values() for k in table}
    assert sorted(keys - TEXT[lang].keys()) == []
    assert [k for k, v in TEXT[lang].items() if not v.strip()] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_verdict_outcome_and_command_has_a_name(lang: str) -> None:
    """Each enum member has its own entry (not the fallback of its raw value)."""
    t = TEXT[lang]
    for verdict in Verdict:
        assert f"v.{verdict}" in t, verdict
        assert verdict_name(t, verdict) == t[f"v.{verdict}"]
    for outcome in [*SyncOutcome, PENDING]:
        assert f"s.{outcome}" in t, outcome
        assert outcome_name(t, outcome) == t[f"s.{outcome}"]
    for command in Command:
        assert f"c.{command}" in t, command
        assert command_name(t, command) == t[f"c.{command}"]


def test_the_two_languages_differ_where_words_differ() -> None:
    """A copy-pasted English entry in the Indonesian table is caught for the enum names."""
    en, id_ = TEXT["en"], TEXT["id"]
    prefixes = ("v.", "s.", "c.")
    same = [k for k in en if k.startswith(prefixes) and en[k] == id_[k]]
    assert same == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_ddc_class_has_a_name(lang: str) -> None:
    names = ddc_names(lang)
    assert list(names) == [f"{h}00" for h in range(10)] == list(DDC_NAMES)
    assert all(n.strip() for n in names.values())


@pytest.mark.parametrize(
    ("n", "en", "id_"),
    [
        (0, "0", "0"),
        (999, "999", "999"),
        (1234, "1,234", "1.234"),
        (2567890, "2,567,890", "2.567.890"),
    ],
)
def test_numbers_are_grouped_the_readers_way(n: int, en: str, id_: str) -> None:
    """Thousands take a comma in English and a full stop in Indonesian."""
    assert (textfmt.num(n, "en"), textfmt.num(n, "id")) == (en, id_)


def test_percentages_use_the_readers_decimal_mark() -> None:
    """5.1% in English is 5,1% in Indonesian; big shares keep their grouping apart."""
    assert textfmt.pct(0.0511, "en") == "5.1%" and textfmt.pct(0.0511, "id") == "5,1%"
    assert textfmt.pct(12.345, "en") == "1,234.5%" and textfmt.pct(12.345, "id") == "1.234,5%"
    assert textfmt.pct(0.6, "id", 0) == "60%"


def test_dates_are_written_out_in_the_readers_language() -> None:
    """30 November 2026 and 5 Desember 2026: no month number to misread."""
    assert textfmt.date(dt.date(2026, 11, 30), "id") == "30 November 2026"
    assert textfmt.date(dt.date(2026, 12, 5), "id") == "5 Desember 2026"
    assert textfmt.date(dt.date(2026, 8, 17), "en") == "17 August 2026"
    assert textfmt.date(dt.date(2026, 8, 17), "id") == "17 Agustus 2026"
    ts = dt.datetime(2026, 11, 30, 14, 5).timestamp()
    assert textfmt.timestamp(ts, "id") == "30 November 2026, 14.05"
    assert textfmt.timestamp(ts, "en") == "30 November 2026, 14:05"


def test_due_dates_are_read_as_slims_writes_them() -> None:
    """SLiMS's ISO days (with or without a time) are read; anything else is unknown, not a crash."""
    assert textfmt.parse_day("2026-11-17") == dt.date(2026, 11, 17)
    assert textfmt.parse_day(" 2026-11-17 00:00:00") == dt.date(2026, 11, 17)
    assert textfmt.parse_day("") is None and textfmt.parse_day("0000-00-00") is None


def test_wording_a_librarian_uses() -> None:
    """The stiff phrases the issue quotes are gone from the Indonesian report."""
    words = " ".join(TEXT["id"].values())
    for stiff in ("Putusan SLiMS", "Barkode tidak sah", "Belum tercakup", "Salah urutan rak"):
        assert stiff not in words
    for natural in ("stok opname", "eksemplar", "belum dipindai", "Salah rak", "Hasil di SLiMS"):
        assert natural.casefold() in words.casefold(), natural
