"""Whether the offline catalogue can be trusted for verdicts: not empty, not stale.

An empty catalogue turns every scan into UNKNOWN, and an old one gives wrong
verdicts (items added, moved or lent since the pull). Both the daemon (a
problem on the cart's screen) and ``kiosk doctor`` (a failure) judge it here,
so the two always agree.
"""

from __future__ import annotations

from typing import NamedTuple

DAY_S = 86_400.0


class CatalogHealth(NamedTuple):
    """What is wrong with a catalogue of ``items`` items loaded at ``loaded`` (epoch s).

    ``max_age_days`` 0 means a catalogue never gets too old.
    """

    items: int
    loaded: float | None
    now: float
    max_age_days: float

    @property
    def empty(self) -> bool:
        return self.items <= 0

    @property
    def age_days(self) -> float | None:
        return None if self.loaded is None else max(0.0, (self.now - self.loaded) / DAY_S)

    @property
    def stale(self) -> bool:
        age = self.age_days
        return (
            not self.empty
            and self.max_age_days > 0
            and age is not None
            and (age > self.max_age_days)
        )

    @property
    def ok(self) -> bool:
        return not self.empty and not self.stale

    def message(self) -> str:
        """One English line for the log and the doctor ("" when the catalogue is fine)."""
        if self.empty:
            return "the catalogue is empty: every scan would be UNKNOWN"
        if self.stale:
            return (
                f"the catalogue is {self.age_days:.0f} days old (limit {self.max_age_days:g}): "
                "verdicts may be wrong for books added, moved or lent since"
            )
        return ""

    def details(self) -> tuple[str, ...]:
        """What the screen fills into its text: nothing when empty, the age in days when stale."""
        return (f"{self.age_days:.0f}",) if self.stale else ()
