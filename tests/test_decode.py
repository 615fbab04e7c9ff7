"""The pure decoder: key events in, barcodes out."""

from __future__ import annotations

import string

import pytest
from evdev import ecodes
from evdev.events import InputEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.config import Scanner
from kiosk.scanner import capture, keymaps
from kiosk.scanner.decode import Decoder, decode_events

E = ecodes


def key(code: int, value: int, ts: float = 0.0) -> InputEvent:
    return InputEvent(int(ts), int((ts % 1) * 1e6), E.EV_KEY, code, value)


def feed_all(decoder: Decoder, events: list[InputEvent]) -> list[str]:
    out = []
    for ev in events:
        text = decoder.feed(ev.type, ev.code, ev.value, ev.timestamp())
        if text is not None:
            out.append(text)
    return out


def press(*codes: int, ts: float = 0.0) -> list[InputEvent]:
    evs = []
    for code in codes:
        evs += [key(code, 1, ts), key(code, 0, ts)]
    return evs


def typed(text: str, layout: str = "us") -> list[str]:
    return decode_events(capture.barcode_events(text, layout), Decoder(layout, aim="keep"))


def test_decode_shift_letters_and_number_row() -> None:
    """Upper case via Shift and number-row digits come out exactly as printed on the label."""
    evs = [
        key(E.KEY_LEFTSHIFT, 1),
        *press(E.KEY_A),
        key(E.KEY_LEFTSHIFT, 0),
        *press(E.KEY_B, E.KEY_MINUS, E.KEY_1, E.KEY_2, E.KEY_0),
        key(E.KEY_RIGHTSHIFT, 1),
        *press(E.KEY_9),
        key(E.KEY_RIGHTSHIFT, 0),
        *press(E.KEY_ENTER),
    ]
    assert feed_all(Decoder(), evs) == ["Ab-120("]


def test_decode_caps_lock_inverts_letters_only() -> None:
    """With Caps Lock on, letters flip case (Shift flips them back) while digits stay digits."""
    evs = [
        *press(E.KEY_CAPSLOCK, E.KEY_A, E.KEY_1),
        key(E.KEY_LEFTSHIFT, 1),
        *press(E.KEY_B, E.KEY_2),
        key(E.KEY_LEFTSHIFT, 0),
        *press(E.KEY_ENTER, E.KEY_CAPSLOCK, E.KEY_A, E.KEY_ENTER),
    ]
    assert feed_all(Decoder(), evs) == ["A1b@", "a"]


def test_decode_keypad_digits_and_keypad_enter() -> None:
    """Scanners in keypad mode send KP digits and KP Enter; the barcode is the same digits."""
    evs = press(*keymaps.KEYPAD_DIGITS, E.KEY_KPDOT, E.KEY_KPENTER)
    assert feed_all(Decoder(), evs) == ["0123456789."]


def test_decode_tab_is_a_terminator_only_when_configured() -> None:
    """By default Tab types nothing; configured as terminator it ends the barcode."""
    evs = press(E.KEY_A, E.KEY_TAB, E.KEY_B, E.KEY_ENTER)
    assert feed_all(Decoder(), evs) == ["ab"]
    assert feed_all(Decoder(terminators=("tab",)), evs) == ["a"]
    assert feed_all(Decoder(terminators=["tab", "enter"]), evs) == ["a", "b"]


def test_decode_key_repeat_and_non_key_events_are_ignored() -> None:
    """Auto-repeat, MSC_SCAN, SYN and LED events never add characters."""
    evs = [
        InputEvent(0, 0, E.EV_MSC, E.MSC_SCAN, 0x70004),
        key(E.KEY_A, 1),
        key(E.KEY_A, 2),
        key(E.KEY_A, 2),
        InputEvent(0, 0, E.EV_SYN, E.SYN_REPORT, 0),
        key(E.KEY_A, 0),
        InputEvent(0, 0, E.EV_LED, E.LED_CAPSL, 1),
        InputEvent(0, 0, E.EV_MSC, E.MSC_SCAN, 0x70028),
        *press(E.KEY_ENTER),
    ]
    assert feed_all(Decoder(), evs) == ["a"]


def test_decode_stray_enter_gives_no_empty_barcode() -> None:
    """Enter pressed alone produces nothing rather than an empty scan."""
    assert feed_all(Decoder(), press(E.KEY_ENTER, E.KEY_KPENTER)) == []


def test_decode_timeout_flushes_barcode_without_terminator() -> None:
    """A scanner that sends no Enter still delivers its barcode once it goes quiet."""
    problems: list[str] = []
    d = Decoder(timeout_s=0.3, on_problem=problems.append)
    assert feed_all(d, press(E.KEY_1, E.KEY_2, ts=10.0)) == []
    assert d.deadline() == pytest.approx(10.3)
    assert d.expire(10.2) is None
    assert d.expire(10.31) == "12"
    assert d.deadline() is None
    assert problems == []


