"""Roster: the strategies a manager hosts, their lifecycle, and who is handed which event.

:class:`~engine.strategies.manager.StrategyManager` keeps one. It holds a
:class:`~engine.strategies.slot.StrategySlot` per strategy, starts and stops
them (the kill switch stops all), puts a strategy whose hook raised in error,
and keeps the dispatch tables the manager's hot path reads: which running
strategies want which event type, and which close bars. Every change leaves an
:class:`~engine.events.AuditEntry` and a status line on the desk's outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from engine.events import AuditEntry, Event, StrategyStatus
from engine.market.timeline import Product
from engine.strategies.base import Strategy
from engine.strategies.desk import MIN_DATETIME, TradingDesk
from engine.strategies.slot import BuyRight, StrategySlot, StrategyState, Submit
from engine.time_us import from_us

log = logging.getLogger("engine.strategies.manager")  # the name operators filter on


class Roster:
    """The hosted strategies and their lifecycle (module docstring).

    Attributes:
        slots: one slot per strategy, by name.
        dispatch: for each event type, the running strategies that want it.
        bar_slots: the running strategies that close bars.
    """

    def __init__(
        self,
        strategies: Iterable[Strategy],
        desk: TradingDesk[StrategySlot],
        *,
        submit: Submit,
        buy_right: BuyRight,
    ) -> None:
        self.desk = desk
        self.slots: dict[str, StrategySlot] = {}
        for strategy in strategies:
            if strategy.name in self.slots:
                raise ValueError(f"two strategies are named {strategy.name!r}")
            self.slots[strategy.name] = StrategySlot(
                strategy, desk, submit=submit, buy_right=buy_right
            )
        self.dispatch: dict[type[Event], list[tuple[StrategySlot, Strategy]]] = {}
        self.bar_slots: list[StrategySlot] = []
        self.rebuild()

    def slot(self, name: str) -> StrategySlot:
        try:
            return self.slots[name]
        except KeyError:
            raise KeyError(
                f"no strategy {name!r}; loaded: {', '.join(self.slots) or 'none'}"
            ) from None

    def statuses(self, now: datetime) -> list[StrategyStatus]:
        """One status line per strategy, in name order."""
        return [slot.status(now) for _, slot in sorted(self.slots.items())]

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
        slot = self.slot(name)
        if slot.state is StrategyState.RUNNING:
            return [slot.status(now)]
        self._begin(now)
        slot.mark(StrategyState.RUNNING, f"started by {actor}")
        self.rebuild()
        events: list[Event] = [self._audit(now, actor, "start", name, reason)]
        self.call(slot, "on_start", lambda: slot.strategy.on_start(slot))
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
        bar_ts: datetime = MIN_DATETIME,
    ) -> list[Event]:
        """Stop one strategy (it closes its positions); ``finish_bar`` closes ``bar_ts`` first."""
        slot = self.slot(name)
        if slot.state is not StrategyState.RUNNING:
            return [slot.status(now)]
        self._begin(now)
        if finish_bar and slot.strategy.uses_bars and bar_ts > MIN_DATETIME:
            self.call(slot, "on_bar", lambda: slot.strategy.on_bar(bar_ts, slot))
        slot.closing = True
        try:
            self.call(slot, "on_stop", lambda: slot.strategy.on_stop(slot))
        finally:
            slot.closing = False
        # Orders whose gate is still open are withdrawn; committed ones stand.
        self.desk.auction_book.cancel(slot, self.gate_open)
        state = StrategyState.STOPPED if slot.state is StrategyState.RUNNING else slot.state
        slot.mark(state, f"{'killed' if action == 'kill' else 'stopped'} by {actor}")
        self.rebuild()
        events: list[Event] = [self._audit(now, actor, action, name, reason)]
        return self._collect(events, slot, now)

    def stop_all(
        self,
        *,
        now: datetime,
        actor: str = "system:kill-switch",
        reason: str = "kill switch",
        finish_bar: bool = False,
        bar_ts: datetime = MIN_DATETIME,
    ) -> list[Event]:
        """The kill switch: stop every running strategy now (each closes its positions).

        Pressed with nothing running, it still leaves one audit entry (strategy ``*``).
        """
        events: list[Event] = []
        for name, slot in sorted(self.slots.items()):
            if slot.state is StrategyState.RUNNING:
                events += self.stop(
                    name,
                    now=now,
                    actor=actor,
                    reason=reason,
                    action="kill",
                    finish_bar=finish_bar,
                    bar_ts=bar_ts,
                )
        if not events:
            self._begin(now)
            events.append(self._audit(now, actor, "kill", "*", f"{reason} (nothing was running)"))
        return events

    def _begin(self, now: datetime) -> None:
        """Before the first event: take ``now`` as the present and name the session."""
        if self.desk.event_now == MIN_DATETIME:
            self.desk.event_now = now
        if not self.desk.id_prefix:
            self.desk.id_prefix = now.strftime("%Y%m%dT%H%M%SZ/")

    def _collect(self, events: list[Event], slot: StrategySlot, now: datetime) -> list[Event]:
        """Events a control call caused: the audit entry, any fills, one status."""
        events += self.desk.out
        self.desk.out = []
        slot.traded = False
        events.append(slot.status(now))
        return events

    def _audit(self, now: datetime, actor: str, action: str, name: str, reason: str) -> AuditEntry:
        self.desk.audit_seq += 1
        return AuditEntry(
            ts=now,
            entry_id=f"{self.desk.id_prefix}{action}:{name}:{now.isoformat()}:{self.desk.audit_seq}",
            actor=actor,
            action=action,
            strategy=name,
            reason=reason,
        )

    def rebuild(self) -> None:
        dispatch: dict[type[Event], list[tuple[StrategySlot, Strategy]]] = {}
        bar_slots: list[StrategySlot] = []
        for slot in self.slots.values():
            if slot.state is not StrategyState.RUNNING:
                continue
            for kind in slot.strategy.wants:
                dispatch.setdefault(kind, []).append((slot, slot.strategy))
            if slot.strategy.uses_bars:
                bar_slots.append(slot)
        self.dispatch = dispatch
        self.bar_slots = bar_slots

    def call(self, slot: StrategySlot, hook: str, call: Callable[[], None]) -> bool:
        """Run a hook; on an exception, put the strategy in error and say so. True if it ran."""
        try:
            call()
        except Exception as exc:
            self.fail(slot, hook, exc)
            return False
        return True

    def fail(self, slot: StrategySlot, hook: str, exc: Exception) -> None:
        self.desk.stats.errors += 1
        log.exception("strategy %s failed in %s; it is stopped", slot.name, hook)
        slot.mark(StrategyState.ERROR, f"error in {hook}: {type(exc).__name__}")
        self.rebuild()
        now = self.desk.event_now
        reason = f"{type(exc).__name__}: {exc}"[:300]
        self.desk.out.append(self._audit(now, f"strategy:{slot.name}", "error", slot.name, reason))
        self.desk.out.append(slot.status(now))

    def gate_open(self, market: str, auction: str, delivery_start_us: int) -> bool:
        start = from_us(delivery_start_us)
        product = Product.DAY_AHEAD if auction == "DA" else Product.INTRADAY_AUCTION
        refusal = self.desk.timeline.refusal(market, product, start, self.desk.event_now, auction)
        return refusal is None
