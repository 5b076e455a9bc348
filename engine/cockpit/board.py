"""GateBoard: each market's next gate closures, its last publication, and who is in.

Pure and clock-injected: it reads only the instants it is handed (the kernel's
``now``) and the events it is shown, so a simulated clock crosses a gate exactly
as the wall clock would. :class:`~engine.cockpit.component.CockpitComponent`
calls :meth:`GateBoard.observe` with every batch and :meth:`GateBoard.advance`
about once a second (and whenever a batch reaches a gate or a deadline);
:meth:`GateBoard.snapshot` answers the front ends.

What it judges, both once:

- ``gate_missed`` — a gate closed while a strategy that bids into that auction
  was running with no order in it. "Running" and "in" are as last seen before
  the gate (an order still waiting in the auction book at the crossing counts
  too: it can only have been accepted before the gate). A gate that closed
  before the board first looked is not judged.
- ``publication_late`` — the day-ahead results of the auction whose gate closed
  last are not in by publication + grace (SDAC partial decoupling shows so).
  "In" means a day-ahead price of that delivery day reached the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.cockpit.orders import OrderDesk
from engine.cockpit.rows import (
    CockpitSnapshot,
    GateRow,
    MarketGates,
    PublicationRow,
    PublicationStatus,
    StrategyOrders,
)
from engine.events import Alert, Event, PriceKind, PriceTick, Severity
from engine.market.timeline import Auction, MarketTimeline

_KEPT_DAYS = 4  # published delivery days remembered per market (yesterday … the day after)


@dataclass(slots=True)
class _Watch:
    """An open auction the board is watching: who was expected in it, and who was in."""

    auction: Auction
    expected: frozenset[str] = frozenset()
    seen_in: frozenset[str] = frozenset()


class GateBoard:
    """The gate-closure cockpit's state (module docstring)."""

    def __init__(
        self,
        timeline: MarketTimeline,
        markets: Sequence[str],
        desk: OrderDesk,
        *,
        late_grace: timedelta = timedelta(minutes=15),
        intraday_auctions: bool = True,
        publications: bool = True,
    ) -> None:
        self.timeline = timeline
        self.markets = tuple(markets)
        self.desk = desk
        self.late_grace = late_grace
        self.intraday_auctions = intraday_auctions
        self.publications = publications
        self.started: datetime | None = None
        self.next_due: datetime | None = None  # when advance() next has something to judge
        self._watches: dict[tuple[str, str, datetime], _Watch] = {}
        self._published: dict[str, set[date]] = {market: set() for market in self.markets}
        self._late_alerted: set[tuple[str, date]] = set()

    # -- what the engine saw ----------------------------------------------------------

    def observe(self, events: Iterable[Event]) -> None:
        """Note the delivery days whose day-ahead prices arrived."""
        published = self._published
        for event in events:
            if isinstance(event, PriceTick) and event.kind is PriceKind.DAY_AHEAD:
                days = published.get(event.market)
                if days is not None:
                    days.add(self.timeline.delivery_day(event.market, event.ts))

    # -- the clock moves --------------------------------------------------------------

    def advance(self, now: datetime) -> list[Alert]:
        """Judge the gates and publication deadlines passed by ``now``; watch the next ones."""
        if self.started is None:
            self.started = now
        alerts: list[Alert] = []
        for key, watch in list(self._watches.items()):
            if now >= watch.auction.gate_closure:
                del self._watches[key]
                alerts += self._judge(watch, now)
        due: list[datetime] = []
        for market in self.markets:
            for auction in self.open_auctions(market, now):
                key = (market, auction.name, auction.gate_closure)
                watch = self._watches.setdefault(key, _Watch(auction))
                watch.expected = frozenset(self.desk.participants(market, auction.name))
                watch.seen_in = frozenset(self._orders(auction))
                due.append(auction.gate_closure)
            late = self._publication_deadline(market, now, alerts)
            if late is not None:
                due.append(late)
        self.next_due = min(due, default=None)
        return alerts

    def _judge(self, watch: _Watch, now: datetime) -> list[Alert]:
        auction = watch.auction
        still_in = self._orders(auction)  # accepted before the gate, not yet cleared
        missed = sorted(watch.expected - watch.seen_in - still_in)
        day = self.timeline.delivery_day(auction.market, auction.delivery_start)
        local = auction.gate_closure.astimezone(self._zone(auction.market))
        return [
            Alert(
                ts=now,
                rule="gate_missed",
                severity=Severity.WARNING,
                message=(
                    f"{name} missed the {auction.market} {auction.name} gate for delivery "
                    f"{day:%Y-%m-%d}: no orders in when it closed at {local:%H:%M %Z} "
                    f"({auction.gate_closure:%H:%M}Z)"
                ),
                key=f"gate_missed:{name}:{auction.market}:{auction.name}:{day:%Y-%m-%d}",
                market=auction.market,
            )
            for name in missed
        ]

    def _publication_deadline(
        self, market: str, now: datetime, alerts: list[Alert]
    ) -> datetime | None:
        """Alert once when the last closed auction's results are late; when they will be."""
        row = self.publication(market, now)
        if row.status == "late":
            day = row.delivery_day
            if (market, day) not in self._late_alerted:
                self._late_alerted.add((market, day))
                alerts.append(self._late_alert(row, day, now))
            self._forget_before(market, day)
        return row.late_at if row.status == "awaiting" else None

    def _late_alert(self, row: PublicationRow, day: date, now: datetime) -> Alert:
        zone = self._zone(row.market)
        due = row.publication.astimezone(zone)
        return Alert(
            ts=now,
            rule="publication_late",
            severity=Severity.WARNING,
            message=(
                f"{row.market} day-ahead results for {day:%Y-%m-%d} are late: none by "
                f"{row.late_at.astimezone(zone):%H:%M %Z} (due {due:%H:%M}"
                f" + {self.late_grace.total_seconds() / 60:g} min grace); SDAC partial "
                "decoupling, or the feed is not getting them"
            ),
            key=f"publication_late:{row.market}:{day:%Y-%m-%d}",
            market=row.market,
        )

    def _forget_before(self, market: str, day: date) -> None:
        oldest = day - timedelta(days=_KEPT_DAYS)
        self._published[market] = {d for d in self._published[market] if d >= oldest}
        self._late_alerted = {k for k in self._late_alerted if k[1] >= oldest}

    # -- reading ----------------------------------------------------------------------

    def open_auctions(self, market: str, now: datetime) -> list[Auction]:
        """The next day-ahead auction and, where listed, the next intraday auction."""
        timeline = self.timeline
        found = [timeline.next_day_ahead(market, now)]
        if self.intraday_auctions:
            today = timeline.delivery_day(market, now)
            later = [
                auction
                for day in (today, today + timedelta(days=1))
                for auction in timeline.intraday_auctions(market, day)
                if now < auction.gate_closure
            ]
            if later:
                found.append(min(later, key=lambda auction: auction.gate_closure))
        return sorted(found, key=lambda auction: auction.gate_closure)

    def last_closed_day_ahead(self, market: str, now: datetime) -> Auction:
        """The day-ahead auction whose gate closed last before ``now``."""
        upcoming = self.timeline.next_day_ahead(market, now)
        day = self.timeline.delivery_day(market, upcoming.delivery_start)
        return self.timeline.day_ahead(market, day - timedelta(days=1))

    def publication(self, market: str, now: datetime) -> PublicationRow:
        """The publication status of the last closed day-ahead auction at ``now``."""
        auction = self.last_closed_day_ahead(market, now)
        assert auction.publication is not None  # a day-ahead auction always publishes
        day = self.timeline.delivery_day(market, auction.delivery_start)
        started = self.started or now
        late_at = max(auction.publication, started) + self.late_grace
        status: PublicationStatus
        if day in self._published.get(market, ()):
            status = "published"
        elif not self.publications:
            status = "untracked"
        else:
            status = "late" if now >= late_at else "awaiting"
        return PublicationRow(
            market=market,
            auction=auction.name,
            delivery_day=day,
            delivery_start=auction.delivery_start,
            delivery_end=auction.delivery_end,
            publication=auction.publication,
            late_at=late_at,
            status=status,
        )

    def snapshot(self, now: datetime) -> CockpitSnapshot:
        """Every market's open auctions with countdowns and orders in, at ``now``."""
        markets = []
        for market in self.markets:
            gates = []
            for auction in self.open_auctions(market, now):
                orders = self.desk.orders_in(
                    market, auction.name, auction.delivery_start, auction.delivery_end
                )
                gates.append(
                    GateRow(
                        market=market,
                        auction=auction.name,
                        product=auction.product.value,
                        delivery_day=self.timeline.delivery_day(market, auction.delivery_start),
                        delivery_start=auction.delivery_start,
                        delivery_end=auction.delivery_end,
                        gate_closure=auction.gate_closure,
                        seconds_to_gate=(auction.gate_closure - now).total_seconds(),
                        strategies=tuple(
                            StrategyOrders(strategy=name, orders=orders.get(name, 0))
                            for name in self.desk.participants(market, auction.name)
                        ),
                    )
                )
            markets.append(
                MarketGates(
                    market=market,
                    timezone=self.timeline.rules(market).timezone,
                    gates=tuple(gates),
                    publication=self.publication(market, now),
                )
            )
        return CockpitSnapshot(
            markets=tuple(markets),
            as_of=now,
            late_grace_minutes=self.late_grace.total_seconds() / 60,
        )

    def _orders(self, auction: Auction) -> set[str]:
        found = self.desk.orders_in(
            auction.market, auction.name, auction.delivery_start, auction.delivery_end
        )
        return {name for name, count in found.items() if count > 0}

    def _zone(self, market: str) -> ZoneInfo:
        return ZoneInfo(self.timeline.rules(market).timezone)


__all__ = ["GateBoard"]