def test_decode_timeout_discard_drops_and_says_so() -> None:
    """With on_timeout = discard a half barcode is dropped and the technician is told."""
    problems: list[str] = []
    d = Decoder(timeout_s=0.1, on_timeout="discard", on_problem=problems.append)
    feed_all(d, press(E.KEY_1, E.KEY_2, ts=5.0))
    assert d.expire(6.0) is None
    assert len(problems) == 1
    assert "'12'" in problems[0]
    assert "100 ms" in problems[0]


def test_decode_stale_partial_is_ended_by_next_key_press() -> None:
    """In a replay, a long pause ends the previous partial barcode before new keys start."""
    d = Decoder(timeout_s=0.3)
    evs = [*press(E.KEY_1, E.KEY_2, ts=1.0), *press(E.KEY_3, ts=2.0), *press(E.KEY_ENTER, ts=2.01)]
    assert feed_all(d, evs) == ["12", "3"]


def test_decode_prefix_suffix_and_aim_strip() -> None:
    """Scanner-added prefix, suffix and the ]C1 AIM identifier are removed from the barcode."""
    d = Decoder(prefix="<", suffix=">", aim="strip", max_length=10)
    assert typed_with(d, "<]C1B0001>") == ["B0001"]
    assert d.last_aim == "]C1"
    assert typed_with(d, "B0002") == ["B0002"]
    assert d.last_aim == ""


def typed_with(decoder: Decoder, text: str) -> list[str]:
    return decode_events(capture.barcode_events(text), decoder)


def test_decode_aim_keep_and_require() -> None:
    """aim = keep leaves the identifier; aim = require drops barcodes that lack one."""
    assert typed_with(Decoder(aim="keep"), "]E0123") == ["]E0123"]
    problems: list[str] = []
    d = Decoder(aim="require", on_problem=problems.append)
    assert typed_with(d, "]E0123") == ["123"]
    assert typed_with(d, "123") == []
    assert "no AIM" in problems[0]


def test_decode_max_length_drops_overlong_barcode_whole() -> None:
    """A barcode longer than max_length is dropped entirely, never truncated into a wrong code."""
    problems: list[str] = []
    d = Decoder(max_length=5, on_problem=problems.append)
    assert typed_with(d, "12345") == ["12345"]
    assert typed_with(d, "1234567890" * 5) == []
    assert "longer than 5" in problems[0]
    assert typed_with(d, "ABC") == ["abc".upper()]


def test_decode_german_and_french_layouts() -> None:
    """Scanners set to German or French layout decode to the right text."""
    assert typed("Zy@{}-_", "de") == ["Zy@{}-_"]
    assert typed("A1&é@q", "fr") == ["A1&é@q"]


def test_decode_dead_keys_compose_or_stand_alone() -> None:
    """A German dead ^ followed by space gives ^, followed by a gives â."""
    de = keymaps.LAYOUTS["de"]
    evs = [*press(E.KEY_GRAVE, E.KEY_SPACE, E.KEY_GRAVE, E.KEY_A, E.KEY_ENTER)]
    assert feed_all(Decoder(de), evs) == ["^â"]


def test_decode_alt_keypad_character_codes() -> None:
    """Scanners in Alt+keypad mode (layout independent) type characters by their code."""
    evs = [key(E.KEY_LEFTALT, 1), *press(E.KEY_KP6, E.KEY_KP5), key(E.KEY_LEFTALT, 0)]
    evs += [key(E.KEY_LEFTALT, 1), *press(E.KEY_KP0, E.KEY_KP4, E.KEY_KP9), key(E.KEY_LEFTALT, 0)]
    evs += press(E.KEY_ENTER)
    assert feed_all(Decoder(), evs) == ["A1"]


def test_decode_ctrl_shortcuts_type_nothing() -> None:
    """Ctrl+key combinations add no characters to the barcode."""
    evs = [key(E.KEY_LEFTCTRL, 1), *press(E.KEY_C), key(E.KEY_LEFTCTRL, 0), *press(E.KEY_D)]
    assert feed_all(Decoder(), [*evs, *press(E.KEY_ENTER)]) == ["d"]


def test_decode_reset_returns_partial_barcode() -> None:
    """When a scanner vanishes the decoder hands back the half-read code so it can be reported."""
    d = Decoder()
    feed_all(d, [key(E.KEY_LEFTSHIFT, 1), *press(E.KEY_X, E.KEY_1)])
    assert d.reset() == "X!"
    assert d.reset() is None
    assert feed_all(d, press(E.KEY_X, E.KEY_ENTER)) == ["x"]  # Shift released by the reset


