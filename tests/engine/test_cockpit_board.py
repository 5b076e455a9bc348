"""GateBoard on its own: what it judges and when, at the edges of its time.

Hand-computed instants on the real timeline and a real strategy manager, and a
Hypothesis property over any instant of 2024-2027 (DST switches included).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.cockpit.board import GateBoard
from engine.cockpit.orders import ManagerOrders, NoOrders
from engine.events import Alert, PriceKind, PriceTick
from engine.market.timeline import MarketTimeline
from engine.strategies.config import ManagerConfig
from engine.strategies.manager import StrategyManager
from tests.engine.test_cockpit import GATE, TODAY, Sleeper, day_ahead

MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")


def sleeper_board(start: datetime) -> tuple[GateBoard, StrategyManager]:
    manager = StrategyManager([Sleeper()], ManagerConfig(price_kind=PriceKind.INTRADAY))
    manager.start("sleeper", now=start, actor="test")
    return GateBoard(MarketTimeline(), ("DE",), ManagerOrders(manager)), manager


def rules(alerts: Sequence[Alert]) -> list[str]:
    return [a.rule for a in alerts]


def test_a_gate_that_closed_before_the_board_looked_is_not_judged() -> None:
    board, _ = sleeper_board(GATE)
    board.observe(day_ahead(TODAY))
    assert rules(board.advance(GATE + timedelta(minutes=1))) == []
    assert rules(board.advance(GATE + timedelta(days=1, minutes=1))) == ["gate_missed"]


def test_a_strategy_stopped_before_the_gate_is_not_expected_there() -> None:
    start = GATE - timedelta(hours=1)
    board, manager = sleeper_board(start)
    board.observe(day_ahead(TODAY))
    board.advance(start)
    manager.stop("sleeper", now=GATE - timedelta(minutes=5), actor="test")
    board.advance(GATE - timedelta(minutes=4))
    assert rules(board.advance(GATE + timedelta(minutes=1))) == []


def test_an_engine_started_late_gives_the_feed_a_grace_before_results_are_late() -> None:
    start = GATE + timedelta(hours=6)  # 18:00 CET: tomorrow's results were due at 12:45
    board, _ = sleeper_board(start)
    assert rules(board.advance(start)) == []
    assert board.publication("DE", start).status == "awaiting"
    late = board.advance(start + timedelta(minutes=15))
    assert rules(late) == ["publication_late"]
    assert board.publication("DE", start + timedelta(minutes=15)).status == "late"


def test_gb_closes_at_eleven_london_time_and_publishes_at_eleven_fifty() -> None:
    board = GateBoard(MarketTimeline(), ("GB",), NoOrders())
    now = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # 10:00 BST
    (gb,) = board.snapshot(now).markets
    assert gb.timezone == "Europe/London" and [g.auction for g in gb.gates] == ["DA"]
    assert gb.gates[0].gate_closure == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert gb.gates[0].seconds_to_gate == 3600
    # Nothing seen yet, but the board has only just started: the feed gets its grace.
    assert gb.publication is not None and gb.publication.status == "awaiting"
    assert gb.publication.publication == datetime(2026, 6, 30, 10, 50, tzinfo=UTC)  # 11:50 BST
    assert gb.publication.late_at == now + timedelta(minutes=15)
    board.observe(
        [PriceTick(ts=datetime(2026, 6, 30, 22, tzinfo=UTC), market="GB", price_eur_mwh=80.0,
                   kind=PriceKind.DAY_AHEAD, delivery_minutes=60)]
    )  # fmt: skip
    assert board.publication("GB", now).status == "published"


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2027, 12, 31),
        timezones=st.just(UTC),
    )
)
def test_every_instant_has_each_market_s_next_gates_ahead_and_its_last_closed_behind(
    now: datetime,
) -> None:
    timeline = MarketTimeline()
    board = GateBoard(timeline, MARKETS, NoOrders())
    for market in board.snapshot(now).markets:
        day_ahead_rows = [g for g in market.gates if g.auction == "DA"]
        assert len(day_ahead_rows) == 1
        assert (
            day_ahead_rows[0].gate_closure
            == timeline.next_day_ahead(market.market, now).gate_closure
        )
        for gate in market.gates:
            assert 0 < gate.seconds_to_gate <= 25 * 3600 + 1
            assert gate.seconds_to_gate == (gate.gate_closure - now).total_seconds()
        assert [g.gate_closure for g in market.gates] == sorted(
            g.gate_closure for g in market.gates
        )
        last = board.last_closed_day_ahead(market.market, now)
        publication = market.publication
        assert publication is not None
        after = timeline.day_ahead(market.market, publication.delivery_day + timedelta(days=1))
        assert last.gate_closure <= now < after.gate_closure
