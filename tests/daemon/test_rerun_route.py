"""``POST /api/v1/rerun`` and ``RemoteClient.rerun``: a re-run on the daemon's recording.

The daemon's engine client runs the real re-run (:func:`gridtui.reruns.run_rerun`)
on the daemon's own SQLite store, into which the test records a few hours of
prices and a strategy's live trades.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import msgspec

from engine.backtest.rerun import RerunComparison
from engine.events import PriceKind, PriceTick, Trade
from gridtui.client.protocol import RerunRequest
from gridtui.client.remote import RemoteClient
from gridtui.reruns import run_rerun
from gridtui.settings.daemon import ApiSettings
from tests.daemon.conftest import Daemon, DaemonFactory, UnavailableCommands
from tests.daemon.test_routes import body
from tests.stubs.builders import T0

SINCE = T0 + timedelta(hours=1)


class RerunCommands(UnavailableCommands):
    """An engine client whose re-run is the real one, on the daemon's store."""

    async def rerun(self, request: RerunRequest) -> RerunComparison:
        self.calls.append(("rerun", request))
        return await run_rerun(
            self.settings, self.runtime.store, request, run_id="rr-test", created_at=T0
        )


async def record(daemon: Daemon) -> list[Trade]:
    ticks = [
        PriceTick(
            ts=T0 + timedelta(minutes=5 * i),
            market=market,
            price_eur_mwh=round(60.0 + 25.0 * math.sin(i / 3.0) + 3.0 * j, 2),
            kind=PriceKind.INTRADAY,
            source="test",
        )
        for i in range(48)  # four hours
        for j, market in enumerate(("DE", "FR"))
    ]
    live = [
        Trade(
            ts=SINCE + timedelta(minutes=30 * k),
            trade_id=f"live-{k}",
            strategy="technical",
            market="DE",
            side="buy" if k % 2 == 0 else "sell",
            volume_mwh=10.0,
            price_eur_mwh=61.5,
            fee_eur=0.5,
        )
        for k in range(3)
    ]
    await daemon.runtime.store.write([*ticks, *live])
    return live


async def test_a_rerun_answers_live_beside_rerun_and_needs_the_token(
    make_daemon: DaemonFactory,
) -> None:
    daemon = await make_daemon(commands=RerunCommands)
    live = await record(daemon)
    start = {"since": SINCE.isoformat(), "strategies": ["technical"]}

    await body(await daemon.http.post("/api/v1/rerun", json=start), 401)
    assert daemon.commands.calls == []

    found = await body(
        await daemon.http.post("/api/v1/rerun", json=start, headers=daemon.headers), 200
    )
    comparison = msgspec.convert(found, RerunComparison, strict=False)
    assert comparison.run_id == "rr-test"
    assert datetime.fromisoformat(found["since"]) == SINCE
    (row,) = comparison.strategies
    assert row.strategy == "technical" and row.live_trades == len(live)
    assert row.live_pnl_eur == -1.5  # three fills' fees
    assert row.rerun_trades == len(comparison.rerun_trades)
    assert row.pnl_diff_eur == row.rerun_pnl_eur - row.live_pnl_eur
    assert row.only_live_count + row.same_trades == len(live)
    # Kept like any backtest.
    stored = await daemon.runtime.store.backtest("rr-test")
    assert stored is not None and stored.config["data"].startswith("recording from")

    # Through the remote client, decoded into the engine's own types.
    remote = RemoteClient(str(daemon.http.make_url("")), token=daemon.token)
    try:
        again = await remote.rerun(RerunRequest(since=SINCE, strategies=("technical",)))
    finally:
        await remote.close()
    assert isinstance(again, RerunComparison) and again.strategies == comparison.strategies


async def test_a_reruns_own_settings_change_what_it_trades(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(commands=RerunCommands)
    await record(daemon)
    fast = {
        "technical.indicator": "ma_cross",
        "technical.fast_window": "3",
        "technical.slow_window": "8",
        "technical.volume_mwh": "2.5",
    }
    start = {"since": SINCE.isoformat(), "strategies": ["technical"], "settings": fast}
    found = await body(
        await daemon.http.post("/api/v1/rerun", json=start, headers=daemon.headers), 200
    )
    comparison = msgspec.convert(found, RerunComparison, strict=False)
    fills = [t for t in comparison.rerun_trades if t.side != "settle"]
    # Positions of 2.5 MWh (a flip sells 5), not the default 10.
    assert fills and {t.volume_mwh for t in fills} <= {2.5, 5.0}
    stored = await daemon.runtime.store.backtest("rr-test")
    assert stored is not None and stored.config["rerun"]["settings"] == fast


async def test_bad_reruns_say_which_field_and_what_is_accepted(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(commands=RerunCommands)
    await record(daemon)

    async def refused(payload: dict[str, object], status: int = 422) -> str:
        response = await daemon.http.post("/api/v1/rerun", json=payload, headers=daemon.headers)
        return str((await body(response, status))["error"])

    early = (T0 - timedelta(days=1)).isoformat()
    message = await refused({"since": early, "strategies": ["technical"]})
    assert "since" in message and early in message and "outside the recording" in message
    message = await refused({"since": SINCE.isoformat(), "strategies": ["nope"]})
    assert "nope" in message and "technical" in message
    message = await refused({"since": SINCE.isoformat(), "strategies": []})
    assert "strategies" in message
    message = await refused(
        {"since": SINCE.isoformat(), "strategies": ["technical"], "settings": {"technical.x": "1"}}
    )
    assert "technical.x" in message and "indicator" in message  # names the fields there are
    message = await refused(
        {
            "since": SINCE.isoformat(),
            "strategies": ["technical"],
            "settings": {"technical.indicator": "tea leaves"},
        }
    )
    assert "technical.indicator" in message and "tea leaves" in message
    assert "one of bollinger, ma_cross, rsi" in message
    message = await refused({"since": "2024-03-01T13:00:00", "strategies": ["technical"]})
    assert "since" in message and "time zone" in message
    assert await refused({"since": "tomorrow", "strategies": ["technical"]})


async def test_an_engine_without_a_backtester_answers_503(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(commands=UnavailableCommands)
    start = {"since": SINCE.isoformat(), "strategies": ["technical"]}
    found = await body(
        await daemon.http.post("/api/v1/rerun", json=start, headers=daemon.headers), 503
    )
    assert "nothing was run" in found["error"]


class BusyCommands(RerunCommands):
    """As many backtests running as the daemon allows."""

    running_backtests = ApiSettings().max_running_backtests


async def test_a_rerun_counts_against_the_backtest_cap(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(commands=BusyCommands)
    await record(daemon)
    start = {"since": SINCE.isoformat(), "strategies": ["technical"]}
    found = await body(
        await daemon.http.post("/api/v1/rerun", json=start, headers=daemon.headers), 429
    )
    assert "api.max_running_backtests" in found["error"] and found["running"] >= 1
    assert daemon.commands.calls == []
