"""Where ``gridtui train forecast`` and ``gridtui eval forecast`` get their prices.

A price file as a long frame (with its fundamentals when it carries them), or
the mock simulator's prices and fundamentals (``--data mock``), each with the
hash the registry records as the model's training data.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import pandas as pd

MOCK: Final = "mock"
MOCK_START: Final = datetime(2024, 1, 1, tzinfo=UTC)
MOCK_SEED: Final = 7
MOCK_DAYS: Final = 730


def load_frame(path: str, markets: list[str] | None) -> tuple[pd.DataFrame, str]:
    """A price file as a long frame (with fundamentals columns when it has them) and its hash.

    Raises:
        feeds.ports.FeedError: the file is missing or unreadable.
    """
    import pandas as pd

    from feeds.price_file import load_prices
    from models.features.pipeline import FUNDAMENTAL_COLUMNS
    from models.registry import file_sha256

    history = load_prices(path, markets or ())
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(history.ts_us, unit="us", utc=True),
            "market": history.markets,
            "price_eur_mwh": history.prices,
        }
    )
    if history.minutes is not None:
        frame["resolution_minutes"] = history.minutes
    source = Path(path).expanduser()
    if source.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        names = set(pq.read_schema(source).names)
        wanted = [c for c in FUNDAMENTAL_COLUMNS if c in names]
        if wanted and {"timestamp", "market"} <= names:
            extra = pd.read_parquet(source, columns=["timestamp", "market", *wanted])
            extra["timestamp"] = pd.to_datetime(extra["timestamp"], utc=True)
            extra["market"] = extra["market"].astype(str)
            frame = frame.merge(extra, on=["timestamp", "market"], how="left")
    return frame, file_sha256(source)


def mock_frame(markets: list[str] | None, days: int, seed: int) -> tuple[pd.DataFrame, str]:
    """The simulator's hourly prices and fundamentals: what the shipped defaults learn from."""
    from feeds.mock.model import simulate_hourly_prices
    from gridtui.settings.loader import DEFAULT_MARKETS

    chosen = markets or list(DEFAULT_MARKETS)
    frame = simulate_hourly_prices(chosen, MOCK_START, days, seed, with_fundamentals=True)
    frame["market"] = frame["market"].astype(str)
    fingerprint = f"mock:{','.join(chosen)}:{MOCK_START:%Y-%m-%d}:{days}:{seed}"
    return frame, "sha256:" + hashlib.sha256(fingerprint.encode()).hexdigest()
