"""StrategyManager: the kernel component that hosts strategies, live and in backtests.

It owns the strategies' lifecycle (start, stop, the kill switch), hands them
events, fills their orders through :class:`~engine.strategies.execution.ExecutionModel`,
and emits what follows: :class:`~engine.events.Trade` fills,
:class:`~engine.events.StrategyStatus` lines for the dashboard, and an
:class:`~engine.events.AuditEntry` for every toggle and every trade (kept in the
store's ``audit_log``). ``gridtui.wiring`` adds it after the spread engine (and
any forecaster) so it sees their events; :mod:`engine.backtest` builds it the
same way on a replay feed and a SimClock.

No look-ahead. A strategy receives an event only once the clock has reached
the event's time: an event stamped after ``now`` (a day-ahead price for
tomorrow's delivery) is held back and handed over when the clock gets there.
Within a batch, events go out in time order, one at a time, and a strategy's
``ctx.now`` is the newest event time it has been given — never the end of the
batch — so it cannot learn what comes later in the same batch either. Bars
(:meth:`~engine.strategies.base.Strategy.on_bar`) close on event time only,
which is why the same data gives the same trades whatever the batch sizes and
however fast the clock runs.

Toggles come from outside the kernel loop (the dashboard's keys, the CLI): the
control methods return the events they cause, and the caller publishes and
stores them (``gridtui.client.InProcessClient`` does).
"""

from __future__ import annotations

import enum
import heapq
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

import msgspec

from engine.events import AuditEntry, Event, PriceKind, PriceTick, StrategyStatus, Trade
from engine.strategies.base import Order, Side, Strategy
from engine.strategies.execution import Account, ExecutionConfig, ExecutionModel

log = logging.getLogger(__name__)

_MIN_DATETIME: Final = datetime.min.replace(tzinfo=UTC)
_SHARE_EPSILON: Final = 1e-9


class ManagerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the manager runs its strategies.

    Attributes:
        price_kind: the prices strategies trade on and are filled at. Live:
            intraday ticks. A replay of day-ahead history: day-ahead.
        execution: fees, slippage and limits of the simulated fills.
        status_interval_s: clock seconds between routine StrategyStatus lines
            (a strategy that trades also reports at once).
        record_equity: keep an equity curve (backtests; off live).
        equity_interval_s: event-time seconds between two equity samples.
        id_prefix: prepended to trade ids (a backtest's run id; live, the
            session start), so two runs never share an id.
        max_held_events: future-stamped events held back at most; beyond it
            the oldest are dropped (and counted).
        autostart: strategies started by the manager itself with its first
            batch (actor ``system:autostart``, in the audit log like any start).
    """

    price_kind: PriceKind = PriceKind.INTRADAY
    execution: ExecutionConfig = ExecutionConfig()
    status_interval_s: float = 5.0
    record_equity: bool = False
    equity_interval_s: float = 3600.0
    id_prefix: str = ""
    max_held_events: int = 200_000
    autostart: tuple[str, ...] = ()


class StrategyState(enum.StrEnum):
    STOPPED = "stopped"
    RUNNING = "running"
    ERROR = "error"


class ManagerStats(msgspec.Struct, kw_only=True):
    delivered: int = 0
    held: int = 0
    held_dropped: int = 0
    bars: int = 0
    trades: int = 0
    rejected: int = 0
    errors: int = 0


class _Slot:
    """One hosted strategy: its state and account, and its StrategyContext."""

    __slots__ = (
        "account",
        "closing",
        "last_action",
        "last_trade",
        "manager",
        "name",
        "seq",
        "state",
        "strategy",
        "traded",
    )

    def __init__(self, strategy: Strategy, manager: StrategyManager) -> None:
        self.strategy = strategy
        self.manager = manager
        self.account = Account()
        self.state = StrategyState.STOPPED
        self.last_action = "loaded"
        self.last_trade: Trade | None = None
        self.name = strategy.name
        self.seq = 0
        self.traded = False
        self.closing = False

    # -- StrategyContext ---------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.manager.event_now

    def price(self, market: str) -> float | None:
        return self.manager.prices.get(market)

    def price_ts(self, market: str) -> datetime | None:
        return self.manager.price_times.get(market)

    def delivery_minutes(self, market: str) -> int | None:
        return self.manager.price_minutes.get(market)

    def position(self, book: str) -> float:
        return self.account.held(book)

    def books(self) -> dict[str, float]:
        return self.account.open_books()

    @property
    def realised_eur(self) -> float:
        return self.account.realised_eur

    def submit(self, *orders: Order, all_or_none: bool = False) -> list[Trade]:
        return self.manager.submit(self, orders, all_or_none)

    def register_asset(self, asset: str, power_mw: float) -> None:
        self.manager.execution.register_asset(asset, power_mw)

    def emit(self, event: Event) -> None:
        if event.ts > self.manager.event_now:
            raise ValueError(
                f"strategy {self.name} emitted an event stamped {event.ts}, after its now "
                f"{self.manager.event_now}: strategies live in the present"
            )
        self.manager.out.append(event)

    def equity_eur(self) -> float:
        return self.account.equity_eur(self.manager.prices)


def _ts(event: Event) -> datetime:
    return event.ts


class StrategyManager:
    """Hosts strategies as one kernel component (module docstring)."""

    name = "strategies"

    def __init__(self, strategies: Iterable[Strategy], config: ManagerConfig | None = None) -> None:
        self.config = config or ManagerConfig()
        self.execution = ExecutionModel(self.config.execution)
        self._slots: dict[str, _Slot] = {}
        for strategy in strategies:
            if strategy.name in self._slots:
                raise ValueError(f"two strategies are named {strategy.name!r}")
            self._slots[strategy.name] = _Slot(strategy, self)
        self.stats = ManagerStats()
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
        self._held: list[tuple[datetime, int, Event]] = []
        self._held_seq = 0
        self._audit_seq = 0
        self._id_prefix = self.config.id_prefix
        self._last_status_at: datetime | None = None
        self._autostarted = not self.config.autostart
        unknown = [n for n in self.config.autostart if n not in self._slots]
        if unknown:
            raise ValueError(f"autostart names strategies that are not loaded: {unknown}")
        self._dispatch: dict[type[Event], list[tuple[_Slot, Strategy]]] = {}
        self._bar_slots: list[_Slot] = []
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

    def _slot(self, name: str) -> _Slot:
        try:
            return self._slots[name]
        except KeyError:
            raise KeyError(
                f"no strategy {name!r}; loaded: {', '.join(self._slots) or 'none'}"
            ) from None

    def statuses(self, now: datetime) -> list[StrategyStatus]:
        """One status line per strategy, in name order."""
        return [self._status(slot, now) for _, slot in sorted(self._slots.items())]

    def _status(self, slot: _Slot, now: datetime) -> StrategyStatus:
        trade = slot.last_trade
        if trade is not None:  # worded only when shown: a backtest fills 10⁵ trades
            slot.last_action = (
                f"{trade.side} {trade.volume_mwh:,.1f} MWh {trade.market} "
                f"@ {trade.price_eur_mwh:,.2f}"
            )
            slot.last_trade = None
        return StrategyStatus(
            ts=now,
            strategy=slot.name,
            state=slot.state.value,
            pnl_eur=slot.equity_eur(),
            trades=slot.account.trades,
            last_action=slot.last_action,
        )

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
            return [self._status(slot, now)]
        self._begin(now)
        slot.state = StrategyState.RUNNING
        slot.last_trade = None
        slot.last_action = f"started by {actor}"
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
            return [self._status(slot, now)]
        self._begin(now)
        if finish_bar and slot.strategy.uses_bars and self._bar_ts > _MIN_DATETIME:
            self._call(slot, "on_bar", lambda: slot.strategy.on_bar(self._bar_ts, slot))
        slot.closing = True
        try:
            self._call(slot, "on_stop", lambda: slot.strategy.on_stop(slot))
        finally:
            slot.closing = False
        if slot.state is StrategyState.RUNNING:
            slot.state = StrategyState.STOPPED
        slot.last_trade = None
        slot.last_action = f"{'killed' if action == 'kill' else 'stopped'} by {actor}"
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
        if not self._id_prefix:
            self._id_prefix = now.strftime("%Y%m%dT%H%M%SZ/")

    def _collect(self, events: list[Event], slot: _Slot, now: datetime) -> list[Event]:
        """Events a control call caused: the audit entry, any fills, one status."""
        events += self.out
        self.out = []
        slot.traded = False
        events.append(self._status(slot, now))
        return events

    def _audit(self, now: datetime, actor: str, action: str, name: str, reason: str) -> AuditEntry:
        self._audit_seq += 1
        return AuditEntry(
            ts=now,
            entry_id=f"{self._id_prefix}{action}:{name}:{now.isoformat()}:{self._audit_seq}",
            actor=actor,
            action=action,
            strategy=name,
            reason=reason,
        )

    def _rebuild(self) -> None:
        dispatch: dict[type[Event], list[tuple[_Slot, Strategy]]] = {}
        bar_slots: list[_Slot] = []
        for slot in self._slots.values():
            if slot.state is not StrategyState.RUNNING:
                continue
            for kind in slot.strategy.wants:
                dispatch.setdefault(kind, []).append((slot, slot.strategy))
            if slot.strategy.uses_bars:
                bar_slots.append(slot)
        self._dispatch = dispatch
        self._bar_slots = bar_slots

    def _call(self, slot: _Slot, hook: str, call: Callable[[], None]) -> bool:
        """Run a hook; on an exception, put the strategy in error and say so. True if it ran."""
        try:
            call()
        except Exception as exc:
            self._fail(slot, hook, exc)
            return False
        return True

    def _fail(self, slot: _Slot, hook: str, exc: Exception) -> None:
        self.stats.errors += 1
        log.exception("strategy %s failed in %s; it is stopped", slot.name, hook)
        slot.state = StrategyState.ERROR
        slot.last_trade = None
        slot.last_action = f"error in {hook}: {type(exc).__name__}"
        self._rebuild()
        now = self.event_now
        reason = f"{type(exc).__name__}: {exc}"[:300]
        self.out.append(self._audit(now, f"strategy:{slot.name}", "error", slot.name, reason))
        self.out.append(self._status(slot, now))

    # -- orders --------------------------------------------------------------------

    def submit(self, slot: _Slot, orders: Sequence[Order], all_or_none: bool) -> list[Trade]:
        if slot.state is not StrategyState.RUNNING and not slot.closing:
            self._reject(slot, len(orders))
            return []
        now = self.event_now
        execution = self.execution
        account = slot.account
        prices = self.prices
        # Plan every order first (all-or-none needs every room before any fill).
        planned: list[tuple[Order, float, float]] = []
        for order in orders:
            reference = prices.get(order.market)
            volume = order.volume_mwh
            if reference is None or not (volume > 0 and math.isfinite(volume)):
                planned.append((order, 0.0, 0.0))
                continue
            room = execution.room_mwh(order, account, now)[0]
            if (
                room > 0
                and order.limit_price_eur_mwh is not None
                and not execution.acceptable(order, execution.price(order, reference, room))
            ):
                room = 0.0
            planned.append((order, room, reference))
        if all_or_none and len(planned) > 1:
            share = 1.0
            for order, room, _ in planned:
                share = min(share, room / order.volume_mwh if room > 0 else 0.0)
            if share < _SHARE_EPSILON:
                self._reject(slot, len(planned))
                return []
            planned = [(order, order.volume_mwh * share, ref) for order, _, ref in planned]
        fills: list[Trade] = []
        out = self.out
        name = slot.name
        prefix = self._id_prefix
        actor = f"strategy:{name}"
        for order, volume, reference in planned:
            if volume <= _SHARE_EPSILON:
                self._reject(slot, 1)
                continue
            fill = execution.fill(order, volume, reference, account, now)
            slot.seq += 1
            trade_id = f"{prefix}{name}-{slot.seq:07d}"
            trade = Trade(
                ts=now,
                trade_id=trade_id,
                strategy=name,
                market=order.market,
                side="buy" if order.side is Side.BUY else "sell",
                volume_mwh=fill.volume_mwh,
                price_eur_mwh=fill.price_eur_mwh,
                fee_eur=fill.fee_eur,
                pnl_eur=fill.pnl_eur,
                reason=order.reason,
            )
            fills.append(trade)
            out.append(trade)
            out.append(
                AuditEntry(
                    ts=now,
                    entry_id="trade:" + trade_id,
                    actor=actor,
                    action="trade",
                    strategy=name,
                    reason=order.reason,
                    ref=trade_id,
                )
            )
        if fills:
            slot.traded = True
            slot.last_trade = fills[-1]
            self.stats.trades += len(fills)
        return fills

    def _reject(self, slot: _Slot, count: int) -> None:
        slot.account.rejected += count
        self.stats.rejected += count

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
        due: list[Event] = []
        for event in events:
            event_type = type(event)
            if event_type not in relevant:
                continue
            if event_type is PriceTick and event.kind is not kind:  # type: ignore[attr-defined]
                continue
            if event.ts > now:
                self._hold(event)
            else:
                due.append(event)
        if self._held and self._held[0][0] <= now:
            due += self._release(now)
        self.out = out = started
        if due:
            self._deliver(due)
        if self._last_status_at is None:
            out += self.statuses(now)
            self._last_status_at = now
        else:
            for slot in self._slots.values():
                if slot.traded:
                    slot.traded = False
                    out.append(self._status(slot, self.event_now))
        self.out = []
        return out

    def on_timer(self, now: datetime) -> list[Event]:
        """Hand over held events that came due; report every strategy now and then."""
        started = [] if self._autostarted else self._autostart(now)
        self.out = out = started
        if self._held and self._held[0][0] <= now:
            self._deliver(self._release(now))
        last = self._last_status_at
        if last is None or (now - last).total_seconds() >= self.config.status_interval_s:
            self._last_status_at = now
            out += self.statuses(now)
        self.out = []
        return out

    def _hold(self, event: Event) -> None:
        held = self._held
        self._held_seq += 1
        heapq.heappush(held, (event.ts, self._held_seq, event))
        self.stats.held += 1
        if len(held) > self.config.max_held_events:
            heapq.heappop(held)
            self.stats.held_dropped += 1

    def _release(self, now: datetime) -> list[Event]:
        held = self._held
        released: list[Event] = []
        while held and held[0][0] <= now:
            released.append(heapq.heappop(held)[2])
        return released

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
        bar_ts = self._bar_ts
        for event in due:
            ts = event.ts
            if ts > bar_ts:
                if bar_ts > _MIN_DATETIME:
                    self._close_bar(bar_ts)
                self._bar_ts = bar_ts = ts
                if ts > self.event_now:
                    self.event_now = ts
            event_type = type(event)
            if event_type is PriceTick:
                market = event.market  # type: ignore[attr-defined]
                if ts >= price_times.get(market, _MIN_DATETIME):
                    prices[market] = event.price_eur_mwh  # type: ignore[attr-defined]
                    price_times[market] = ts
                    price_minutes[market] = event.delivery_minutes  # type: ignore[attr-defined]
            targets = dispatch.get(event_type)
            if targets:
                for slot, strategy in targets:
                    try:
                        strategy.on_event(event, slot)
                    except Exception as exc:
                        self._fail(slot, "on_event", exc)
                        dispatch = self._dispatch
        self.stats.delivered += len(due)

    def _close_bar(self, bar_ts: datetime) -> None:
        self.stats.bars += 1
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
        prices = self.prices
        for name, slot in self._slots.items():
            equity = slot.account.equity_eur(prices)
            self.strategy_equity[name].append(equity)
            total += equity
        self.equity_curve.append((ts, total))


__all__ = ["ManagerConfig", "ManagerStats", "StrategyManager", "StrategyState"]
