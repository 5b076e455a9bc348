"""Settings sections for the data path: where prices come from and where events go.

``[feed]`` (simulator, replay or live), ``[entsoe]`` (the live ENTSO-E source),
``[store]`` (where events are kept) and ``[bus]`` (how they fan out). The
top-level :class:`gridtui.settings.loader.Settings` holds one of each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

# Ranges checked where settings are parsed (``load_settings`` names the setting,
# its value and the range on a violation). NaN fails every bound; the upper
# bounds keep intervals finite.
Count = Annotated[int, msgspec.Meta(ge=1)]

DAY_S = 86_400.0

# A finite, positive span of seconds (load_settings reports a value outside it).
Seconds = Annotated[float, msgspec.Meta(gt=0, le=DAY_S)]


class FeedSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where prices come from.

    Attributes:
        kind: ``mock`` (the simulator), ``replay`` (a price file, see ``path``)
            or ``entsoe`` (live ENTSO-E data, see the ``[entsoe]`` section).
        seed: the simulator's random seed (same seed, same market).
        tick_interval_s: seconds between intraday ticks per market; 0 = as fast
            as the CPU allows (benchmarks, demos).
        path: replay: the parquet or CSV price file (long or wide format).
        fundamentals: replay: the load, generation and (optionally) load
            forecast files ``gridtui fetch --out FILE.parquet`` wrote beside the
            prices (``FILE.load.parquet``, ``FILE.generation.parquet``,
            ``FILE.load_forecast.parquet``), played into the Fundamentals pane;
            paths as given (relative to the working directory, like ``path``).
        fundamentals_delay_minutes: replay: minutes after its interval's end an
            actual is released (ENTSO-E publishes within the hour).
        speed: replay: simulated seconds per real second (1 = real time, 60 =
            an hour a minute); 0 = as fast as the CPU allows.
        start: simulator: timestamp of the first tick (UTC, e.g. 2026-01-05T00:00:00Z);
            empty = now. Ticks are still paced in real time from there; the same
            seed and start give the very same events on every run.
    """

    kind: str = "mock"
    seed: Annotated[int, msgspec.Meta(ge=0)] = 42
    tick_interval_s: Annotated[float, msgspec.Meta(ge=0, le=DAY_S)] = 10.0
    path: str | None = None
    fundamentals: tuple[str, ...] = ()
    fundamentals_delay_minutes: Annotated[int, msgspec.Meta(ge=0, le=1440)] = 60
    speed: Annotated[float, msgspec.Meta(ge=0, le=1e9)] = 0.0
    start: datetime | None = None


class EntsoeSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The ENTSO-E Transparency Platform: ``feed.kind = "entsoe"`` and ``gridtui fetch``.

    Attributes:
        token: your Web API security token; better set GRIDTUI_ENTSOE_TOKEN.
            Never logged; ``gridtui config`` shows it as ``***``.
        zones: extra or changed market → EIC area codes, e.g.
            ``[entsoe.zones] ES = "10YES-REE------0"``. The six markets and
            common neighbours (ES, PT, CH, IT-NORD, PL, CZ, DK1, …) are built in.
        poll_interval_s: seconds between polls of the live feed.
        day_ahead_sequence: which auction to take where a zone publishes
            several: DE-LU has 1 = SDAC (the day-ahead price) and 2 = EXAA.
        fundamentals: the live feed also polls actual load and generation.
        backfill_max_days: on start, the live feed fetches the day-ahead prices
            the store lacks since its newest stored delivery, at most this many
            days back (a restart after a crash or a stop loses no real data).
        requests_per_minute: the request budget shared by every call (the API
            allows 400 per token).
        timeout_s: limit for one request.
        max_attempts: tries per request on 5xx, timeouts and 429 before giving up.
        url: the API endpoint.
    """

    token: str = ""
    zones: dict[str, str] = msgspec.field(default_factory=dict)
    poll_interval_s: Annotated[float, msgspec.Meta(gt=0, le=DAY_S)] = 300.0
    day_ahead_sequence: Count = 1
    fundamentals: bool = True
    backfill_max_days: Annotated[float, msgspec.Meta(ge=0, le=366)] = 31.0
    requests_per_minute: Count = 400
    timeout_s: Annotated[float, msgspec.Meta(gt=0, le=3_600)] = 30.0
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    url: str = "https://web-api.tp.entsoe.eu/api"


class StoreSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where events are kept.

    Attributes:
        url: ``sqlite`` (a file in the user data dir), ``sqlite:PATH``, or
            ``postgresql://user@host:5432/db``.
        schema: PostgreSQL schema to use.
        batch_size / max_age_s: flush when this many events wait or the oldest
            waited this long.
        max_buffered: events kept in memory while the database is down before
            they spill to a file in ``spill_dir`` (default: the data dir).
    """

    url: str = "sqlite"
    schema: str = "public"
    batch_size: Count = 5_000
    max_age_s: Annotated[float, msgspec.Meta(gt=0, le=3_600)] = 0.5
    max_buffered: Count = 500_000  # and >= batch_size: checked by load_settings
    spill_dir: str | None = None


class BusSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How events fan out.

    Attributes:
        url: ``memory`` (in-process) or ``redis://host:6379/0`` (Redis Streams).
        prefix: Redis key prefix; daemons sharing one feed share one prefix.
        maxlen: approximate length Redis trims each stream to.
    """

    url: str = "memory"
    prefix: str = "gridtui"
    maxlen: Count = 100_000
