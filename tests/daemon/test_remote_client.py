"""RemoteClient: a dashboard's EngineClient over the daemon's HTTP + WebSocket API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date

import pytest

from engine.events import Event, PriceKind, PriceTick, SpreadOpportunity
from gridtui.client.protocol import BacktestRequest, NotAvailable
from gridtui.client.remote import RemoteAuthError, RemoteClient
from tests.daemon.conftest import Daemon, DaemonFactory, UnavailableCommands, until
from tests.daemon.test_routes import spread_ticks
from tests.stubs.builders import tick


@pytest.fixture
async def remote(daemon: Daemon) -> AsyncIterator[RemoteClient]:
    client = RemoteClient(
        str(daemon.http.make_url("")),
        token=daemon.token,
        reconnect_initial_s=0.05,
        stats_interval_s=0.05,
    )
    yield client
    await client.close()


async def events_until(
    client: RemoteClient, predicate: Callable[[list[Event]], bool], within_s: float = 5.0
) -> list[Event]:
    found: list[Event] = []
    async with asyncio.timeout(within_s):
        while not predicate(found):
            found.extend(await client.next_events(timeout=0.5))
    return found


async def test_info_history_and_live_events(daemon: Daemon, remote: RemoteClient) -> None:
    await daemon.push(spread_ticks())
    await remote.start()
    assert remote.info.markets == ("DE", "FR", "NL", "BE", "AT", "GB")
    assert remote.info.store == "sqlite" and "via http://" in remote.info.bus
    assert remote.transmission_costs()[("DE", "FR")] == 1.0
    latest = await remote.latest_prices()
    assert latest["FR"].price_eur_mwh == 95.0 and isinstance(latest["FR"], PriceTick)
    history = await remote.price_history("DE", limit=5000, kind=PriceKind.INTRADAY)
    assert [t.price_eur_mwh for t in history] == [40.0]
    await asyncio.wait_for(remote.connected.wait(), 5)
    sent = [tick("DE", 45.0, seconds=30), tick("FR", 99.0, seconds=30)]
    await daemon.push(sent)
    got = await events_until(
        remote, lambda found: sum(isinstance(e, PriceTick) for e in found) >= 2
    )
    assert [e for e in got if isinstance(e, PriceTick)] == sent  # decoded into engine types
    assert any(isinstance(e, SpreadOpportunity) for e in got)
    await until(lambda: not (remote.stats().events_in < 8), 3)
    assert remote.stats().store_up


async def test_commands_go_through_the_authenticated_api(
    daemon: Daemon, remote: RemoteClient
) -> None:
    await remote.connect()
    await remote.toggle_strategy("alpha", True)
    await remote.stop_all_strategies()
    run_id = await remote.start_backtest(
        BacktestRequest(start=date(2024, 1, 1), end=date(2024, 1, 2), strategies=("alpha",))
    )
    assert run_id.startswith("bt-")
    assert [name for name, _ in daemon.commands.calls] == [
        "toggle_strategy",
        "stop_all_strategies",
        "start_backtest",
    ]
    with pytest.raises(KeyError):
        await remote.toggle_strategy("zeta", True)
    with pytest.raises(ValueError, match="before"):
        await remote.start_backtest(
            BacktestRequest(start=date(2024, 1, 2), end=date(2024, 1, 1), strategies=("alpha",))
        )
    assert await remote.backtest_metrics("nope") == {}
    anonymous = RemoteClient(str(daemon.http.make_url("")))
    wrong = RemoteClient(str(daemon.http.make_url("")), token="wrong")
    try:
        with pytest.raises(RemoteAuthError, match="API token"):
            await anonymous.stop_all_strategies()
        with pytest.raises(RemoteAuthError, match="refused"):
            await wrong.stop_all_strategies()
    finally:
        await anonymous.close()
        await wrong.close()


async def test_missing_engine_parts_are_not_available(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(commands=UnavailableCommands)
    client = RemoteClient(str(daemon.http.make_url("")), token=daemon.token)
    try:
        with pytest.raises(NotAvailable, match="strategy engine"):
            await client.toggle_strategy("alpha", True)
        with pytest.raises(NotAvailable, match="backtest engine"):
            await client.start_backtest(
                BacktestRequest(start=date(2024, 1, 1), end=date(2024, 1, 2), strategies=("a",))
            )
    finally:
        await client.close()


async def test_an_unreachable_daemon_is_a_connection_error() -> None:
    client = RemoteClient("http://127.0.0.1:9", timeout_s=2)
    try:
        with pytest.raises(ConnectionError, match="unreachable"):
            await client.connect()
    finally:
        await client.close()


async def test_it_reconnects_when_the_daemon_drops_the_socket(
    daemon: Daemon, remote: RemoteClient
) -> None:
    from gridtui.daemon.keys import HUB

    await remote.start()
    await asyncio.wait_for(remote.connected.wait(), 5)
    await daemon.app[HUB].close_all()
    await until(
        lambda: (
            remote.reconnects > 0 and remote.connected.is_set() and bool(daemon.app[HUB].clients)
        )
    )
    await daemon.push([tick("NL", 70.0, seconds=40)])
    got = await events_until(remote, lambda found: any(isinstance(e, PriceTick) for e in found))
    assert any(isinstance(e, PriceTick) and e.market == "NL" for e in got)


async def test_the_dashboard_runs_on_a_remote_daemon(daemon: Daemon) -> None:
    """Same panes and keys: prices arrive over the socket, K reaches the daemon's engine."""
    from gridtui.tui.app import GridApp
    from gridtui.tui.widgets.price_table import PriceTable

    await daemon.push(spread_ticks())
    client = RemoteClient(
        str(daemon.http.make_url("")), token=daemon.token, reconnect_initial_s=0.05
    )
    await client.connect()
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        async with asyncio.timeout(10):
            while not app.dashboard.snapshot.markets:
                await pilot.pause(0.05)
        await asyncio.wait_for(client.connected.wait(), 5)
        await daemon.push([tick("GB", 123.0, seconds=50)])
        table = app.dashboard.query_one(PriceTable)
        async with asyncio.timeout(10):
            while "123" not in table.cell_text("GB", "price"):
                await pilot.pause(0.05)
        await pilot.press("K")
        async with asyncio.timeout(5):
            while ("stop_all_strategies", None) not in daemon.commands.calls:
                await pilot.pause(0.05)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
