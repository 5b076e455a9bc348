"""Settings sections for the data path: where prices come from and where events go.

``[feed]`` (simulator, replay or live), ``[entsoe]`` (the live ENTSO-E source),
``[store]`` (where events are kept) and ``[bus]`` (how they fan out). The
top-level :class:`gridtui.settings.Settings` holds one of each.
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class FeedSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where prices come from.

    Attributes:
        kind: ``mock`` (the simulator), ``replay`` (a price file, see ``path``)
            or ``entsoe`` (live ENTSO-E data, see the ``[entsoe]`` section).
        seed: the simulator's random seed (same seed, same market).
        tick_interval_s: seconds between intraday ticks per market; 0 = as fast
            as the CPU allows (benchmarks, demos).
        path: replay: the parquet or CSV price file (long or wide format).
        speed: replay: simulated seconds per real second (1 = real time, 60 =
            an hour a minute); 0 = as fast as the CPU allows.
        start: simulator: timestamp of the first tick (UTC, e.g. 2026-01-05T00:00:00Z);
            empty = now. Ticks are still paced in real time from there; the same
            seed and start give the very same events on every run.
    """

    kind: str = "mock"
    seed: int = 42
    tick_interval_s: float = 10.0
    path: str | None = None
    speed: float = 0.0
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
        requests_per_minute: the request budget shared by every call (the API
            allows 400 per token).
        timeout_s: limit for one request.
        max_attempts: tries per request on 5xx, timeouts and 429 before giving up.
        url: the API endpoint.
    """

    token: str = ""
    zones: dict[str, str] = msgspec.field(default_factory=dict)
    poll_interval_s: float = 300.0
    day_ahead_sequence: int = 1
    fundamentals: bool = True
    requests_per_minute: int = 400
    timeout_s: float = 30.0
    max_attempts: int = 5
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
    batch_size: int = 5_000
    max_age_s: float = 0.5
    max_buffered: int = 500_000
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
    maxlen: int = 100_000
