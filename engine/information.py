"""What a battery result knew when it decided: the label every evaluation row carries.

A battery's net revenue means nothing without its information set. Three are
told apart (DESIGN.md, "The market timeline"):

- :attr:`Information.PERFECT_FORESIGHT` — every price of the period known in
  advance: the LP optimum (:func:`engine.battery.optimum.solve_schedule`), the
  yardstick every other row is a share of;
- :attr:`Information.AFTER_PUBLICATION` — each hour decided knowing that hour's
  day-ahead price (and whatever else is published by then): the MPC, the rule
  and the RL policy of :func:`engine.battery.dispatch.run_controller`. An *upper bound*,
  not money a trader could earn: the day-ahead price is only known once the
  auction has cleared, when its volume can no longer be traded there;
- :attr:`Information.GATE_CLOSURE` — the whole of delivery day D committed
  before the day-ahead gate closure (12:00 Europe/Brussels on D−1) on a
  forecast, then settled at D's clearing prices (:mod:`engine.battery.commitment`):
  what a day-ahead trader can actually earn.

Callers: :mod:`engine.battery.commitment`, ``gridtui eval battery`` and
``bench/battery_eval.py``, which print :data:`MEANING` beside each row.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Information(StrEnum):
    """The information set of a battery result (its JSON value is the string)."""

    PERFECT_FORESIGHT = "perfect_foresight"
    AFTER_PUBLICATION = "after_publication"
    GATE_CLOSURE = "gate_closure"


MEANING: Final[dict[Information, str]] = {
    Information.PERFECT_FORESIGHT: "every price known in advance (the yardstick)",
    Information.AFTER_PUBLICATION: (
        "upper bound: if the day-ahead price could still be traded after publication"
    ),
    Information.GATE_CLOSURE: "committed at D-1 12:00 on a forecast, settled at D's prices",
}


__all__ = ["MEANING", "Information"]
