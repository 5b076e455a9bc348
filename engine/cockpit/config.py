"""The cockpit's settings (``[cockpit]``): how late is late, and what the feed publishes.

``gridtui.wiring`` resolves the ``auto`` choices from the feed: the simulator
prices the intraday auctions and publishes day-ahead results at their
publication instant; a replay of history hands over each day-ahead price only
at its delivery, so its publications cannot be watched (they would all look late).
"""

from __future__ import annotations

from typing import Annotated, Final

import msgspec

CHOICES: Final = ("auto", "on", "off")


class CockpitConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the cockpit judges publications and which auctions it lists.

    Attributes:
        late_grace_minutes: a day-ahead result not in this long after its
            publication time (12:45 CET) is ``late`` (SDAC partial decoupling
            looks like this), and alerts once.
        intraday_auctions: list the intraday auctions (IDA1-3) beside the
            day-ahead gate: ``on``, ``off``, or ``auto`` (where the feed prices
            them: the simulator).
        publications: watch day-ahead publications: ``on``, ``off``, or
            ``auto`` (every feed but a replay of history).
    """

    late_grace_minutes: Annotated[float, msgspec.Meta(ge=0, le=24 * 60)] = 15.0
    intraday_auctions: str = "auto"
    publications: str = "auto"

    def __post_init__(self) -> None:
        for name in ("intraday_auctions", "publications"):
            value = getattr(self, name)
            if value not in CHOICES:
                raise ValueError(f"cockpit.{name} must be auto, on or off, got {value!r}")

    @staticmethod
    def resolve(choice: str, auto: bool) -> bool:
        """``on``/``off`` as said; ``auto`` as the feed decides (``auto``)."""
        return auto if choice == "auto" else choice == "on"


__all__ = ["CHOICES", "CockpitConfig"]
