"""The Strategies pane shows what each strategy holds, not yet delivered, per market."""

from __future__ import annotations

from datetime import timedelta

from engine.events import OpenPosition, StrategyStatus
from gridtui.tui.folds.strategies import StrategyFold
from gridtui.tui.widgets.strategy_table import open_positions
from tests.stubs.builders import T0


def position(market: str, net_mwh: float, hour: int) -> OpenPosition:
    return OpenPosition(
        market=market,
        product="DA",
        delivery_start=T0 + timedelta(hours=hour),
        delivery_minutes=60,
        net_mwh=net_mwh,
    )


def test_positions_are_summed_per_market_and_flat_markets_left_out():
    fold = StrategyFold()
    held = (position("DE", 2.5, 1), position("DE", 1.0, 2), position("FR", -1.0, 1))
    flat = (position("NL", 3.0, 1), position("NL", -3.0, 2))
    fold.on_strategy(StrategyStatus(ts=T0, strategy="battery", state="running", positions=held))
    fold.on_strategy(StrategyStatus(ts=T0, strategy="mining", state="running", positions=flat))
    battery, mining = fold.views()
    assert battery.open_mwh == (("DE", 3.5), ("FR", -1.0))
    assert mining.open_mwh == ()
    assert open_positions(battery.open_mwh) == "DE +3.5 FR −1.0"
    assert open_positions(mining.open_mwh) == ""