def test_decode_from_config_uses_scanner_section() -> None:
    """The [scanner] section's layout, terminators and stripping reach the decoder."""
    cfg = Scanner(layout="de", terminators=("tab",), prefix="#", timeout_ms=50, max_length=8)
    d = Decoder.from_config(cfg)
    assert d.timeout_s == pytest.approx(0.05)
    evs = capture.barcode_events("#zZ9", "de", terminator=E.KEY_TAB)
    assert decode_events(evs, d) == ["zZ9"]


def test_decode_rejects_bad_settings() -> None:
    """Impossible decoder settings are refused, naming the setting and the value."""
    with pytest.raises(ValueError, match="on_timeout must be flush or discard; got 'keep'"):
        Decoder(on_timeout="keep")
    with pytest.raises(ValueError, match="aim must be strip, keep or require; got 'maybe'"):
        Decoder(aim="maybe")
    with pytest.raises(ValueError, match="max_length must be at least 1; got 0"):
        Decoder(max_length=0)
    with pytest.raises(ValueError, match="unknown keyboard layout 'dvorak'"):
        Decoder("dvorak")
    with pytest.raises(ValueError, match="unknown terminator key 'return'"):
        Decoder(terminators=["return"])


PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "


@settings(max_examples=150, deadline=None)
@given(
    layout=st.sampled_from(sorted(keymaps.LAYOUTS)),
    text=st.text(alphabet=PRINTABLE, min_size=1, max_size=80),
)
def test_decode_property_typed_ascii_round_trips(layout: str, text: str) -> None:
    """Any printable ASCII string typed by a scanner in any layout decodes back exactly."""
    d = Decoder(layout, aim="keep", max_length=80)
    assert decode_events(capture.barcode_events(text, layout), d) == [text]


EVENT = st.tuples(
    st.sampled_from([0, 1, 1, 1, 1, 2, 4, 17, 31]),
    st.one_of(
        st.sampled_from(
            [
                E.KEY_ENTER,
                E.KEY_KPENTER,
                E.KEY_TAB,
                E.KEY_LEFTSHIFT,
                E.KEY_RIGHTALT,
                E.KEY_LEFTALT,
                E.KEY_CAPSLOCK,
                E.KEY_LEFTCTRL,
                E.KEY_GRAVE,
                E.KEY_EQUAL,
                E.KEY_LEFTBRACE,
                *keymaps.KEYPAD_DIGITS,
            ]
        ),
        st.integers(0, 0xFFFF),
    ),
    st.integers(-(2**31), 2**31 - 1) | st.sampled_from([0, 1, 1, 1, 2]),
    st.floats(allow_nan=True, allow_infinity=True) | st.floats(0, 10),
)


@settings(max_examples=300, deadline=None)
@given(
    layout=st.sampled_from(sorted(keymaps.LAYOUTS)),
    terms=st.sampled_from([["enter", "kpenter"], ["tab"], ["enter", "tab", "esc"], []]),
    events=st.lists(EVENT, max_size=200),
)
def test_decode_property_arbitrary_events_never_crash(
    layout: str, terms: list[str], events: list[tuple[int, int, int, float]]
) -> None:
    """No event stream crashes the decoder or yields a barcode holding a terminator or control."""
    d = Decoder(layout, terminators=terms, max_length=16, on_timeout="flush")
    for text in decode_events(events, d):
        assert text
        assert len(text) <= 16
        assert text.isprintable()
        assert not set(text) & {"\n", "\r", "\t", "\x1b"}


def test_decode_syn_dropped_drops_the_barcode_with_holes() -> None:
    """Seen in the VM lab: a reader that fell behind lost keys mid-barcode (the
    kernel's SYN_DROPPED); the rest must not be stored as if it were a barcode."""
    problems: list[str] = []
    d = Decoder(on_problem=problems.append)
    first = capture.barcode_events("AB-017.", "us")
    first = [e for e in first if e[1] != ecodes.KEY_ENTER or e[0] != ecodes.EV_KEY]
    rest = capture.barcode_events("8.XY", "us", t0=0.1)
    dropped = (ecodes.EV_SYN, ecodes.SYN_DROPPED, 0, 0.05)
    after = capture.barcode_events("AB-019", "us", t0=0.2)
    assert decode_events([*first, dropped, *rest, *after], d) == ["AB-019"]
    assert len(problems) == 1 and "lost" in problems[0], problems


def test_decode_keys_lost_between_barcodes_names_no_empty_barcode() -> None:
    """When the keys lost were a whole barcode's, the message says so instead of quoting ''."""
    problems: list[str] = []
    d = Decoder(on_problem=problems.append)
    dropped = (ecodes.EV_SYN, ecodes.SYN_DROPPED, 0, 0.0)
    enter = capture.barcode_events("", "us", t0=0.1)
    after = capture.barcode_events("AB-020", "us", t0=0.2)
    assert decode_events([dropped, *enter, *after], d) == ["AB-020"]
    assert len(problems) == 1 and "none of its keys arrived" in problems[0], problems
    assert "''" not in problems[0]
