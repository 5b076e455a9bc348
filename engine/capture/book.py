"""The capture ledger of a whole engine: every battery and strategy, every window.

:class:`CaptureBook` is fed the events the engine publishes — day-ahead
:class:`~engine.events.PriceTick` (the realized prices), :class:`~engine.events.BatteryState`
(what each battery delivered) and settlement :class:`~engine.events.Trade`\\ s (what
each strategy realized) — and answers :meth:`CaptureBook.snapshot`: one
:class:`~engine.capture.rows.LedgerRow` per owner and window (today, week,
month, run; :mod:`engine.capture.windows`).

Where a battery's realized money comes from: a battery traded by a strategy
(``strategy_batteries``) realizes what its settlements say (price × MWh − fee
− wear − slippage, :mod:`engine.market.ledger`), attributed to each delivery
period; a fleet battery (:mod:`engine.battery.fleet`) settles itself, so its
realized money is the step-to-step change of ``revenue_eur``.

Strategies: a strategy that trades a battery gets that battery's figures; any
other strategy has no perfect-foresight model here (what would an arbitrage or
signal strategy's optimum be, without inventing one?), so its rows carry the
realized money only, ``optimum`` None and a note that says so.

A snapshot is recomputed only when something arrived since the last one.
Called by :class:`engine.capture.component.CaptureComponent` and
:mod:`engine.backtest.capture` (the ledger over a finished run).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.battery.costs import trading_spec
from engine.battery.gate_forecast import DELIVERY_TIMEZONE
from engine.battery.physics import BatterySpec
from engine.capture.battery import BatteryCapture
from engine.capture.rows import NO_MODEL, WINDOWS, LedgerRow, LedgerSnapshot
from engine.capture.windows import window_starts
from engine.events import BatteryState, Event, PriceKind, PriceTick, Trade
from engine.time_us import US_PER_MINUTE, from_us, to_us


@dataclass(slots=True)
class _StrategyMoney:
    realized_by_start: dict[int, float] = field(default_factory=dict)
    market: str = ""


class CaptureBook:
    """Every owner's ledger rows (module docstring).

    Args:
        batteries: the batteries to follow (their own specs: the fee is added here).
        fee_eur_mwh: the exchange fee per MWh (``[strategies.execution]``).
        strategy_batteries: strategy name → the battery id it trades.
        step_minutes: the delivery step the batteries report.
        timezone: where delivery days, weeks and months begin.
    """

    def __init__(
        self,
        batteries: Iterable[BatterySpec] = (),
        *,
        fee_eur_mwh: float = 0.0,
        strategy_batteries: Mapping[str, str] | None = None,
        step_minutes: int = 60,
        timezone: str = DELIVERY_TIMEZONE,
    ) -> None:
        self.timezone = timezone
        self.step_minutes = step_minutes
        self.batteries: dict[str, BatteryCapture] = {
            spec.battery_id: BatteryCapture(trading_spec(spec, fee_eur_mwh), step_minutes, timezone)
            for spec in batteries
        }
        self.strategy_batteries = dict(strategy_batteries or {})
        self._traded_by_strategy = set(self.strategy_batteries.values())
        self.strategies: dict[str, _StrategyMoney] = {}
        self.prices: dict[str, dict[int, float]] = {
            one.spec.market: {} for one in self.batteries.values()
        }
        self._minutes: dict[str, dict[int, float]] = {m: {} for m in self.prices}
        self._last_revenue: dict[str, float] = {}
        self._first_us: int | None = None
        self._anchor_us: int | None = None
        self._snapshot: LedgerSnapshot | None = None

    # -- feeding ---------------------------------------------------------------------------

    def observe(self, events: Iterable[Event]) -> None:
        for event in events:
            kind = type(event)
            if kind is PriceTick:
                assert isinstance(event, PriceTick)
                if event.kind is PriceKind.DAY_AHEAD and event.market in self.prices:
                    self.add_price(
                        event.market, to_us(event.ts), event.price_eur_mwh, event.delivery_minutes
                    )
            elif kind is BatteryState:
                assert isinstance(event, BatteryState)
                self._battery_state(event)
            elif kind is Trade:
                assert isinstance(event, Trade)
                if not event.is_fill:
                    self._settled(event)

    def add_price(
        self, market: str, start_us: int, price_eur_mwh: float, minutes: int | None = 60
    ) -> None:
        """A realized (clearing) price of ``market`` for ``minutes`` from ``start_us``.

        Spread over the ledger's steps like the fleet's price book: an hourly
        price fills four quarter-hour steps, four quarter-hour prices average
        into one hourly step.
        """
        sums, seen = self.prices.setdefault(market, {}), self._minutes.setdefault(market, {})
        step_us = self.step_minutes * US_PER_MINUTE
        at, end = start_us, start_us + (minutes or 60) * US_PER_MINUTE
        while at < end:
            bucket = at // step_us * step_us
            until = min(end, bucket + step_us)
            share = (until - at) / US_PER_MINUTE
            total = seen.get(bucket, 0.0)
            previous = sums.get(bucket, 0.0) * total
            seen[bucket] = total + share
            sums[bucket] = (previous + price_eur_mwh * share) / seen[bucket]
            at = until
            for battery in self.batteries.values():
                if battery.spec.market == market:
                    battery.price_arrived(bucket)
        self._snapshot = None

    def _battery_state(self, state: BatteryState) -> None:
        battery = self.batteries.get(state.battery_id)
        if battery is None:
            return
        start_us = to_us(state.ts)
        battery.add_step(start_us, state.power_mw, state.soc_mwh, state.committed)
        if state.battery_id not in self._traded_by_strategy:
            before = self._last_revenue.get(state.battery_id, 0.0)
            battery.add_realized(start_us, state.revenue_eur - before)
            self._last_revenue[state.battery_id] = state.revenue_eur
        self._moved(start_us)

    def _settled(self, trade: Trade) -> None:
        start_us = to_us(trade.delivery_start or trade.ts)
        money = self.strategies.setdefault(trade.strategy, _StrategyMoney(market=trade.market))
        money.realized_by_start[start_us] = (
            money.realized_by_start.get(start_us, 0.0) + trade.pnl_eur
        )
        battery_id = self.strategy_batteries.get(trade.strategy)
        if battery_id is not None and battery_id in self.batteries:
            self.batteries[battery_id].add_realized(start_us, trade.pnl_eur)
        self._moved(start_us)

    def _moved(self, start_us: int) -> None:
        self._snapshot = None
        if self._first_us is None or start_us < self._first_us:
            self._first_us = start_us
        if self._anchor_us is None or start_us > self._anchor_us:
            self._anchor_us = start_us

    # -- answering -------------------------------------------------------------------------

    def snapshot(self) -> LedgerSnapshot:
        """Every row now: batteries first, then strategies, each by name and window."""
        if self._snapshot is not None:
            return self._snapshot
        rows: list[LedgerRow] = []
        if self._anchor_us is not None and self._first_us is not None:
            rows = self._rows(self._anchor_us)
        as_of = from_us(self._anchor_us) if self._anchor_us is not None else None
        self._snapshot = LedgerSnapshot(rows=rows, count=len(rows), as_of=as_of)
        return self._snapshot

    def _rows(self, anchor_us: int) -> list[LedgerRow]:
        rows: list[LedgerRow] = []
        by_battery: dict[str, dict[str, LedgerRow]] = {}
        for battery_id in sorted(self.batteries):
            battery = self.batteries[battery_id]
            if not battery.starts_us:
                continue
            starts = window_starts(anchor_us, battery.starts_us[0], self.timezone)
            prices = self.prices.get(battery.spec.market, {})
            for window in WINDOWS:
                row = battery.row(window, starts[window], prices)
                if row is not None:
                    rows.append(row)
                    by_battery.setdefault(battery_id, {})[window] = row
        for name in sorted(self.strategies):
            rows += self._strategy_rows(name, anchor_us, by_battery)
        return rows

    def _strategy_rows(
        self, name: str, anchor_us: int, by_battery: dict[str, dict[str, LedgerRow]]
    ) -> list[LedgerRow]:
        own = by_battery.get(self.strategy_batteries.get(name, ""))
        if own is not None:
            battery_id = self.strategy_batteries[name]
            return [_as_strategy(row, name, f"trades battery {battery_id}") for row in own.values()]
        money = self.strategies[name]
        first = min(money.realized_by_start)
        starts = window_starts(anchor_us, first, self.timezone)
        step_us = self.step_minutes * US_PER_MINUTE
        out = []
        for window in WINDOWS:
            kept = {s: v for s, v in money.realized_by_start.items() if s >= starts[window]}
            if not kept:
                continue
            out.append(
                LedgerRow(
                    owner=name,
                    kind="strategy",
                    market=money.market,
                    window=window,
                    start=from_us(min(kept)),
                    end=from_us(max(kept) + step_us),
                    steps=len(kept),
                    realized_eur=sum(kept.values()),
                    timezone=self.timezone,
                    note=NO_MODEL,
                )
            )
        return out


def _as_strategy(row: LedgerRow, name: str, note: str) -> LedgerRow:
    import msgspec

    return msgspec.structs.replace(row, owner=name, kind="strategy", note=note)


__all__ = ["CaptureBook"]
