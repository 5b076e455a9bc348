"""``POST /api/v1/backtest/start`` over days the price file lacks: 422 naming the file's range."""

from __future__ import annotations

from pathlib import Path

import msgspec

from gridtui.client.in_process import InProcessClient
from gridtui.client.protocol import BacktestRequest
from tests.daemon.conftest import DaemonFactory, FakeCommands
from tests.engine.test_backtest import write_prices


class ReplayBacktests(FakeCommands):
    """Starts backtests as the daemon's own engine client does, on a price file."""

    async def start_backtest(self, request: BacktestRequest) -> str:
        prices = write_prices(Path(self.settings.data_dir).parent / "prices.parquet", days=3)
        settings = msgspec.structs.replace(
            self.settings,
            markets=("DE", "FR", "NL"),
            feed=msgspec.structs.replace(self.settings.feed, path=str(prices)),
        )
        return await InProcessClient(settings, self.runtime).start_backtest(request)


async def test_the_api_refuses_a_window_outside_the_price_file(
    make_daemon: DaemonFactory,
) -> None:
    daemon = await make_daemon(commands=ReplayBacktests)
    body = {"start": "2030-01-01", "end": "2030-01-02", "strategies": ["mining"], "data": "replay"}
    response = await daemon.http.post("/api/v1/backtest/start", json=body, headers=daemon.headers)
    assert response.status == 422
    error = (await response.json())["error"]
    assert "no prices from 2030-01-01 to 2030-01-02" in error
    assert "it covers 2021-01-04 00:00 to 2021-01-06 23:00 UTC" in error
    assert await daemon.runtime.store.backtests(10) == []
