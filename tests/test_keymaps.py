"""Keyboard layout tables: codes match the kernel's, every layout types ASCII."""

from __future__ import annotations

import string

import pytest
from evdev import ecodes

from kiosk.scanner import keymaps


def test_keymaps_codes_match_kernel_headers() -> None:
    """The hard-coded key and event codes are the kernel's, so decoding needs no evdev import."""
    names = [n for n in dir(keymaps) if n.startswith(("KEY_", "EV_"))]
    assert len(names) > 40
    for name in names:
        assert getattr(keymaps, name) == getattr(ecodes, name), name


@pytest.mark.parametrize("name", sorted(keymaps.LAYOUTS))
def test_keymaps_every_layout_types_printable_ascii(name: str) -> None:
    """A scanner set to any supported layout can send every printable ASCII character."""
    layout = keymaps.LAYOUTS[name]
    printable = string.ascii_letters + string.digits + string.punctuation + " "
    strokes = layout.keystrokes(printable)
    assert all(value in (0, 1) for _code, value in strokes)
    downs = [code for code, value in strokes if value == 1]
    assert len(downs) >= len(printable)


def test_keymaps_german_swaps_y_and_z_and_french_is_azerty() -> None:
    """German scanners type z with the Y key, French ones a with the Q key, as users expect."""
    assert keymaps.LAYOUTS["de"].keystrokes("z") == [(ecodes.KEY_Y, 1), (ecodes.KEY_Y, 0)]
    assert keymaps.LAYOUTS["fr"].keystrokes("a") == [(ecodes.KEY_Q, 1), (ecodes.KEY_Q, 0)]
    assert keymaps.LAYOUTS["fr"].keystrokes("1")[0] == (ecodes.KEY_LEFTSHIFT, 1)


def test_keymaps_unknown_layout_names_the_choices() -> None:
    """A layout name that does not exist is refused with the layouts that do."""
    with pytest.raises(ValueError, match=r"unknown keyboard layout 'dvorak'; .*us, de, fr"):
        keymaps.get("dvorak")


def test_keymaps_unknown_terminator_names_the_known_keys() -> None:
    """A misspelt terminator key name is refused with the known names."""
    assert keymaps.terminator_codes(["Enter", "tab"]) == {ecodes.KEY_ENTER, ecodes.KEY_TAB}
    with pytest.raises(ValueError, match=r"'return'.*kpenter"):
        keymaps.terminator_codes(["return"])


def test_keymaps_layout_rejects_untypable_character() -> None:
    """Asking a layout for a character it has no key for is an error, not silence."""
    with pytest.raises(ValueError, match="cannot type"):
        keymaps.LAYOUTS["us"].keystrokes("é")
