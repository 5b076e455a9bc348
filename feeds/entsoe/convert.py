"""Turn parsed ENTSO-E documents into gridtui events and plain rows.

This module owns the meaning of each dataset: which TimeSeries of a day-ahead
document is the price (the DE-LU sequence choice), which generation series are
wind and solar, and how load and generation of different resolutions join into
:class:`~engine.events.Fundamentals`. The client's typed queries and the live
feed call it; ``gridtui fetch`` writes its rows to parquet or a store.

All functions are pure. Where a document contradicts itself (two TimeSeries
giving different values for one instant) the first wins and the conflict is
appended to the ``problems`` list the caller passes in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from engine.events import Fundamentals, PriceKind, PriceTick
from engine.time_us import EPOCH
from feeds.entsoe.document import Document, Series
from feeds.entsoe.zones import SOLAR_TYPES, WIND_TYPES


class GenerationRow(NamedTuple):
    """Actual generation (or, for storage, consumption) of one production type, in MW."""

    ts: datetime
    minutes: int
    psr_type: str
    value_mw: float
    consumption: bool


class ValueRow(NamedTuple):
    """One number per interval: load, a flow or a capacity, in MW."""

    ts: datetime
    minutes: int
    value_mw: float


Point = tuple[datetime, int, float]  # interval start, minutes, value


def _points(
    series: Iterable[Series], start: datetime | None, end: datetime | None
) -> Iterator[Point]:
    """Every value of ``series`` with ``start <= ts < end``, series by series."""
    for one in series:
        for period in one.periods:
            minutes = period.resolution_minutes
            step = timedelta(minutes=minutes)
            ts = period.start
            for value in period.values:
                if value == value and (start is None or ts >= start) and (end is None or ts < end):
                    yield ts, minutes, value
                ts += step


def select_sequence(
    series: Sequence[Series], sequence: int | None, problems: list[str] | None = None
) -> list[Series]:
    """The TimeSeries of one auction when a zone publishes several.

    DE-LU numbers its day-ahead auctions with a classification sequence: 1 is
    the SDAC auction (the day-ahead price everyone quotes), 2 is EXAA. Series
    without a sequence (every other zone) are always kept. ``None`` keeps all.
    """
    if sequence is None:
        return list(series)
    chosen = [s for s in series if s.sequence is None or s.sequence == sequence]
    others = sorted({s.sequence for s in series if s.sequence is not None} - {sequence})
    if not chosen and others and problems is not None:
        problems.append(f"no TimeSeries with classification sequence {sequence}; found {others}")
    return chosen


def _first_per_instant(
    points: Iterable[Point], what: str, problems: list[str] | None
) -> list[Point]:
    """One value per instant, oldest first; the earliest TimeSeries wins a conflict."""
    kept: dict[datetime, tuple[int, float]] = {}
    conflicts = 0
    for ts, minutes, value in points:
        earlier = kept.setdefault(ts, (minutes, value))
        if earlier[1] != value or earlier[0] != minutes:
            conflicts += 1
    if conflicts and problems is not None:
        problems.append(f"{what}: {conflicts} instant(s) given twice with different values")
    return [(ts, *kept[ts]) for ts in sorted(kept)]


def day_ahead_prices(
    document: Document,
    market: str,
    *,
    sequence: int | None = 1,
    start: datetime | None = None,
    end: datetime | None = None,
    source: str = "entsoe",
    problems: list[str] | None = None,
) -> list[PriceTick]:
    """Day-ahead prices (A44) as ticks stamped at delivery start, oldest first."""
    chosen = select_sequence(document.series, sequence, problems)
    found = _first_per_instant(_points(chosen, start, end), f"day-ahead prices {market}", problems)
    kind = PriceKind.DAY_AHEAD
    return [
        PriceTick(
            ts=ts,
            market=market,
            price_eur_mwh=value,
            kind=kind,
            source=source,
            delivery_minutes=minutes,
        )
        for ts, minutes, value in found
    ]


def generation(
    document: Document,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    problems: list[str] | None = None,
) -> list[GenerationRow]:
    """Actual generation per production type (A75), oldest first.

    A series that names only an ``out`` domain is consumption (pumped storage
    pumping, batteries charging); it is kept and flagged.
    """
    rows: list[GenerationRow] = []
    by_type: dict[tuple[str, bool], list[Series]] = defaultdict(list)
    for one in document.series:
        consumption = one.out_domain is not None and one.in_domain is None
        by_type[(one.psr_type or "unknown", consumption)].append(one)
    for (psr_type, consumption), group in by_type.items():
        found = _first_per_instant(_points(group, start, end), f"generation {psr_type}", problems)
        rows.extend(
            GenerationRow(ts, minutes, psr_type, value, consumption) for ts, minutes, value in found
        )
    rows.sort(key=lambda r: (r.ts, r.psr_type, r.consumption))
    return rows


def values(
    document: Document,
    what: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    problems: list[str] | None = None,
) -> list[ValueRow]:
    """One value per interval: load (A65), physical flows (A11), capacity (A61)."""
    found = _first_per_instant(_points(document.series, start, end), what, problems)
    return [ValueRow(ts, minutes, value) for ts, minutes, value in found]


def _bucket(ts: datetime, minutes: int) -> datetime:
    step = timedelta(minutes=minutes)
    return EPOCH + ((ts - EPOCH) // step) * step


def average_to(rows: Iterable[tuple[datetime, int, float]], minutes: int) -> dict[datetime, float]:
    """Time-weighted means on a ``minutes`` grid; only buckets fully covered are kept."""
    sums: dict[datetime, float] = defaultdict(float)
    covered: dict[datetime, int] = defaultdict(int)
    for ts, row_minutes, value in rows:
        if row_minutes > minutes:
            continue
        bucket = _bucket(ts, minutes)
        sums[bucket] += value * row_minutes
        covered[bucket] += row_minutes
    return {bucket: sums[bucket] / minutes for bucket in sums if covered[bucket] == minutes}


def fundamentals(
    market: str,
    load: Sequence[ValueRow],
    generation_rows: Sequence[GenerationRow],
    *,
    source: str = "entsoe",
    load_forecast: Sequence[ValueRow] = (),
) -> list[Fundamentals]:
    """Join actual load and the wind/solar share of actual generation per interval.

    ``load_forecast`` (the day-ahead load forecast, A65 A01) is averaged onto
    the same grid and attached where it covers an interval fully.

    Both sides are averaged onto the coarser of their resolutions (German load
    and generation are quarter-hourly, French hourly; a zone may mix), and an
    interval is emitted only when both sides cover it fully. A production type
    a zone does not report (offshore wind in Austria) counts as zero.
    """
    if not load or not generation_rows:
        return []
    minutes = max(max(r.minutes for r in load), max(r.minutes for r in generation_rows))
    load_mw = average_to(((r.ts, r.minutes, r.value_mw) for r in load), minutes)
    # Sum the production types of each instant first, so that averaging onto the
    # grid sees one value per instant however many types a zone reports.
    per_instant: dict[datetime, tuple[int, float, float]] = {}
    for row in generation_rows:
        if row.consumption:
            continue
        row_minutes, wind, solar = per_instant.get(row.ts, (row.minutes, 0.0, 0.0))
        if row.psr_type in WIND_TYPES:
            wind += row.value_mw
        elif row.psr_type in SOLAR_TYPES:
            solar += row.value_mw
        per_instant[row.ts] = (row_minutes, wind, solar)
    wind_mw = average_to(((ts, m, wind) for ts, (m, wind, _) in per_instant.items()), minutes)
    solar_mw = average_to(((ts, m, solar) for ts, (m, _, solar) in per_instant.items()), minutes)
    forecast_mw = average_to(((r.ts, r.minutes, r.value_mw) for r in load_forecast), minutes)
    return [
        Fundamentals(
            ts=ts,
            market=market,
            load_mw=load_mw[ts],
            wind_mw=wind_mw[ts],
            solar_mw=solar_mw[ts],
            source=source,
            load_forecast_mw=forecast_mw.get(ts),
        )
        for ts in sorted(load_mw.keys() & wind_mw.keys())
    ]
