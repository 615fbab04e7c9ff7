"""Every word the report prints exists in both languages, so a missing translation fails."""

from __future__ import annotations

import pytest

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
