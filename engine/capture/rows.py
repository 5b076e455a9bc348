"""One row of the capture ledger: an owner's money over one elapsed window.

The identity every battery row keeps (``tests/engine/test_capture.py``)::

    optimum − realized = forecast_error + execution
    forecast_error     = committed_on_prices − committed_on_forecast
    execution          = horizon + delivery
    horizon            = optimum − committed_on_prices     (planning one day at a time)
    delivery           = committed_on_forecast − realized  (fees, slippage, missed
                                                            gates, SoC off plan)

Each money figure carries the information it was made with: ``realized`` and
``committed_on_forecast`` were decided at the day-ahead gate closure
(:attr:`~engine.information.Information.GATE_CLOSURE`); ``optimum`` and
``committed_on_prices`` knew every realized price of the window
(:attr:`~engine.information.Information.PERFECT_FORESIGHT`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

import msgspec

from engine.information import Information

WindowName = Literal["today", "week", "month", "run"]
WINDOWS: Final[tuple[WindowName, ...]] = ("today", "week", "month", "run")
NO_MODEL: Final = "no perfect-foresight model for this strategy: realized only"


class LedgerRow(msgspec.Struct, frozen=True, kw_only=True):
    """One owner (battery or strategy) over one window (module docstring for the identity).

    ``start``/``end`` bound the elapsed part of the window (``end`` is the end of
    the last delivered step). Figures that have no model (a strategy that is
    not a battery) are None, and ``note`` says why.
    """

    owner: str
    kind: Literal["battery", "strategy"]
    market: str
    window: WindowName
    start: datetime
    end: datetime
    steps: int
    realized_eur: float
    optimum_eur: float | None = None
    captured_pct: float | None = None
    forecast_error_eur: float | None = None
    execution_eur: float | None = None
    committed_on_forecast_eur: float | None = None
    committed_on_prices_eur: float | None = None
    horizon_eur: float | None = None
    delivery_eur: float | None = None
    realized_information: str = Information.GATE_CLOSURE.value
    optimum_information: str = Information.PERFECT_FORESIGHT.value
    timezone: str = "Europe/Brussels"
    note: str = ""


class LedgerSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Every row of the ledger at one moment (the REST answer and the WebSocket message)."""

    rows: list[LedgerRow]
    count: int
    as_of: datetime | None = None


__all__ = ["NO_MODEL", "WINDOWS", "LedgerRow", "LedgerSnapshot", "WindowName"]
