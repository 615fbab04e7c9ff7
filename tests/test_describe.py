"""Sound and light patterns in words: what the printed card and the demo tell a librarian."""

from __future__ import annotations

import re

import pytest

from kiosk.feedback import Status
from kiosk.feedback.describe import WORDS, Narrator, light_words, screen_words, sound_words
from kiosk.feedback.patterns import DEFAULTS, PROBLEM, parse_light, parse_sound, with_overrides
from kiosk.feedback.screens import ProblemScreen, VerdictScreen, problem_words, verdict_lines
from kiosk.models import Command, Item, Neighbours, ProblemKind, Scan, ScanDetail, Verdict

ITEM = Item("B0012", "020 SUL p", "Pengantar ilmu perpustakaan", "Referensi")


def _scan(verdict: Verdict, detail: ScanDetail | None = None, code: str = "B0012") -> Scan:
    return Scan(
        seq=1, code=code, verdict=verdict, scanner="sim", ts=0.0, detail=detail or ScanDetail()
    )


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("pitched", [True, False])
def test_every_default_sounds_different_in_words(lang: str, pitched: bool) -> None:
    """No two verdicts share a sound description, even for an active buzzer with one pitch."""
    words = {name: sound_words(p.sound, lang, pitched=pitched) for name, p in DEFAULTS.items()}
    assert len(set(words.values())) == len(words), words


@pytest.mark.parametrize(
    ("name", "lang", "sound", "light"),
    [
        ("ok", "en", "one very short beep (high pitch, soft)", "green flashes once"),
        (
            "misshelved",
            "en",
            "two double beeps (low-high pitch)",
            "yellow-red flashes twice, then yellow and red stay lit",
        ),
        ("duplicate", "en", "two short beeps (high pitch)", "green and yellow flash twice"),
        ("unknown", "en", "three short beeps (medium pitch)", "red lights and stays lit"),
        (
            "on_loan",
            "en",
            "one long beep, then one short beep (high pitch)",
            "yellow lights and stays lit",
        ),
        ("command", "en", "two very short beeps (rising high pitch)", "green flashes twice"),
        ("ok", "id", "satu bip sangat pendek (nada tinggi, pelan)", "hijau berkedip sekali"),
        (
            "misshelved",
            "id",
            "dua bip ganda (nada rendah-tinggi)",
            "kuning-merah berkedip dua kali, lalu kuning dan merah tetap menyala",
        ),
        ("unknown", "id", "tiga bip pendek (nada sedang)", "merah menyala terus"),
    ],
)
def test_default_patterns_in_words(name: str, lang: str, sound: str, light: str) -> None:
    """The shipped patterns read as a person would describe them, in both languages."""
    p = DEFAULTS[name]
    assert sound_words(p.sound, lang) == sound
    assert light_words(p.light, p.latch, lang) == light


def test_words_follow_a_config_override() -> None:
    """A changed pattern is described as changed: the words come from the pattern, not a table."""
    patterns = with_overrides(["ok = 300@400 300 300@400"], ["ok = 100:r 100 100:r 100 100:r"])
    ok = patterns["ok"]
    assert sound_words(ok.sound) == "two long beeps (very low pitch)"
    assert sound_words(ok.sound, pitched=False) == "two long beeps"
    assert light_words(ok.light, ok.latch) == "red flashes three times"


def test_silence_and_darkness_are_said() -> None:
    """A pattern without sound or light says so instead of printing nothing."""
    assert sound_words(parse_sound("")) == "no sound"
    lights, latch = parse_light("")
    assert light_words(lights, latch, "id") == "tanpa lampu"
    lights, latch = parse_light("latch:g")
    assert light_words(lights, latch) == "green lights and stays lit"


def test_every_word_has_both_languages_with_the_same_fields() -> None:
    """Each phrase exists in English and Indonesian and fills the same blanks."""
    for key, (en, id_) in WORDS.items():
        assert en.strip() and id_.strip(), key
        assert sorted(re.findall(r"{(\w+)}", en)) == sorted(re.findall(r"{(\w+)}", id_)), key


def test_narration_of_a_misshelved_book() -> None:
    """One line: code, call number, the screen's words, then sound and light in words."""
    belongs = Neighbours(
        after="B0011", after_call="020 PRA m", before="B0013", before_call="020 SUM a"
    )
    scan = _scan(Verdict.MISSHELVED, ScanDetail(belongs=belongs))
    line = Narrator("en", pitched=True).scan(scan, ITEM, DEFAULTS["misshelved"], muted=False)
    assert line == (
        "B0012      020 SUL p         -> MISSHELVED: after 020 PRA m, before 020 SUM a"
        " | sound: two double beeps (low-high pitch)"
        " | light: yellow-red flashes twice, then yellow and red stay lit"
    )
    assert "@" not in line


def test_narration_in_indonesian_when_muted() -> None:
    """A muted cart's narration says there was no sound; the light still shows."""
    scan = _scan(Verdict.WRONG_LOCATION, ScanDetail(expected_location="Fiksi"))
    line = Narrator("id", pitched=False).scan(scan, ITEM, DEFAULTS["wrong_location"], muted=True)
    assert f"-> {screen_words(scan, ITEM, 'id')} |" in line
    assert "SALAH LOKASI: " in line and "Fiksi" in line  # the title and where it belongs
    assert "bunyi: tanpa bunyi (senyap)" in line
    assert "lampu: kuning berkedip dua kali, lalu kuning tetap menyala" in line


def test_narration_of_commands_and_problems() -> None:
    """Commands and problems are narrated with the very lines their screens show."""
    narrator = Narrator("en", pitched=False)
    location = _scan(
        Verdict.COMMAND,
        ScanDetail(command=Command.LOCATION, arg="Rak Umum"),
        "KIOSK:location:Rak Umum",
    )
    status = Status(location="Rak Umum", run=4)
    title, *lines = verdict_lines(VerdictScreen(location, None, status))
    assert title == "LOCATION" and "Rak Umum" in lines
    line = narrator.scan(location, None, DEFAULTS["command"], muted=False, status=status)
    assert f"-> {title}: {', '.join(lines)} | sound: two very short beeps |" in line
    problem = ProblemScreen(ProblemKind.NO_SCANNER, "no scanner connected")
    title, body = problem_words(problem)
    line = narrator.problem(ProblemKind.NO_SCANNER, problem.message, DEFAULTS[PROBLEM], muted=False)
    assert line == (f"{title}: {body} | sound: three long beeps | light: red lights and stays lit")
    assert title == "! NO SCANNER" and body != problem.message  # the screen's words, not the log's
