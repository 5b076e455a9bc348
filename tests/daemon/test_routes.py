"""Every REST route of the daemon, through aiohttp's test client, on a real engine."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from engine.events import (
    BacktestProgress,
    BatteryState,
    Forecast,
    OpenPosition,
    PriceKind,
    PriceTick,
    StrategyStatus,
    Trade,
)
from engine.store.base import BacktestRecord
from gridtui.client.protocol import BacktestRequest
from gridtui.daemon.state import TrainRequest
from gridtui.settings.daemon import ApiSettings
from models.registry import ModelMeta, Registry
from tests.daemon.conftest import Daemon, DaemonFactory, UnavailableCommands, until
from tests.stubs.builders import T0, tick


def spread_ticks(seconds: float = 0.0) -> list[PriceTick]:
    """Six markets; FR dear, DE cheap: DE→FR opens."""
    prices = {"DE": 40.0, "FR": 95.0, "NL": 52.0, "BE": 50.0, "AT": 44.0, "GB": 60.0}
    return [tick(m, p, seconds=seconds) for m, p in prices.items()]


async def body(response, status: int = 200):
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


# -- InTheGrid ------------------------------------------------------------------------


async def test_health_is_healthy_and_says_what_runs(daemon: Daemon) -> None:
    await daemon.push(spread_ticks())
    found = await body(await daemon.http.get("/health"))
    assert found["status"] == "healthy"
    assert found["service"] == "gridtui daemon"
    assert found["feed"]["source"] == "queue" and found["feed"]["events_total"] == 6
    assert found["store"] == {
        "backend": "sqlite",
        "up": True,
        "pending": 0,
        "written": found["store"]["written"],
        "spilled": 0,
        "last_error": "",
    }
    assert found["bus"]["backend"] == "memory" and found["bus"]["up"]
    assert found["components"] == ["spreads", "alerts"]


async def test_health_degrades_with_the_store_and_fails_when_the_kernel_stops(
    daemon: Daemon,
) -> None:
    daemon.runtime.writer.stats.store_up = False
    daemon.runtime.writer.stats.last_error = "connection refused"
    found = await body(await daemon.http.get("/health"))
    assert found["status"] == "degraded"
    assert found["store"]["last_error"] == "connection refused"
    daemon.runtime.writer.stats.store_up = True
    daemon.runtime.kernel.stats.stopped_monotonic = 1.0
    found = await body(await daemon.http.get("/health"), 503)
    assert found["status"] == "unhealthy"


async def test_latest_prices(daemon: Daemon) -> None:
    await daemon.push(spread_ticks())
    await daemon.push([tick("DE", 41.5, seconds=10)])
    found = await body(await daemon.http.get("/api/prices/latest"))
    assert found["count"] == 6
    by_market = {row["market"]: row for row in found["markets"]}
    assert by_market["DE"]["price"] == 41.5
    assert by_market["DE"]["timestamp"].startswith("2024-03-01T12:00:10")
    assert by_market["DE"]["kind"] == "intraday"
    day_ahead = await body(await daemon.http.get("/api/prices/latest?kind=day_ahead"))
    assert day_ahead["count"] == 0
    bad = await body(await daemon.http.get("/api/prices/latest?kind=spot"), 400)
    assert "kind" in bad["error"] and "intraday" in bad["error"] and bad["status"] == 400


async def test_spread_opportunities_best_first(daemon: Daemon) -> None:
    await daemon.push(spread_ticks())
    found = await body(await daemon.http.get("/api/spreads/opportunities"))
    assert found["count"] >= 2
    nets = [row["net_opportunity"] for row in found["opportunities"]]
    assert nets == sorted(nets, reverse=True)
    best = found["opportunities"][0]
    assert best["market_pair"] == "DE-FR" and best["low_market"] == "DE"
    assert best["spread"] == pytest.approx(55.0) and best["net_opportunity"] == pytest.approx(54.0)
    assert best["strategy"].startswith("Buy in DE at €40.00, sell in FR at €95.00")
    limited = await body(await daemon.http.get("/api/spreads/opportunities?limit=1&min_net=50"))
    assert limited["count"] == 1
    bad = await body(await daemon.http.get("/api/spreads/opportunities?limit=0"), 400)
    assert "limit" in bad["error"]


async def test_price_history_newest_first_with_stats(daemon: Daemon) -> None:
    await daemon.push([tick("FR", float(p), seconds=p) for p in (10, 20, 30)])
    found = await body(await daemon.http.get("/api/prices/history/FR?limit=2"))
    assert [row["price"] for row in found["history"]] == [30.0, 20.0]
    assert found["stats"] == {
        "latest": 30.0,
        "average": 25.0,
        "min": 20.0,
        "max": 30.0,
        "samples": 2,
    }
    lower = await body(await daemon.http.get("/api/prices/history/fr"))
    assert lower["market"] == "FR" and len(lower["history"]) == 3
    empty = await body(await daemon.http.get("/api/prices/history/GB"))
    assert empty["history"] == [] and empty["stats"] is None
    missing = await body(await daemon.http.get("/api/prices/history/XX"), 404)
    assert "XX" in missing["error"] and "DE" in missing["error"]
    too_many = await body(await daemon.http.get("/api/prices/history/FR?limit=1001"), 400)
    assert "1..1000" in too_many["error"]
    not_a_number = await body(await daemon.http.get("/api/prices/history/FR?limit=ten"), 400)
    assert "integer" in not_a_number["error"]


# -- /api/v1/dashboard ----------------------------------------------------------------


async def test_dashboard_summary(daemon: Daemon) -> None:
    await daemon.push(spread_ticks())
    await daemon.publish(
        [StrategyStatus(ts=T0, strategy="alpha", state="running", pnl_eur=12.5, trades=3)]
    )
    found = await body(await daemon.http.get("/api/v1/dashboard/summary"))
    assert found["latest_prices_eur_mwh"]["FR"] == 95.0
    assert found["open_opportunities"] >= 2
    assert found["best_opportunity"]["type"] == "SpreadOpportunity"
    assert found["best_opportunity"]["buy_market"] == "DE"
    assert found["strategies_running"] == 1 and found["strategies_pnl_eur"] == 12.5
    assert found["recent_alerts"][0]["rule"] == "arbitrage"  # DE→FR at €54 net
    assert found["feed"]["state"] == "up" and found["store"]["up"]


async def test_dashboard_prices_and_history_are_engine_events(daemon: Daemon) -> None:
    await daemon.push(spread_ticks())
    await daemon.push([tick("DE", 42.0, seconds=60, kind=PriceKind.DAY_AHEAD)])
    found = await body(await daemon.http.get("/api/v1/dashboard/prices"))
    assert [p["market"] for p in found["prices"]] == ["DE", "FR", "NL", "BE", "AT", "GB"]
    assert found["prices"][0]["type"] == "PriceTick"
    history = await body(
        await daemon.http.get("/api/v1/dashboard/prices/history?market=DE&kind=day_ahead")
    )
    assert [p["price_eur_mwh"] for p in history["prices"]] == [42.0]
    window = await body(
        await daemon.http.get(
            "/api/v1/dashboard/prices/history",
            params={"market": "DE", "start": "2024-03-01T12:00:30Z", "end": "2024-03-01T13:00:00"},
        )
    )
    assert window["count"] == 1
    missing = await body(await daemon.http.get("/api/v1/dashboard/prices/history"), 400)
    assert "market" in missing["error"]
    backwards = await body(
        await daemon.http.get(
            "/api/v1/dashboard/prices/history",
            params={"market": "DE", "start": "2024-03-02T00:00:00Z", "end": "2024-03-01T00:00:00Z"},
        ),
        400,
    )
    assert "before" in backwards["error"]
    bad_time = await body(
        await daemon.http.get("/api/v1/dashboard/prices/history?market=DE&start=yesterday"), 400
    )
    assert "ISO 8601" in bad_time["error"]


async def test_dashboard_battery_needs_batteries(daemon: Daemon) -> None:
    missing = await body(await daemon.http.get("/api/v1/dashboard/battery"), 503)
    assert "arrives with" in missing["error"] and "battery" in missing["error"]
    state = BatteryState(
        ts=T0,
        battery_id="bess-1",
        market="DE",
        soc_mwh=1.0,
        soc_fraction=0.5,
        power_mw=0.5,
        mode="discharging",
    )
    await daemon.publish([state])
    found = await body(await daemon.http.get("/api/v1/dashboard/battery"))
    assert found["count"] == 1 and found["batteries"][0]["battery_id"] == "bess-1"


async def test_dashboard_arbitrage(daemon: Daemon) -> None:
    await daemon.push(spread_ticks())
    found = await body(await daemon.http.get("/api/v1/dashboard/arbitrage?limit=2"))
    assert found["count"] == 2
    assert found["opportunities"][0]["type"] == "SpreadOpportunity"
    assert found["opportunities"][0]["net_spread_eur_mwh"] == pytest.approx(54.0)


# -- /api/v1/backtest -----------------------------------------------------------------


async def test_backtest_start_validates_and_queues(daemon: Daemon) -> None:
    start = {"start": "2024-01-01", "end": "2024-01-07", "strategies": ["alpha"]}
    unauthorised = await body(await daemon.http.post("/api/v1/backtest/start", json=start), 401)
    assert "bearer token" in unauthorised["error"]
    found = await body(
        await daemon.http.post("/api/v1/backtest/start", json=start, headers=daemon.headers), 202
    )
    assert found["run_id"] == "bt-001"
    assert found["status_url"] == "/api/v1/backtest/status/bt-001"
    [(name, request)] = daemon.commands.calls
    assert name == "start_backtest" and isinstance(request, BacktestRequest)
    assert request.start == date(2024, 1, 1)
    for wrong, status, words in [
        ({**start, "end": "2023-12-31"}, 422, "before"),
        ({**start, "strategies": []}, 422, "at least one"),
        ({**start, "data": "csv"}, 422, "data"),
        ({**start, "extra": 1}, 422, "extra"),
        ({**start, "start": "monday"}, 422, "start"),
        ({**start, "strategies": ["nope"]}, 422, "nope"),
    ]:
        refused = await body(
            await daemon.http.post("/api/v1/backtest/start", json=wrong, headers=daemon.headers),
            status,
        )
        assert words in refused["error"], refused
    not_json = await body(
        await daemon.http.post("/api/v1/backtest/start", data=b"{", headers=daemon.headers), 400
    )
    assert "JSON" in not_json["error"]


async def test_backtest_start_without_a_backtester_is_503(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(commands=UnavailableCommands)
    start = {"start": "2024-01-01", "end": "2024-01-07", "strategies": ["alpha"]}
    found = await body(
        await daemon.http.post("/api/v1/backtest/start", json=start, headers=daemon.headers), 503
    )
    assert "arrive with the backtest engine" in found["error"]


async def test_backtest_status_results_trades_history_delete(daemon: Daemon) -> None:
    store = daemon.runtime.store
    record = BacktestRecord(
        run_id="bt-7",
        created_at=T0,
        state="finished",
        config={"strategies": ["alpha"]},
        metrics={"sharpe": 1.4, "pnl_eur": 1200.0},
        equity_curve=[(T0, 0.0), (T0 + timedelta(hours=1), 1200.0)],
    )
    await store.save_backtest(record)
    trade = Trade(
        ts=T0,
        trade_id="t1",
        strategy="alpha",
        market="DE",
        side="buy",
        volume_mwh=1.0,
        price_eur_mwh=40.0,
    )
    await store.save_backtest_trades("bt-7", [trade])
    status = await body(await daemon.http.get("/api/v1/backtest/status/bt-7"))
    assert status["state"] == "finished" and status["percent"] == 100.0
    await daemon.publish(
        [
            BacktestProgress(
                ts=T0,
                run_id="bt-8",
                state="running",
                percent=40.0,
                events_done=4,
                events_total=10,
                eta_s=3.0,
            )
        ]
    )
    running = await body(await daemon.http.get("/api/v1/backtest/status/bt-8"))
    assert running["percent"] == 40.0 and running["eta_s"] == 3.0
    results = await body(await daemon.http.get("/api/v1/backtest/results/bt-7"))
    assert results["metrics"] == {"sharpe": 1.4, "pnl_eur": 1200.0}
    assert len(results["equity_curve"]) == 2
    trades = await body(await daemon.http.get("/api/v1/backtest/trades/bt-7"))
    assert trades["count"] == 1 and trades["trades"][0]["trade_id"] == "t1"
    history = await body(await daemon.http.get("/api/v1/backtest/history?limit=5"))
    assert [run["run_id"] for run in history["runs"]] == ["bt-7"]
    for path in ("status", "results", "trades"):
        await body(await daemon.http.get(f"/api/v1/backtest/{path}/nope"), 404)
    refused = await daemon.http.delete("/api/v1/backtest/bt-7")
    assert refused.status == 401
    deleted = await daemon.http.delete("/api/v1/backtest/bt-7", headers=daemon.headers)
    assert deleted.status == 204
    await body(await daemon.http.delete("/api/v1/backtest/bt-7", headers=daemon.headers), 404)


# -- /api/v1/models --------------------------------------------------------------------


async def test_models_list_and_metrics(daemon: Daemon) -> None:
    registry = Registry(daemon.tmp / "data" / "models", shipped=None)
    registry.save(
        ModelMeta(
            model_id="forecast-intraday-test",
            kind="forecast",
            task="intraday",
            markets=("DE",),
            metrics={"mae": 4.2},
            created=T0,
        ),
        {"model": b"not really onnx"},
    )
    registry.promote("forecast-intraday-test")
    found = await body(await daemon.http.get("/api/v1/models?kind=forecast"))
    mine = [m for m in found["models"] if m["model_id"] == "forecast-intraday-test"]
    assert mine and mine[0]["promoted"] and mine[0]["metrics"] == {"mae": 4.2}
    metrics = await body(await daemon.http.get("/api/v1/models/metrics/forecast-intraday-test"))
    assert metrics["metrics"] == {"mae": 4.2} and metrics["task"] == "intraday"
    await body(await daemon.http.get("/api/v1/models/metrics/nope"), 404)
    await body(await daemon.http.get("/api/v1/models?kind=weather"), 400)


async def test_models_train_without_a_trainer_is_503(daemon: Daemon) -> None:
    found = await body(
        await daemon.http.post(
            "/api/v1/models/train", json={"kind": "forecast"}, headers=daemon.headers
        ),
        503,
    )
    assert "no model trainer" in found["error"] and "gridtui train" in found["error"]
    await body(await daemon.http.get("/api/v1/models/status/train-0001"), 404)


async def test_models_train_runs_a_job(make_daemon: DaemonFactory) -> None:
    async def trainer(request: TrainRequest, progress) -> str:
        progress(50.0, "half way")
        return f"{request.kind}-{request.task}-v1"

    daemon = await make_daemon(trainer=trainer)
    started = await body(
        await daemon.http.post(
            "/api/v1/models/train",
            json={"kind": "forecast", "task": "dayahead"},
            headers=daemon.headers,
        ),
        202,
    )
    for _ in range(100):
        job = await body(await daemon.http.get(started["status_url"]))
        if job["state"] == "finished":
            break
    assert job["model_id"] == "forecast-dayahead-v1" and job["percent"] == 100.0
    bad = await body(
        await daemon.http.post(
            "/api/v1/models/train",
            json={"kind": "forecast", "markets": ["XX"]},
            headers=daemon.headers,
        ),
        422,
    )
    assert "XX" in bad["error"]


async def test_models_predict_from_live_forecasts(daemon: Daemon) -> None:
    missing = await body(await daemon.http.get("/api/v1/models/predict?market=DE"), 503)
    assert "arrive with XGBoost forecasting" in missing["error"]
    forecasts = [
        Forecast(
            ts=T0,
            market="DE",
            target_ts=T0 + timedelta(minutes=15 * h),
            horizon_steps=h,
            price_eur_mwh=50.0 + h,
            model_id="forecast-intraday-1",
        )
        for h in (1, 2, 8)
    ]
    await daemon.publish(forecasts)
    found = await body(await daemon.http.get("/api/v1/models/predict?market=DE&horizon=4"))
    assert found["source"] == "live"
    assert [f["horizon_steps"] for f in found["forecasts"]] == [1, 2]
    await body(await daemon.http.get("/api/v1/models/predict?market=DE&horizon=0"), 400)
    await body(await daemon.http.get("/api/v1/models/predict"), 400)


# -- /api/v1/trading --------------------------------------------------------------------


async def test_strategies_toggle_and_stop_all(daemon: Daemon) -> None:
    missing = await body(await daemon.http.get("/api/v1/trading/strategies"), 503)
    assert "strategies arrive with the strategy engine" in missing["error"]
    toggled = await body(
        await daemon.http.post(
            "/api/v1/trading/strategies/alpha/toggle", json={"on": True}, headers=daemon.headers
        )
    )
    assert toggled == {"strategy": "alpha", "on": True, "accepted": True}
    await until(lambda: "alpha" in daemon.engine.live.strategies, 2)
    listed = await body(await daemon.http.get("/api/v1/trading/strategies"))
    assert [s["strategy"] for s in listed["strategies"]] == ["alpha"]
    assert listed["strategies"][0]["state"] == "running"
    unknown = await body(
        await daemon.http.post(
            "/api/v1/trading/strategies/gamma/toggle", json={"on": True}, headers=daemon.headers
        ),
        404,
    )
    assert "gamma" in unknown["error"]
    await body(
        await daemon.http.post(
            "/api/v1/trading/strategies/alpha/toggle", json={"on": "yes"}, headers=daemon.headers
        ),
        422,
    )
    stopped = await body(await daemon.http.post("/api/v1/trading/stop-all", headers=daemon.headers))
    assert stopped == {"accepted": True}
    assert ("stop_all_strategies", None) in daemon.commands.calls


async def test_toggle_without_strategy_engine_is_503(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(commands=UnavailableCommands)
    found = await body(
        await daemon.http.post(
            "/api/v1/trading/strategies/alpha/toggle", json={"on": False}, headers=daemon.headers
        ),
        503,
    )
    assert "arrive with the strategy engine" in found["error"]
    await body(await daemon.http.post("/api/v1/trading/stop-all", headers=daemon.headers), 503)


async def test_positions_are_the_undelivered_ones_with_their_delivery_periods(
    daemon: Daemon,
) -> None:
    await body(await daemon.http.get("/api/v1/trading/positions"), 503)
    held = OpenPosition(
        market="BE",
        product="day_ahead",
        delivery_start=T0 + timedelta(hours=13),
        delivery_minutes=60,
        net_mwh=800.0,
        average_price_eur_mwh=41.5,
    )
    await daemon.publish(
        [StrategyStatus(ts=T0, strategy="alpha", state="running", pnl_eur=-3.0, positions=(held,))]
    )
    found = await body(await daemon.http.get("/api/v1/trading/positions"))
    assert found["positions"] == [
        {
            "strategy": "alpha",
            "market": "BE",
            "product": "day_ahead",
            "delivery_start": (T0 + timedelta(hours=13)).isoformat().replace("+00:00", "Z"),
            "delivery_end": (T0 + timedelta(hours=14)).isoformat().replace("+00:00", "Z"),
            "net_mwh": 800.0,
            "average_price_eur_mwh": 41.5,
            "book": "",
        }
    ]
    assert found["strategy_pnl_eur"] == {"alpha": -3.0}
    # Delivered and settled: the next status lists nothing, and neither does the route.
    await daemon.publish(
        [StrategyStatus(ts=T0 + timedelta(hours=14), strategy="alpha", state="running")]
    )
    assert (await body(await daemon.http.get("/api/v1/trading/positions")))["positions"] == []


async def test_market_timeline_says_what_can_be_traded_now_and_until_when(
    daemon: Daemon,
) -> None:
    found = await body(await daemon.http.get("/api/v1/market/timeline?market=de"))
    (de,) = found["markets"]
    assert de["market"] == "DE" and de["timezone"] == "Europe/Brussels"
    now = datetime.fromisoformat(found["now"])
    gate = datetime.fromisoformat(de["next_day_ahead_gate_closure"])
    assert now < gate <= now + timedelta(days=1)
    day_ahead = next(w for w in de["tradable"] if w["product"] == "day_ahead")
    assert day_ahead["closes_at"] == de["next_day_ahead_gate_closure"]
    assert day_ahead["closes_at_local"].endswith(("T12:00:00+01:00", "T12:00:00+02:00"))
    assert all(w["closes_in_s"] > 0 for w in de["tradable"])
    unknown = await body(await daemon.http.get("/api/v1/market/timeline?market=XX"), 404)
    assert "known markets" in unknown["error"]


# -- /api/v1/settings, engine, alerts, metrics ------------------------------------------


async def test_settings_get_masks_secrets_and_patch_changes_alert_rules(
    make_daemon: DaemonFactory,
) -> None:
    daemon = await make_daemon(api=ApiSettings(rate_limit_per_s=0, token="sekrit-client-token"))
    found = await body(await daemon.http.get("/api/v1/settings"))
    assert found["settings"]["api"]["token"] == "***"
    assert found["settings"]["alerts"]["spike_sigma"] == 4.0
    patch = {"alerts": {"spike_sigma": 6.5, "cooldown_s": 30}}
    refused = await body(await daemon.http.patch("/api/v1/settings", json=patch), 401)
    assert refused["status"] == 401
    changed = await body(
        await daemon.http.patch("/api/v1/settings", json=patch, headers=daemon.headers)
    )
    assert changed["settings"]["alerts"]["spike_sigma"] == 6.5
    alerts = daemon.engine.alerts
    assert (
        alerts is not None and alerts.config.spike_sigma == 6.5 and alerts.config.cooldown_s == 30
    )
    for wrong, words in [
        ({"alerts": {"spike_sigma": -1}}, "spike_sigma"),
        ({"alerts": {"webhook_url": "http://x"}}, "webhook_url"),
        ({"store": {"url": "sqlite"}}, "store"),
        ({"alerts": {}}, "nothing to change"),
        ({"alerts": {"battery_low_fraction": 0.95}}, "battery_low_fraction"),
    ]:
        refused = await body(
            await daemon.http.patch("/api/v1/settings", json=wrong, headers=daemon.headers), 422
        )
        assert words in refused["error"], refused


async def test_engine_info_stats_and_alerts(daemon: Daemon) -> None:
    await daemon.push(spread_ticks())
    info = await body(await daemon.http.get("/api/v1/engine/info"))
    assert info["markets"] == ["DE", "FR", "NL", "BE", "AT", "GB"]
    assert {"from_market": "DE", "to_market": "FR", "cost_eur_mwh": 1.0} in info[
        "transmission_costs"
    ]
    stats = await body(await daemon.http.get("/api/v1/engine/stats"))
    assert stats["events_in"] == 6 and stats["pending"] == 0 and stats["store_up"]
    alerts = await body(await daemon.http.get("/api/v1/alerts?limit=10"))
    assert alerts["count"] >= 1 and alerts["alerts"][0]["rule"] == "arbitrage"


async def test_metrics_are_prometheus_text(daemon: Daemon) -> None:
    await daemon.push(spread_ticks())
    await daemon.http.get("/health")
    response = await daemon.http.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    for name in (
        "gridtui_events_total 6.0",
        "gridtui_store_queue_depth",
        "gridtui_event_loop_lag_seconds",
        "gridtui_events_per_second",
        'gridtui_opportunities_total{status="opened"}',
        'gridtui_alerts_total{rule="arbitrage",severity="info"}',
        "gridtui_feed_rejected_total",
        'gridtui_http_requests_total{method="GET",route="/health",status="200"} 1.0',
    ):
        assert name in text, name


async def test_unknown_routes_and_methods_answer_json(daemon: Daemon) -> None:
    missing = await body(await daemon.http.get("/api/nope"), 404)
    assert "openapi.json" in missing["error"]
    wrong_method = await body(await daemon.http.put("/health", headers=daemon.headers), 405)
    assert "GET" in wrong_method["error"]


async def test_rate_limit_per_client(make_daemon: DaemonFactory) -> None:
    now = [0.0]
    daemon = await make_daemon(
        api=ApiSettings(rate_limit_per_s=1.0, rate_limit_burst=2), limiter_clock=lambda: now[0]
    )
    assert (await daemon.http.get("/api/v1/engine/info")).status == 200
    assert (await daemon.http.get("/api/v1/engine/info")).status == 200
    limited = await daemon.http.get("/api/v1/engine/info")
    found = await body(limited, 429)
    assert limited.headers["Retry-After"] == "1"
    assert "too many requests" in found["error"]
    now[0] += 1.0
    assert (await daemon.http.get("/api/v1/engine/info")).status == 200
