"""``GET /api/v1/cockpit`` on a real daemon kernel: countdowns, orders in, publication status.

The daemon's runtime hosts a strategy manager (``bidder`` bids day-ahead in DE,
``sleeper`` never bids) and the cockpit component; the route answers what the
cockpit computes at the engine's simulated clock, the in-process and remote
clients answer the same, and bad input is refused naming the parameter.
"""

from __future__ import annotations

from datetime import timedelta

from engine.cockpit.board import GateBoard
from engine.cockpit.component import CockpitComponent
from engine.cockpit.orders import ManagerOrders
from engine.events import PriceKind, PriceTick
from engine.market.timeline import MarketTimeline
from engine.strategies.config import ManagerConfig
from engine.strategies.manager import StrategyManager
from gridtui.client.in_process import InProcessClient
from gridtui.client.remote import RemoteClient
from tests.daemon.conftest import MARKETS, Daemon, DaemonFactory
from tests.daemon.test_routes import body
from tests.engine.test_cockpit import Bidder, Sleeper
from tests.stubs.builders import T0

# T0 is 2024-03-01 12:00 UTC (13:00 CET): the gate for 03-02 closed at 11:00 UTC,
# its results are due at 11:45 UTC; the next gate is 03-02 11:00 UTC.
NEXT_GATE = T0 + timedelta(hours=23)


async def daemon_with_cockpit(make_daemon: DaemonFactory) -> Daemon:
    manager = StrategyManager(
        [Bidder(), Sleeper()], ManagerConfig(price_kind=PriceKind.INTRADAY, id_prefix="t/")
    )
    for name in manager.names:
        manager.start(name, now=T0, actor="test")
    board = GateBoard(MarketTimeline(), MARKETS, ManagerOrders(manager))
    daemon = await make_daemon(extra_components=[manager, CockpitComponent(board)])
    await daemon.push([PriceTick(ts=T0, market="DE", price_eur_mwh=80.0)])
    return daemon


async def test_the_cockpit_route_answers_countdowns_orders_and_publication(
    make_daemon: DaemonFactory,
) -> None:
    daemon = await daemon_with_cockpit(make_daemon)
    found = await body(await daemon.http.get("/api/v1/cockpit"))
    assert [m["market"] for m in found["markets"]] == list(MARKETS)
    assert found["late_grace_minutes"] == 15.0
    de = next(m for m in found["markets"] if m["market"] == "DE")
    assert de["timezone"] == "Europe/Brussels"
    da = next(g for g in de["gates"] if g["auction"] == "DA")
    assert da["gate_closure"] == NEXT_GATE.isoformat().replace("+00:00", "Z")
    assert da["seconds_to_gate"] == 23 * 3600
    assert {s["strategy"]: s["orders"] for s in da["strategies"]} == {"bidder": 1, "sleeper": 0}
    assert de["publication"]["status"] == "awaiting"  # 03-02's results, due 11:45 UTC + grace
    gb = next(m for m in found["markets"] if m["market"] == "GB")
    assert gb["timezone"] == "Europe/London"
    assert [g["auction"] for g in gb["gates"]] == ["DA"]  # GB has no SIDC auctions
    fr = next(m for m in found["markets"] if m["market"] == "FR")
    fr_da = next(g for g in fr["gates"] if g["auction"] == "DA")
    assert [s["strategy"] for s in fr_da["strategies"]] == ["sleeper"]  # bidder trades DE only

    only = await body(await daemon.http.get("/api/v1/cockpit?market=DE"))
    assert [m["market"] for m in only["markets"]] == ["DE"]


async def test_a_bad_market_is_400_naming_it_and_no_cockpit_is_503(
    make_daemon: DaemonFactory,
) -> None:
    daemon = await daemon_with_cockpit(make_daemon)
    bad = await body(await daemon.http.get("/api/v1/cockpit?market=XX"), 400)
    assert "'market'" in bad["error"] and "'XX'" in bad["error"] and "DE" in bad["error"]
    bare = await make_daemon()
    missing = await body(await bare.http.get("/api/v1/cockpit"), 503)
    assert "cockpit" in missing["error"]


async def test_in_process_and_remote_clients_answer_the_same_cockpit(
    make_daemon: DaemonFactory,
) -> None:
    daemon = await daemon_with_cockpit(make_daemon)
    local = await InProcessClient(daemon.settings, daemon.runtime).cockpit()
    remote = RemoteClient(str(daemon.http.make_url("")), token=daemon.token)
    try:
        attached = await remote.cockpit()
    finally:
        await remote.close()
    assert local.as_of == T0 and len(local.markets) == len(MARKETS)
    assert attached == local
