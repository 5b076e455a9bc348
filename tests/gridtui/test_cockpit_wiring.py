"""The cockpit as ``gridtui.wiring`` builds it from ``[cockpit]`` and the feed, and bad settings.

The wired component follows the strategy manager (so a batch's orders are in the
book when it looks) and precedes the alert rules; ``auto`` resolves from the feed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from engine.alerts.engine import AlertEngine
from engine.cockpit.component import CockpitComponent
from engine.cockpit.orders import ManagerOrders
from engine.strategies.manager import StrategyManager
from gridtui.backtest_runs import analytics_components
from gridtui.cockpit_wiring import find_cockpit
from gridtui.settings.loader import SettingsError, load_settings
from gridtui.wiring import build_components


def wired(tmp_path: Path, **overrides: object) -> tuple[list[object], CockpitComponent]:
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path), **overrides})
    components: list[object] = list(build_components(settings))
    found = find_cockpit(components)
    assert found is not None
    return components, found


def test_the_cockpit_runs_after_the_strategies_and_before_the_alerts(tmp_path: Path) -> None:
    components, cockpit = wired(tmp_path)
    kinds = [type(c) for c in components]
    assert kinds.index(StrategyManager) < kinds.index(CockpitComponent) < kinds.index(AlertEngine)
    board = cockpit.board
    assert isinstance(board.desk, ManagerOrders)
    assert board.late_grace == timedelta(minutes=15)
    assert board.intraday_auctions and board.publications  # the simulator has both


def test_auto_follows_the_feed_and_on_off_override_it(tmp_path: Path) -> None:
    _, replay = wired(tmp_path, feed={"kind": "replay", "path": "prices.parquet"})
    assert not replay.board.intraday_auctions and not replay.board.publications
    _, entsoe = wired(tmp_path, feed={"kind": "entsoe"}, cockpit={"late_grace_minutes": 10})
    assert not entsoe.board.intraday_auctions and entsoe.board.publications
    # ENTSO-E is polled (every 300 s by default): a publication shows at the next poll.
    assert entsoe.board.late_grace == timedelta(minutes=15)
    _, forced = wired(
        tmp_path,
        feed={"kind": "replay", "path": "prices.parquet"},
        cockpit={"intraday_auctions": "on", "publications": "on"},
    )
    assert forced.board.intraday_auctions and forced.board.publications


@pytest.mark.parametrize(
    ("variable", "raw", "words"),
    [
        ("GRIDTUI_COCKPIT_LATE_GRACE_MINUTES", "-5", ">= 0"),
        ("GRIDTUI_COCKPIT_LATE_GRACE_MINUTES", "2000", "<= 1440"),
        ("GRIDTUI_COCKPIT_INTRADAY_AUCTIONS", "maybe", "auto, on or off"),
        ("GRIDTUI_COCKPIT_PUBLICATIONS", "sometimes", "auto, on or off"),
    ],
)
def test_bad_cockpit_settings_name_the_field_the_value_and_what_is_accepted(
    tmp_path: Path, variable: str, raw: str, words: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={variable: raw}, overrides={"data_dir": str(tmp_path)})
    message = str(caught.value)
    field = variable.removeprefix("GRIDTUI_COCKPIT_").lower()
    assert f"cockpit.{field}" in message and raw in message and words in message


def test_backtests_run_without_the_live_cockpit(tmp_path: Path) -> None:
    """A backtest replays history: its day-ahead prices come at delivery, and its strategies
    are its own, so the live cockpit would call every publication late."""
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path)})
    assert "cockpit" not in {c.name for c in analytics_components(settings)}
