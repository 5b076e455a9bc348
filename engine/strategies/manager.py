"""StrategyManager: the kernel component that hosts strategies, live and in backtests.

It owns the strategies' lifecycle (start, stop, the kill switch), hands them
events (each strategy sits in a :class:`~engine.strategies.slot.StrategySlot`),
fills their orders through :class:`~engine.strategies.execution.ExecutionModel`
(:mod:`engine.strategies.orders`), and emits what follows:
:class:`~engine.events.Trade` fills, :class:`~engine.events.StrategyStatus`
lines for the dashboard, and an :class:`~engine.events.AuditEntry` for every
toggle and every trade (kept in the store's ``audit_log``). ``gridtui.wiring``
adds it after the spread engine (and any forecaster) so it sees their events;
:mod:`engine.backtest.run` builds it the same way on a replay feed and a SimClock.

No look-ahead. A strategy receives an event only once the clock has reached
the event's time: an event stamped after ``now`` (a day-ahead price for
tomorrow's delivery) is held back (:mod:`engine.strategies.held_events`) and handed over
when the clock gets there. Within a batch, events go out in time order, one at
a time, and a strategy's ``ctx.now`` is the newest event time it has been
given — never the end of the batch — so it cannot learn what comes later in
the same batch either. Bars (:meth:`~engine.strategies.base.Strategy.on_bar`)
close on event time only, which is why the same data gives the same trades
whatever the batch sizes and however fast the clock runs.

Orders and money. Orders go through the market timeline
(:mod:`engine.strategies.orders`): a day-ahead order after its gate closure is
refused with its reason in the audit log; accepted auction orders fill when
their clearing price is known in event time; positions per market and
delivery period settle once delivered (:mod:`engine.strategies.settlement`), so
no delivered position stays open and Σ Trade.pnl_eur is what was earned.

Toggles come from outside the kernel loop (the dashboard's keys, the CLI): the
control methods return the events they cause, and the caller publishes and
stores them (``gridtui.client.in_process.InProcessClient`` does).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Final

from engine.events import (
    AUCTION_KINDS,
    Event,
    PriceKind,
    PriceTick,
    StrategyStatus,
    Trade,
)
from engine.market.auction_book import AuctionBook
from engine.market.rights import RightPurchase
from engine.market.timeline import MarketTimeline
from engine.strategies.base import Order, Strategy
from engine.strategies.config import ManagerConfig, ManagerStats
from engine.strategies.desk import MIN_DATETIME, TradingDesk
from engine.strategies.execution import Account, ExecutionModel
from engine.strategies.held_events import HeldEvents, HeldResults
from engine.strategies.orders import clear_results, fill_orders
from engine.strategies.roster import Roster
from engine.strategies.settlement import buy_right, settle_all
from engine.strategies.slot import StrategySlot, StrategyState
from engine.time_us import US_PER_DAY, to_us

# Settlement runs at most once per minute of event time: delivery periods are
# 15 or 60 minutes, so nothing settles late by more than that.
_SETTLE_STEP_US: Final = 60_000_000
_CLEARING_KEPT: Final = 50_000


def _ts(event: Event) -> datetime:
    return event.ts


class StrategyManager:
    """Hosts strategies as one kernel component (module docstring)."""

    name = "strategies"

    def __init__(self, strategies: Iterable[Strategy], config: ManagerConfig | None = None) -> None:
        self.config = config or ManagerConfig()
        self.execution = ExecutionModel(self.config.execution)
        self.stats = ManagerStats()
        self.timeline = MarketTimeline(self.config.timeline)
        self.desk: TradingDesk[StrategySlot] = TradingDesk(
            self.execution, self.timeline, self.stats
        )
        # or the session start, once known (_begin)
        self.desk.id_prefix = self.config.id_prefix
        self.roster = Roster(strategies, self.desk, submit=self.submit, buy_right=self.buy_right)
        self._slots = self.roster.slots
        self.equity_curve: list[tuple[datetime, float]] = []
        self.strategy_equity: dict[str, list[float]] = {name: [] for name in self._slots}
        self._kind = self.config.price_kind
        self._bar_ts = MIN_DATETIME
        self._next_sample = MIN_DATETIME
        self._sample_step = timedelta(seconds=self.config.equity_interval_s)
        self._held = HeldEvents(self.config.max_held_events, self.stats)
        self._results = HeldResults()
        self._last_status_at: datetime | None = None
        self._autostarted = not self.config.autostart
        self._next_settle_us = 0
        unknown = [n for n in self.config.autostart if n not in self._slots]
        if unknown:
            raise ValueError(f"autostart names strategies that are not loaded: {unknown}")
        self._relevant: frozenset[type[Event]] = frozenset(
            {PriceTick, *(t for s in self._slots.values() for t in s.strategy.wants)}
        )

    # -- what there is -------------------------------------------------------------

    @property
    def event_now(self) -> datetime:
        """The newest event time handed to the strategies."""
        return self.desk.event_now

    @property
    def intraday_prices(self) -> dict[str, float]:
        """The latest continuous intraday price per market (empty on day-ahead data)."""
        return self.desk.intraday_prices

    @property
    def auction_book(self) -> AuctionBook[StrategySlot, Order]:
        """Auction orders waiting for their clearing price."""
        return self.desk.auction_book

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._slots)

    def strategy(self, name: str) -> Strategy:
        return self._slot(name).strategy

    def state(self, name: str) -> StrategyState:
        return self._slot(name).state

    def account(self, name: str) -> Account:
        return self._slot(name).account

    def equity_eur(self, name: str) -> float:
        return self._slot(name).equity_eur()

    def _slot(self, name: str) -> StrategySlot:
        return self.roster.slot(name)

    def statuses(self, now: datetime) -> list[StrategyStatus]:
        """One status line per strategy, in name order."""
        return self.roster.statuses(now)

    # -- control: the roster's, with this manager's bar ---------------------------

    def set_running(
        self, name: str, on: bool, *, now: datetime, actor: str, reason: str = ""
    ) -> list[Event]:
        """Start (``on``) or stop one strategy; return the events to publish and store.

        Raises:
            KeyError: no strategy of that name.
        """
        return self.roster.set_running(name, on, now=now, actor=actor, reason=reason)

    def start(self, name: str, *, now: datetime, actor: str, reason: str = "") -> list[Event]:
        return self.roster.start(name, now=now, actor=actor, reason=reason)

    def stop(
        self,
        name: str,
        *,
        now: datetime,
        actor: str,
        reason: str = "",
        action: str = "stop",
        finish_bar: bool = False,
    ) -> list[Event]:
        return self.roster.stop(
            name,
            now=now,
            actor=actor,
            reason=reason,
            action=action,
            finish_bar=finish_bar,
            bar_ts=self._bar_ts,
        )

    def stop_all(
        self,
        *,
        now: datetime,
        actor: str = "system:kill-switch",
        reason: str = "kill switch",
        finish_bar: bool = False,
    ) -> list[Event]:
        """The kill switch: stop every running strategy now (each closes its positions)."""
        return self.roster.stop_all(
            now=now, actor=actor, reason=reason, finish_bar=finish_bar, bar_ts=self._bar_ts
        )

    # -- orders, clearing, settlement ----------------------------------------------

    def settle(self, now: datetime) -> None:
        """Settle every position delivered by ``now`` and expire orders never cleared."""
        if self._results.due(now):
            self._clear_results(now)
        now_us = to_us(now)
        if now_us < self._next_settle_us:
            return
        settle_all(self.desk, self._slots.values(), now_us)
        self._next_settle_us = now_us // _SETTLE_STEP_US * _SETTLE_STEP_US + _SETTLE_STEP_US
        if len(self.desk.clearing) > _CLEARING_KEPT:
            cutoff = now_us - 2 * US_PER_DAY
            self.desk.clearing = {k: v for k, v in self.desk.clearing.items() if k[1] >= cutoff}

    def settle_until(self, end: datetime) -> list[Event]:
        """The end of a run: settle what was delivered before ``end``; return the events."""
        self._next_settle_us = 0
        self.settle(end)
        out, self.desk.out = self.desk.out, []
        return out

    def submit(self, slot: StrategySlot, orders: Sequence[Order], all_or_none: bool) -> list[Trade]:
        """A strategy's ``ctx.submit``: :func:`~engine.strategies.orders.fill_orders`."""
        return fill_orders(self.desk, slot, orders, all_or_none)

    def buy_right(self, slot: StrategySlot, right: RightPurchase) -> Trade | None:
        """A strategy's ``ctx.buy_right``: :func:`~engine.strategies.settlement.buy_right`."""
        return buy_right(self.desk, slot, right)

    # -- the kernel's Component protocol -------------------------------------------

    def _autostart(self, now: datetime) -> list[Event]:
        self._autostarted = True
        started: list[Event] = []
        for name in self.config.autostart:
            started += self.start(
                name, now=now, actor="system:autostart", reason="strategies.autostart"
            )
        return started

    def on_events(self, events: Sequence[Event], now: datetime) -> list[Event]:
        """Hand the batch's due events to the running strategies, in time order."""
        started = [] if self._autostarted else self._autostart(now)
        relevant = self._relevant
        kind = self._kind
        hold = self._held.hold
        due: list[Event] = []
        self.desk.out = out = started
        for event in events:
            event_type = type(event)
            if event_type not in relevant:
                continue
            if event_type is PriceTick:
                tick_kind = event.kind  # type: ignore[attr-defined]
                if tick_kind in AUCTION_KINDS:
                    # Known at its delivery start (replay) or now (ahead of the clock).
                    self._results.hold(min(event.ts, now), event)  # type: ignore[arg-type]
                elif tick_kind is PriceKind.INTRADAY and tick_kind is not kind and event.ts <= now:
                    # Not handed to strategies; delivered ones update it in time order.
                    self.desk.intraday_prices[event.market] = event.price_eur_mwh  # type: ignore[attr-defined]
                if tick_kind is not kind:
                    continue
            if event.ts > now:
                hold(event)
            else:
                due.append(event)
        if self._held.due(now):
            due += self._held.release(now)
        if due:
            self._deliver(due)
        self.settle(self.desk.event_now)
        if self._last_status_at is None:
            out += self.statuses(now)
            self._last_status_at = now
        else:
            for slot in self._slots.values():
                if slot.traded:
                    slot.traded = False
                    out.append(slot.status(self.desk.event_now))
        self.desk.out = []
        return out

    def on_timer(self, now: datetime) -> list[Event]:
        """Hand over held events that came due; report every strategy now and then."""
        started = [] if self._autostarted else self._autostart(now)
        self.desk.out = out = started
        if self._held.due(now):
            self._deliver(self._held.release(now))
        self.settle(max(self.desk.event_now, now) if self.desk.event_now > MIN_DATETIME else now)
        last = self._last_status_at
        if last is None or (now - last).total_seconds() >= self.config.status_interval_s:
            self._last_status_at = now
            out += self.statuses(now)
        self.desk.out = []
        return out

    def _deliver(self, due: list[Event]) -> None:
        """The hot path: one event at a time, bars closed as event time moves on."""
        previous = due[0].ts
        for event in due:
            ts = event.ts
            if ts < previous:
                due.sort(key=_ts)  # stable: same-time events keep their order
                break
            previous = ts
        dispatch = self.roster.dispatch
        prices = self.desk.prices
        price_times = self.desk.price_times
        price_minutes = self.desk.price_minutes
        intraday = self.desk.intraday_prices if self._kind is PriceKind.INTRADAY else None
        results = self._results
        bar_ts = self._bar_ts
        for event in due:
            ts = event.ts
            if ts > bar_ts:
                if bar_ts > MIN_DATETIME:
                    self._close_bar(bar_ts)
                self._bar_ts = bar_ts = ts
                if ts > self.desk.event_now:
                    self.desk.event_now = ts
            if results.due(ts):
                self._clear_results(ts)
            event_type = type(event)
            if event_type is PriceTick:
                market = event.market  # type: ignore[attr-defined]
                if ts >= price_times.get(market, MIN_DATETIME):
                    prices[market] = event.price_eur_mwh  # type: ignore[attr-defined]
                    price_times[market] = ts
                    price_minutes[market] = event.delivery_minutes  # type: ignore[attr-defined]
                    if intraday is not None:
                        intraday[market] = event.price_eur_mwh  # type: ignore[attr-defined]
            targets = dispatch.get(event_type)
            if targets:
                for slot, strategy in targets:
                    try:
                        strategy.on_event(event, slot)
                    except Exception as exc:
                        self.roster.fail(slot, "on_event", exc)
                        dispatch = self.roster.dispatch
        self.stats.delivered += len(due)

    def _clear_results(self, now: datetime) -> None:
        clear_results(self.desk, self._results.release(now))

    def _close_bar(self, bar_ts: datetime) -> None:
        self.stats.bars += 1
        self.settle(bar_ts)
        for slot in self.roster.bar_slots:
            try:
                slot.strategy.on_bar(bar_ts, slot)
            except Exception as exc:
                self.roster.fail(slot, "on_bar", exc)
        if self.config.record_equity and bar_ts >= self._next_sample:
            self.sample_equity(bar_ts)
            step = self._sample_step
            # The next sample on the grid of whole intervals after this bar.
            self._next_sample = (
                bar_ts - timedelta(seconds=bar_ts.timestamp() % step.total_seconds()) + step
            )

    def sample_equity(self, ts: datetime) -> None:
        """Record every strategy's equity and the total at ``ts``."""
        total = 0.0
        clearing = self.desk.clearing
        for name, slot in self._slots.items():
            equity = slot.account.equity_eur(clearing)
            self.strategy_equity[name].append(equity)
            total += equity
        self.equity_curve.append((ts, total))


__all__ = ["ManagerStats", "StrategyManager"]
