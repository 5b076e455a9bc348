"""gridtui.wiring runs the capture ledger after the strategies, over every battery it built."""

from __future__ import annotations

from engine.capture.component import CaptureComponent
from engine.strategies.manager import StrategyManager
from gridtui.ledger_wiring import find_capture
from gridtui.settings.loader import load_settings
from gridtui.wiring import build_components
from tests.gridtui.test_battery_wiring import FLEET


def test_the_ledger_follows_the_fleet_and_the_battery_strategy_with_their_fee(tmp_path):
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "battery": {"fleet": FLEET},
            "strategies": {
                "enabled": ["battery"],
                "battery": {"spec": {"battery_id": "bess-nl", "market": "NL"}},
                "execution": {"fee_eur_mwh": 0.25},
            },
        },
    )
    components = build_components(settings)
    found = find_capture(components)
    assert isinstance(found, CaptureComponent)
    names = [c.name for c in components]
    manager = next(i for i, c in enumerate(components) if isinstance(c, StrategyManager))
    assert names.index("capture") > manager  # sees what the strategies settle
    book = found.book
    assert sorted(book.batteries) == ["bess-de", "bess-fr", "bess-nl"]
    assert book.strategy_batteries == {"battery": "bess-nl"}
    fr = book.batteries["bess-fr"].spec
    assert fr.power_mw == 2.0 and fr.degradation_eur_mwh == 5.0 + 0.25  # wear + fee
