"""Every state the cart can be in has its words, in every language the cart speaks."""

from __future__ import annotations

import pytest

from kiosk.feedback.i18n import LANGUAGES, TEXTS
from kiosk.models import Command, ProblemKind, Verdict

_NO_HINT = (Verdict.OK, Verdict.COMMAND, Verdict.MISSHELVED, Verdict.WRONG_LOCATION)
SCREEN_KEYS = (
    [str(v) for v in Verdict]
    # Misshelved and wrong-location screens say where the book belongs instead of a hint.
    + [f"hint.{v}" for v in Verdict if v not in _NO_HINT]
    + [f"cmd.{c}" for c in Command]
    + [f"hint.cmd.{c}" for c in Command]
    + [f"problem.{k}" for k in ProblemKind]
    + [f"banner.{k}" for k in ProblemKind]
    # What happened and what to do, under each problem's title.
    + [f"body.{k}" for k in ProblemKind]
    # ON LOAN, UNKNOWN and INVALID also say what to do with the book.
    + [f"todo.{v}" for v in (Verdict.ON_LOAN, Verdict.UNKNOWN, Verdict.INVALID)]
)


@pytest.mark.parametrize("key", SCREEN_KEYS)
def test_every_verdict_command_and_problem_has_screen_text(key: str) -> None:
    """The OLED never shows a raw key: each verdict, command and problem has its words."""
    assert key in TEXTS, f"screen text {key!r} is missing from kiosk/feedback/i18n.py"


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_screen_text_exists_in_every_language(key: str) -> None:
    """A screen text written in one language only fails the build."""
    texts = TEXTS[key]
    assert len(texts) == len(LANGUAGES)
    assert all(t.strip() for t in texts), f"{key!r} is empty in some language"
