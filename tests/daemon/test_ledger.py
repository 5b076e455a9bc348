"""``GET /api/v1/ledger`` and the ``ledger_update`` WebSocket message, on a real kernel.

Day-ahead prices and a battery's states go through the daemon's kernel, where
a :class:`~engine.capture.component.CaptureComponent` folds them; the route and the
WebSocket answer what it computed, with the window filter checked and bad input
refused with a message that names the parameter.
"""

from __future__ import annotations

import math
from datetime import timedelta

from engine.battery.physics import BatterySpec
from engine.capture.book import CaptureBook
from engine.capture.component import CaptureComponent
from engine.capture.rows import WINDOWS
from engine.events import BatteryState, PriceKind, PriceTick
from gridtui.client.in_process import InProcessClient
from gridtui.client.remote import RemoteClient
from gridtui.daemon.ledger_broadcast import LedgerBroadcaster
from tests.daemon.conftest import DaemonFactory
from tests.daemon.test_routes import body
from tests.daemon.test_websocket import receive
from tests.stubs.builders import T0

SPEC = BatterySpec(battery_id="bess-1", market="DE")
PRICES = [40.0, 35.0, 30.0, 90.0, 120.0, 60.0]
POWER = [-1.0, -1.0, 0.0, 1.0, 1.0, 0.0]


def day_ahead_and_states() -> tuple[list[PriceTick], list[BatteryState]]:
    ticks, states, revenue, soc = [], [], 0.0, SPEC.initial_soc_mwh
    for hour, (price, power) in enumerate(zip(PRICES, POWER, strict=True)):
        at = T0 + timedelta(hours=hour)
        ticks.append(
            PriceTick(ts=at, market="DE", price_eur_mwh=price, kind=PriceKind.DAY_AHEAD,
                      delivery_minutes=60)
        )  # fmt: skip
        revenue += price * power - SPEC.degradation_eur_mwh * abs(power)
        soc += (
            (-power * SPEC.charge_efficiency) if power < 0 else -power / SPEC.discharge_efficiency
        )
        states.append(
            BatteryState(ts=at, battery_id="bess-1", market="DE", soc_mwh=soc,
                         soc_fraction=soc / SPEC.capacity_mwh, power_mw=power,
                         mode="idle", revenue_eur=revenue)
        )  # fmt: skip
    return ticks, states


async def test_the_ledger_route_answers_what_the_kernel_folded(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(extra_components=[CaptureComponent(CaptureBook([SPEC]))])
    ticks, states = day_ahead_and_states()
    async with daemon.http.ws_connect("/ws/real-time?types=ledger_update") as ws:
        await daemon.push(ticks)
        await daemon.push(states)
        pushed = await receive(ws, {"ledger_update"})
    found = await body(await daemon.http.get("/api/v1/ledger"))
    assert {row["window"] for row in found["rows"]} == {"today", "week", "month", "run"}
    run = next(row for row in found["rows"] if row["window"] == "run")
    assert run["owner"] == "bess-1" and run["steps"] == len(PRICES)
    assert math.isclose(run["realized_eur"], states[-1].revenue_eur)
    assert run["optimum_eur"] >= run["realized_eur"]
    assert math.isclose(
        run["forecast_error_eur"] + run["execution_eur"],
        run["optimum_eur"] - run["realized_eur"],
        abs_tol=1e-9,
    )
    assert run["realized_information"] == "gate_closure"
    assert run["optimum_information"] == "perfect_foresight"
    last = pushed["ledger_update"][-1]
    assert any(row["window"] == "run" and row["steps"] == len(PRICES) for row in last["rows"])
    only = await body(await daemon.http.get("/api/v1/ledger?window=today&owner=bess-1"))
    assert only["count"] == 1 and only["rows"][0]["window"] == "today"


async def test_a_bad_window_is_400_naming_it_and_no_ledger_is_503(
    make_daemon: DaemonFactory,
) -> None:
    daemon = await make_daemon(extra_components=[CaptureComponent(CaptureBook([SPEC]))])
    bad = await body(await daemon.http.get("/api/v1/ledger?window=year"), 400)
    assert "'window'" in bad["error"] and "'year'" in bad["error"] and "today" in bad["error"]
    bare = await make_daemon()
    missing = await body(await bare.http.get("/api/v1/ledger"), 503)
    assert "capture" in missing["error"]


async def test_in_process_and_remote_clients_answer_the_same_ledger(
    make_daemon: DaemonFactory,
) -> None:
    daemon = await make_daemon(extra_components=[CaptureComponent(CaptureBook([SPEC]))])
    ticks, states = day_ahead_and_states()
    await daemon.push(ticks)
    await daemon.push(states)
    local = await InProcessClient(daemon.settings, daemon.runtime).capture_ledger()
    remote = RemoteClient(str(daemon.http.make_url("")), token=daemon.token)
    try:
        attached = await remote.capture_ledger()
    finally:
        await remote.close()
    assert local.count == 4 and [r.window for r in local.rows] == list(WINDOWS)
    assert attached == local


class Hub:
    """Records what would go to the WebSocket clients."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, object]] = []

    def broadcast_message(self, message_type: str, data: object) -> None:
        self.sent.append((message_type, data))


async def test_ledger_updates_go_out_after_deliveries_at_most_once_a_second(
    make_daemon: DaemonFactory,
) -> None:
    daemon = await make_daemon(extra_components=[CaptureComponent(CaptureBook([SPEC]))])
    now = [100.0]
    hub = Hub()
    broadcaster = LedgerBroadcaster(daemon.engine, hub, interval_s=1.0, monotonic=lambda: now[0])
    ticks, states = day_ahead_and_states()
    assert not broadcaster.after(ticks)  # prices alone deliver nothing
    assert broadcaster.after(states[:1])
    assert not broadcaster.after(states[1:2])  # within the second
    now[0] += 1.5
    assert broadcaster.after(states[2:3])
    assert [kind for kind, _ in hub.sent] == ["ledger_update", "ledger_update"]
