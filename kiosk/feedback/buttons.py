"""Buttons on the cart: mute/acknowledge, sync now, hold for safe shutdown.

gpiozero does the edge detection (its ``bounce_time`` where the pin driver
supports it); a software guard with an injected clock drops presses that follow
the last one within ``bounce_ms`` as well, because not every pin factory
debounces (mock pins, for one, ignore ``bounce_time``). Shutdown fires only
after the button has been held ``shutdown_hold_s``, so a knock never powers the
cart off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from kiosk.feedback.gpio import Button

log = logging.getLogger(__name__)

#: Action names reported to the daemon.
ACTIONS = ("mute", "sync", "shutdown")


class ButtonSettings(Protocol):
    """The buttons as wired (the ``[buttons]`` config section fits)."""

    @property
    def mute(self) -> str: ...
    @property
    def sync(self) -> str: ...
    @property
    def shutdown(self) -> str: ...
    @property
    def pull_up(self) -> bool: ...
    @property
    def bounce_ms(self) -> int: ...
    @property
    def shutdown_hold_s(self) -> float: ...


def button_pins(cfg: ButtonSettings) -> dict[str, str]:
    """Action -> pin name, in :data:`ACTIONS` order ("" for a button not fitted)."""
    pins = {"mute": cfg.mute, "sync": cfg.sync, "shutdown": cfg.shutdown}
    return {name: pins[name] for name in ACTIONS}


class ButtonPanel:
    """Turns gpiozero button events into named actions for ``on_action``."""

    def __init__(
        self,
        cfg: ButtonSettings,
        on_action: Callable[[str], None],
        *,
        pin_factory: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_action = on_action
        self._clock = clock
        self._bounce = cfg.bounce_ms / 1000
        self._last: dict[str, float] = {}
        self.buttons: dict[str, Any] = {}
        bounce_time = self._bounce or None
        for name, pin in button_pins(cfg).items():
            if not pin:
                continue
            try:
                button = Button(
                    pin,
                    pull_up=cfg.pull_up,
                    bounce_time=bounce_time,
                    hold_time=cfg.shutdown_hold_s,
                    pin_factory=pin_factory,
                )
            except Exception as e:
                log.warning("%s button on %s is not usable (%s); going on without it", name, pin, e)
                continue
            if name == "shutdown":
                button.when_held = self._handler(name)
            else:
                button.when_pressed = self._handler(name)
            self.buttons[name] = button

    def _handler(self, name: str) -> Callable[[], None]:
        def handle() -> None:
            self.pressed(name)

        return handle

    def pressed(self, name: str) -> None:
        """One accepted edge of button ``name`` (called from gpiozero's thread)."""
        now = self._clock()
        last = self._last.get(name)
        if last is not None and now - last < self._bounce:
            return
        self._last[name] = now
        try:
            self._on_action(name)
        except Exception:
            log.exception("handling the %s button failed", name)

    def close(self) -> None:
        for button in self.buttons.values():
            try:
                button.close()
            except Exception as e:
                log.debug("closing a button failed: %s", e)
        self.buttons.clear()
