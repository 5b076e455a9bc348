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

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from engine.events import (
    AUCTION_KINDS,
    AuditEntry,
    Event,
    PriceKind,
    PriceTick,
    StrategyStatus,
    Trade,
)
from engine.market.auction_book import AuctionBook
from engine.market.rights import RightPurchase
from engine.market.timeline import MarketTimeline, Product
from engine.strategies.base import Order, Strategy
from engine.strategies.config import ManagerConfig, ManagerStats
from engine.strategies.execution import Account, ExecutionModel
from engine.strategies.held_events import HeldEvents, HeldResults
from engine.strategies.orders import clear_results, fill_orders
from engine.strategies.settlement import buy_right, settle_all
from engine.strategies.slot import StrategySlot, StrategyState
from engine.time_us import US_PER_DAY, from_us, to_us

log = logging.getLogger(__name__)

_MIN_DATETIME: Final = datetime.min.replace(tzinfo=UTC)
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
        self._slots: dict[str, StrategySlot] = {}
        for strategy in strategies:
            if strategy.name in self._slots:
                raise ValueError(f"two strategies are named {strategy.name!r}")
            self._slots[strategy.name] = StrategySlot(strategy, self)
        self.stats = ManagerStats()
        self.timeline = MarketTimeline(self.config.timeline)
        self.auction_book: AuctionBook[StrategySlot, Order] = AuctionBook()
        # Clearing prices by (market, delivery start µs): fills, marks and settlement.
        self.clearing: dict[tuple[str, int], float] = {}
        self.intraday_prices: dict[str, float] = {}
        self.prices: dict[str, float] = {}
        self.price_times: dict[str, datetime] = {}
        self.price_minutes: dict[str, int | None] = {}
        self.event_now = _MIN_DATETIME
        self.out: list[Event] = []
        self.equity_curve: list[tuple[datetime, float]] = []
        self.strategy_equity: dict[str, list[float]] = {name: [] for name in self._slots}
        self._kind = self.config.price_kind
        self._bar_ts = _MIN_DATETIME
        self._next_sample = _MIN_DATETIME
        self._sample_step = timedelta(seconds=self.config.equity_interval_s)
        self._held = HeldEvents(self.config.max_held_events, self.stats)
        self._results = HeldResults()
        self.audit_seq = 0
        self.id_prefix = self.config.id_prefix  # or the session start, once known (_begin)
        self._last_status_at: datetime | None = None
        self._autostarted = not self.config.autostart
        self._next_settle_us = 0
        unknown = [n for n in self.config.autostart if n not in self._slots]
        if unknown:
            raise ValueError(f"autostart names strategies that are not loaded: {unknown}")
        self._dispatch: dict[type[Event], list[tuple[StrategySlot, Strategy]]] = {}
        self._bar_slots: list[StrategySlot] = []
        self._relevant: frozenset[type[Event]] = frozenset(
            {PriceTick, *(t for s in self._slots.values() for t in s.strategy.wants)}
        )
        self._rebuild()

    # -- what there is -------------------------------------------------------------

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
        try:
            return self._slots[name]
        except KeyError:
            raise KeyError(
                f"no strategy {name!r}; loaded: {', '.join(self._slots) or 'none'}"
            ) from None

    def statuses(self, now: datetime) -> list[StrategyStatus]:
        """One status line per strategy, in name order."""
        return [slot.status(now) for _, slot in sorted(self._slots.items())]

    # -- control -------------------------------------------------------------------

    def set_running(
        self, name: str, on: bool, *, now: datetime, actor: str, reason: str = ""
    ) -> list[Event]:
        """Start (``on``) or stop one strategy; return the events to publish and store.

        Raises:
            KeyError: no strategy of that name.
        """
        return (
            self.start(name, now=now, actor=actor, reason=reason)
            if on
            else self.stop(name, now=now, actor=actor, reason=reason)
        )

    def start(self, name: str, *, now: datetime, actor: str, reason: str = "") -> list[Event]:
        slot = self._slot(name)
        if slot.state is StrategyState.RUNNING:
            return [slot.status(now)]
        self._begin(now)
        slot.mark(StrategyState.RUNNING, f"started by {actor}")
        self._rebuild()
        events: list[Event] = [self._audit(now, actor, "start", name, reason)]
        self._call(slot, "on_start", lambda: slot.strategy.on_start(slot))
        return self._collect(events, slot, now)

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
        slot = self._slot(name)
        if slot.state is not StrategyState.RUNNING:
            return [slot.status(now)]
        self._begin(now)
        if finish_bar and slot.strategy.uses_bars and self._bar_ts > _MIN_DATETIME:
            self._call(slot, "on_bar", lambda: slot.strategy.on_bar(self._bar_ts, slot))
        slot.closing = True
        try:
            self._call(slot, "on_stop", lambda: slot.strategy.on_stop(slot))
        finally:
            slot.closing = False
        # Orders whose gate is still open are withdrawn; committed ones stand.
        self.auction_book.cancel(slot, self._gate_open)
        state = StrategyState.STOPPED if slot.state is StrategyState.RUNNING else slot.state
        slot.mark(state, f"{'killed' if action == 'kill' else 'stopped'} by {actor}")
        self._rebuild()
        events: list[Event] = [self._audit(now, actor, action, name, reason)]
        return self._collect(events, slot, now)

    def stop_all(
        self,
        *,
        now: datetime,
        actor: str = "system:kill-switch",
        reason: str = "kill switch",
        finish_bar: bool = False,
    ) -> list[Event]:
        """The kill switch: stop every running strategy now (each closes its positions).

        Pressed with nothing running, it still leaves one audit entry (strategy ``*``).
        """
        events: list[Event] = []
        for name, slot in sorted(self._slots.items()):
            if slot.state is StrategyState.RUNNING:
                events += self.stop(
                    name, now=now, actor=actor, reason=reason, action="kill", finish_bar=finish_bar
                )
        if not events:
            self._begin(now)
            events.append(self._audit(now, actor, "kill", "*", f"{reason} (nothing was running)"))
        return events

    def _begin(self, now: datetime) -> None:
        """Before the first event: take ``now`` as the present and name the session."""
        if self.event_now == _MIN_DATETIME:
            self.event_now = now
        if not self.id_prefix:
            self.id_prefix = now.strftime("%Y%m%dT%H%M%SZ/")

    def _collect(self, events: list[Event], slot: StrategySlot, now: datetime) -> list[Event]:
        """Events a control call caused: the audit entry, any fills, one status."""
        events += self.out
        self.out = []
        slot.traded = False
        events.append(slot.status(now))
        return events

    def _audit(self, now: datetime, actor: str, action: str, name: str, reason: str) -> AuditEntry:
        self.audit_seq += 1
        return AuditEntry(
            ts=now,
            entry_id=f"{self.id_prefix}{action}:{name}:{now.isoformat()}:{self.audit_seq}",
            actor=actor,
            action=action,
            strategy=name,
            reason=reason,
        )

    def _rebuild(self) -> None:
        dispatch: dict[type[Event], list[tuple[StrategySlot, Strategy]]] = {}
        bar_slots: list[StrategySlot] = []
        for slot in self._slots.values():
            if slot.state is not StrategyState.RUNNING:
                continue
            for kind in slot.strategy.wants:
                dispatch.setdefault(kind, []).append((slot, slot.strategy))
            if slot.strategy.uses_bars:
                bar_slots.append(slot)
        self._dispatch = dispatch
        self._bar_slots = bar_slots

    def _call(self, slot: StrategySlot, hook: str, call: Callable[[], None]) -> bool:
        """Run a hook; on an exception, put the strategy in error and say so. True if it ran."""
        try:
            call()
        except Exception as exc:
            self._fail(slot, hook, exc)
            return False
        return True

    def _fail(self, slot: StrategySlot, hook: str, exc: Exception) -> None:
        self.stats.errors += 1
        log.exception("strategy %s failed in %s; it is stopped", slot.name, hook)
        slot.mark(StrategyState.ERROR, f"error in {hook}: {type(exc).__name__}")
        self._rebuild()
        now = self.event_now
        reason = f"{type(exc).__name__}: {exc}"[:300]
        self.out.append(self._audit(now, f"strategy:{slot.name}", "error", slot.name, reason))
        self.out.append(slot.status(now))

    # -- orders, clearing, settlement ----------------------------------------------

    def _gate_open(self, market: str, auction: str, delivery_start_us: int) -> bool:
        start = from_us(delivery_start_us)
        product = Product.DAY_AHEAD if auction == "DA" else Product.INTRADAY_AUCTION
        refusal = self.timeline.refusal(market, product, start, self.event_now, auction)
        return refusal is None

    def reference_price(self, market: str, delivery_start_us: int) -> float | None:
        """What a financial position of this period closes at when delivered.

        The imbalance price stands in for it where a feed has one; here the
        latest continuous intraday price, else the period's clearing price.
        """
        intraday = self.intraday_prices.get(market)
        if intraday is not None:
            return intraday
        return self.clearing.get((market, delivery_start_us))

    def settle(self, now: datetime) -> None:
        """Settle every position delivered by ``now`` and expire orders never cleared."""
        if self._results.due(now):
            self._clear_results(now)
        now_us = to_us(now)
        if now_us < self._next_settle_us:
            return
        settle_all(self, self._slots.values(), now_us)
        self._next_settle_us = now_us // _SETTLE_STEP_US * _SETTLE_STEP_US + _SETTLE_STEP_US
        if len(self.clearing) > _CLEARING_KEPT:
            cutoff = now_us - 2 * US_PER_DAY
            self.clearing = {k: v for k, v in self.clearing.items() if k[1] >= cutoff}

    def settle_until(self, end: datetime) -> list[Event]:
        """The end of a run: settle what was delivered before ``end``; return the events."""
        self._next_settle_us = 0
        self.settle(end)
        out, self.out = self.out, []
        return out

    def submit(self, slot: StrategySlot, orders: Sequence[Order], all_or_none: bool) -> list[Trade]:
        """A strategy's ``ctx.submit``: :func:`~engine.strategies.orders.fill_orders`."""
        return fill_orders(self, slot, orders, all_or_none)

    def buy_right(self, slot: StrategySlot, right: RightPurchase) -> Trade | None:
        """A strategy's ``ctx.buy_right``: :func:`~engine.strategies.settlement.buy_right`."""
        return buy_right(self, slot, right)

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
        self.out = out = started
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
                    self.intraday_prices[event.market] = event.price_eur_mwh  # type: ignore[attr-defined]
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
        self.settle(self.event_now)
        if self._last_status_at is None:
            out += self.statuses(now)
            self._last_status_at = now
        else:
            for slot in self._slots.values():
                if slot.traded:
                    slot.traded = False
                    out.append(slot.status(self.event_now))
        self.out = []
        return out

    def on_timer(self, now: datetime) -> list[Event]:
        """Hand over held events that came due; report every strategy now and then."""
        started = [] if self._autostarted else self._autostart(now)
        self.out = out = started
        if self._held.due(now):
            self._deliver(self._held.release(now))
        self.settle(max(self.event_now, now) if self.event_now > _MIN_DATETIME else now)
        last = self._last_status_at
        if last is None or (now - last).total_seconds() >= self.config.status_interval_s:
            self._last_status_at = now
            out += self.statuses(now)
        self.out = []
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
        dispatch = self._dispatch
        prices = self.prices
        price_times = self.price_times
        price_minutes = self.price_minutes
        intraday = self.intraday_prices if self._kind is PriceKind.INTRADAY else None
        results = self._results
        bar_ts = self._bar_ts
        for event in due:
            ts = event.ts
            if ts > bar_ts:
                if bar_ts > _MIN_DATETIME:
                    self._close_bar(bar_ts)
                self._bar_ts = bar_ts = ts
                if ts > self.event_now:
                    self.event_now = ts
            if results.due(ts):
                self._clear_results(ts)
            event_type = type(event)
            if event_type is PriceTick:
                market = event.market  # type: ignore[attr-defined]
                if ts >= price_times.get(market, _MIN_DATETIME):
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
                        self._fail(slot, "on_event", exc)
                        dispatch = self._dispatch
        self.stats.delivered += len(due)

    def _clear_results(self, now: datetime) -> None:
        clear_results(self, self._results.release(now))

    def _close_bar(self, bar_ts: datetime) -> None:
        self.stats.bars += 1
        self.settle(bar_ts)
        for slot in self._bar_slots:
            try:
                slot.strategy.on_bar(bar_ts, slot)
            except Exception as exc:
                self._fail(slot, "on_bar", exc)
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
        clearing = self.clearing
        for name, slot in self._slots.items():
            equity = slot.account.equity_eur(clearing)
            self.strategy_equity[name].append(equity)
            total += equity
        self.equity_curve.append((ts, total))


__all__ = ["ManagerStats", "StrategyManager"]
