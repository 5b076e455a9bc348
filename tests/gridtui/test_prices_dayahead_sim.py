"""Tomorrow's day-ahead forecast curve in a fresh simulator run (the real wiring).

The engine is built by ``gridtui.wiring`` from default settings (mock feed,
embedded SQLite, the shipped models), on a fast simulated clock like
``gridtui --demo``; the events the dashboard's client hands out are folded into
a real DashboardModel, and the test reads the Prices chart it builds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.clock import SimClock
from engine.events import Forecast
from gridtui.client.in_process import InProcessClient
from gridtui.settings.loader import load_settings
from gridtui.tui.folds.prices import ForecasterNeeds
from gridtui.tui.view_model import DashboardModel
from gridtui.wiring import build_runtime

BRUSSELS = ZoneInfo("Europe/Brussels")
SPEED = 3600.0  # a simulated hour per real second
TICK_INTERVAL_S = 60.0


async def run_simulator(
    tmp_path: Path, start: datetime, hours: float
) -> tuple[DashboardModel, list[Forecast]]:
    """Run a fresh simulator from ``start`` for ``hours`` simulated hours.

    Returns the dashboard's model and the day-ahead model's forecasts it got.
    """
    settings = load_settings(
        environ={},
        overrides={"data_dir": str(tmp_path), "feed": {"tick_interval_s": TICK_INTERVAL_S}},
    )
    client = InProcessClient(settings, build_runtime(settings, clock=SimClock(start, speed=SPEED)))
    info = client.info
    day_ahead_models = {f.model_id for f in info.forecasters if f.task == "dayahead"}
    assert day_ahead_models, "the shipped day-ahead model is promoted by default"
    model = DashboardModel(
        settings.markets,
        forecasters=[
            ForecasterNeeds(
                f.model_id, f.task, f.step_s, f.warmup_steps, f.decision_time, f.timezone
            )
            for f in info.forecasters
        ],
    )
    day_ahead: list[Forecast] = []
    await client.start()
    try:
        until = start + timedelta(hours=hours)
        while client.runtime.clock.now() < until:
            events = await client.next_events(timeout=0.2)
            model.apply(events)
            day_ahead += [
                e for e in events if isinstance(e, Forecast) and e.model_id in day_ahead_models
            ]
    finally:
        await client.close()
    return model, day_ahead


def local_day(ts: datetime) -> date:
    return ts.astimezone(BRUSSELS).date()


async def test_a_run_started_after_the_decision_time_soon_draws_tomorrows_curve(
    tmp_path: Path,
) -> None:
    """Started at 15:00 CET, past the model's 10:00 decision: tomorrow's curve within 2 h.

    It used to wait for the next day's 10:00 (for the day after): no fundamentals
    of the day before the decision had been seen, so every row was left out.
    """
    start = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    tomorrow = date(2026, 3, 3)
    model, day_ahead = await run_simulator(tmp_path, start, hours=2)
    of_tomorrow = [f for f in day_ahead if local_day(f.target_ts) == tomorrow]
    assert {f.market for f in of_tomorrow} == set(model.snapshot().charts)
    assert len({f.target_ts for f in of_tomorrow if f.market == "DE"}) == 24
    # Issued once the engine has closed an hour of fundamentals (15:00 UTC), before D.
    assert min(f.ts for f in of_tomorrow) == start + timedelta(hours=1)
    assert all(f.ts < datetime(2026, 3, 2, 23, 0, tzinfo=UTC) for f in of_tomorrow)
    curve = model.snapshot().charts["DE"].day_ahead_forecast
    assert len(curve) == 24
    assert {local_day(datetime.fromtimestamp(t, UTC)) for t, *_ in curve} == {tomorrow}


def hint(model: DashboardModel, market: str = "DE") -> str:
    from gridtui.tui.widgets.price_chart import hint_text

    return hint_text(model.snapshot().charts[market], BRUSSELS)


async def test_before_the_decision_time_the_pane_says_when_tomorrows_curve_comes(
    tmp_path: Path,
) -> None:
    start = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 CET
    model, day_ahead = await run_simulator(tmp_path, start, hours=0.5)
    assert not [f for f in day_ahead if local_day(f.target_ts) == date(2026, 3, 3)]
    assert "tomorrow's forecast at 10:00 CET · 09:00 UTC: waits for its decision time" in hint(
        model
    )


async def test_started_after_the_decision_the_pane_says_it_waits_for_fundamentals(
    tmp_path: Path,
) -> None:
    start = datetime(2026, 3, 2, 14, 20, tzinfo=UTC)  # 15:20 CET
    model, _ = await run_simulator(tmp_path, start, hours=0.25)
    assert (
        "tomorrow's forecast at 16:00 CET · 15:00 UTC: "
        "waits for a closed hour of load, wind and solar"
    ) in hint(model)
    model, day_ahead = await run_simulator(tmp_path / "again", start, hours=1)
    assert min(f.ts for f in day_ahead) == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert "tomorrow" not in hint(model)  # the curve is in: nothing to wait for
