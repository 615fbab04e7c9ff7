"""What the CLI and the command sheet tell a librarian exists in both languages, and is used."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from kiosk import cli
from kiosk.cli.texts import LANGUAGES, TEXTS, say
from kiosk.models import Command
from kiosk.printing.sheet import PAGE
from kiosk.printing.sheet import TEXTS as SHEET_TEXTS


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_cli_text_exists_in_both_languages(key: str) -> None:
    """A CLI message written in one language only (or copied untranslated) fails the build."""
    texts = TEXTS[key]
    assert len(texts) == len(LANGUAGES) and all(t.strip() for t in texts)
    en, id_ = texts
    assert en != id_, f"{key!r} is not translated"
    assert fields(en) == fields(id_), f"{key!r} fills different fields per language"


@pytest.mark.parametrize("command", list(Command))
def test_every_command_has_a_caption_and_hint_in_both_languages(command: Command) -> None:
    """Each barcode on the printed sheet is captioned and explained in English and Indonesian."""
    (en_caption, en_hint), (id_caption, id_hint) = SHEET_TEXTS[command]
    assert all(t.strip() for t in (en_caption, en_hint, id_caption, id_hint))
    assert en_caption != id_caption and en_hint != id_hint
    assert fields(en_caption) == fields(id_caption)


def test_sheet_page_words_exist_in_both_languages() -> None:
    """The sheet's title, intro and footer have the same keys and fields in both languages."""
    assert PAGE.keys() == {"en", "id"} and PAGE["en"].keys() == PAGE["id"].keys()
    for key in PAGE["en"]:
        assert PAGE["en"][key] != PAGE["id"][key], key
        assert fields(PAGE["en"][key]) == fields(PAGE["id"][key]), key


def test_numbers_in_cli_texts_follow_the_language() -> None:
    """Counts in CLI messages are grouped as the reader writes them."""
    assert say("id", "status.scans", n=12345) == "pindaian: 12.345"
    assert say("en", "status.scans", n=12345) == "scans: 12,345"


def test_status_speaks_the_configured_language(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With [report] language = "id", `kiosk status` prints Indonesian words and numbers."""
    config = tmp_path / "kiosk.toml"
    config.write_text('[report]\nlanguage = "id"\n', encoding="utf-8")
    argv = ["--config", str(config), "--state-dir", str(state_dir), "status"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "katalog: 15 eksemplar (sumber: test)" in out
    assert re.search(r"^belum masuk SLiMS: 0$", out, re.M)


def test_sync_to_a_file_speaks_the_configured_language(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kiosk sync --mode file` reports in Indonesian when the cart is set to Indonesian."""
    config = tmp_path / "kiosk.toml"
    config.write_text('[report]\nlanguage = "id"\n', encoding="utf-8")
    out_file = tmp_path / "upload.txt"
    argv = ["--config", str(config), "--state-dir", str(state_dir), "sync", "--mode", "file"]
    cli.main([*argv, "--out", str(out_file)])
    out = capsys.readouterr().out
    assert out.startswith("kirim (berkas)") and "pindaian" in out and "scans" not in out


def test_commands_sheet_message_in_indonesian(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kiosk commands --language id` says in Indonesian where the sheet went."""
    out = tmp_path / "sheet"
    argv = ["--state-dir", str(state_dir), "commands", "--out", str(out), "--language", "id"]
    assert cli.main(argv) == 0
    assert "barcode perintah disimpan di" in capsys.readouterr().out
    assert "Cetak dengan skala 100%" in (out / "commands.html").read_text(encoding="utf-8")
