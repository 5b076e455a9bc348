"""The SQL of recorder retention (``Store.compact``), the same text for every backend.

Compaction works one clock hour at a time (:mod:`engine.store.compaction` runs
the loop), and every statement here is bounded by that hour and, where the
table's key leads with one, by one key value (a market, a battery, a
strategy): each is a range of a primary key or index, never a scan of the
table, and one hour's statements form one short transaction.

Per hour ``[h, h + 1 h)``:

* observed price ticks (intraday, imbalance) of each market are folded into
  one ``price_ticks_hourly`` row (open, high, low, close, mean, ticks, summed
  volume, first and last tick time) and then deleted. A re-run finds no raw
  ticks and changes nothing; late ticks of an hour already folded are merged
  into its row (``ON CONFLICT … DO UPDATE``). Auction results (day-ahead,
  IDA1–3: one price per delivery period) are kept as they are;
* battery states and strategy status lines keep the last row of each battery
  or strategy in the hour; forecasts the last issue of each market and model;
  opportunity ``updated`` events the last of each opportunity (``opened`` and
  ``closed`` are all kept, so which spreads were open when stays exact);
* trades, alerts and the audit log are never thinned (the trading record).

``mark(i)`` is the backend's i-th numbered placeholder (``?i`` or ``$i``);
numbered placeholders let one parameter appear twice in a statement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, NamedTuple

from engine.events import PriceKind
from engine.store import rows as R

Mark = Callable[[int], str]

# Ticks stamped when observed; auction kinds are stamped at their delivery and
# are already one price per period, so they stay raw.
OBSERVED_KINDS: Final = (PriceKind.INTRADAY.value, PriceKind.IMBALANCE.value)
WATERMARK_SCOPE: Final = "recorder"


class Thinned(NamedTuple):
    """A table thinned to its last row per group and hour.

    ``lead`` is the leading key column probed once per value (None: the table's
    key leads with time, so the hour's range is the probe); ``group`` the
    columns whose last row is kept; ``only`` a (column, value) the thinning is
    limited to.
    """

    table: R.Table
    lead: str | None
    group: tuple[str, ...]
    only: tuple[str, str] | None = None


THINNED: Final = (
    Thinned(R.BATTERY_STATES, "battery_id", ("battery_id",)),
    Thinned(R.STRATEGY_STATUS, "strategy", ("strategy",)),
    Thinned(R.FORECASTS, "market", ("market", "model_id")),
    Thinned(
        R.OPPORTUNITIES, None, ("buy_market", "sell_market", "opened_at"), ("status", "updated")
    ),
)


def fold_ticks_sql(mark: Mark) -> str:
    """Fold one market's ticks of one kind in one hour into its hourly row.

    Parameters: 1 market, 2 kind, 3 hour start, 4 hour end.
    """
    m, k, h0, h1 = (mark(i) for i in range(1, 5))
    hour = f"market = {m} AND kind = {k} AND ts >= {h0} AND ts < {h1}"
    first = f"(SELECT price_eur_mwh FROM prices WHERE {hour} ORDER BY ts ASC LIMIT 1)"
    last = f"(SELECT price_eur_mwh FROM prices WHERE {hour} ORDER BY ts DESC LIMIT 1)"
    old = R.PRICES_HOURLY
    # CASE, not least()/min(a, b): the one spelling both backends know.
    return f"""
INSERT INTO {old} (market, kind, hour_start, first_ts, last_ts, open_eur_mwh, high_eur_mwh,
    low_eur_mwh, close_eur_mwh, mean_eur_mwh, ticks, volume_mwh, source)
SELECT market, kind, {h0}, min(ts), max(ts), {first}, max(price_eur_mwh), min(price_eur_mwh),
    {last}, avg(price_eur_mwh), count(*), sum(volume_mwh), max(source)
FROM prices WHERE {hour}
GROUP BY market, kind
ON CONFLICT (market, kind, hour_start) DO UPDATE SET
    open_eur_mwh = CASE WHEN excluded.first_ts < {old}.first_ts
        THEN excluded.open_eur_mwh ELSE {old}.open_eur_mwh END,
    close_eur_mwh = CASE WHEN excluded.last_ts > {old}.last_ts
        THEN excluded.close_eur_mwh ELSE {old}.close_eur_mwh END,
    first_ts = CASE WHEN excluded.first_ts < {old}.first_ts
        THEN excluded.first_ts ELSE {old}.first_ts END,
    last_ts = CASE WHEN excluded.last_ts > {old}.last_ts
        THEN excluded.last_ts ELSE {old}.last_ts END,
    high_eur_mwh = CASE WHEN excluded.high_eur_mwh > {old}.high_eur_mwh
        THEN excluded.high_eur_mwh ELSE {old}.high_eur_mwh END,
    low_eur_mwh = CASE WHEN excluded.low_eur_mwh < {old}.low_eur_mwh
        THEN excluded.low_eur_mwh ELSE {old}.low_eur_mwh END,
    mean_eur_mwh = ({old}.mean_eur_mwh * {old}.ticks + excluded.mean_eur_mwh * excluded.ticks)
        / ({old}.ticks + excluded.ticks),
    ticks = {old}.ticks + excluded.ticks,
    volume_mwh = coalesce({old}.volume_mwh + excluded.volume_mwh, {old}.volume_mwh,
        excluded.volume_mwh)
"""


def delete_ticks_sql(mark: Mark) -> str:
    """Delete the ticks just folded. Parameters: 1 market, 2 kind, 3 hour start, 4 hour end."""
    m, k, h0, h1 = (mark(i) for i in range(1, 5))
    return f"DELETE FROM prices WHERE market = {m} AND kind = {k} AND ts >= {h0} AND ts < {h1}"


def thin_sql(thinned: Thinned, mark: Mark) -> str:
    """Delete every row of the hour but the last of its group.

    Parameters: (1 the lead value, when the table has a lead,) then hour start, hour end.
    The rows to keep are found once, grouped (``NOT IN`` an uncorrelated
    subquery), not by a probe per row: an hour of opportunity updates is
    thousands of rows.
    """
    table = thinned.table.name
    n = 1 if thinned.lead is not None else 0
    where = [f"ts >= {mark(n + 1)}", f"ts < {mark(n + 2)}"]
    if thinned.lead is not None:
        where.insert(0, f"{thinned.lead} = {mark(1)}")
    if thinned.only is not None:
        column, value = thinned.only
        where.append(f"{column} = '{value}'")
    rows = " AND ".join(where)
    group = ", ".join(thinned.group)
    return (
        f"DELETE FROM {table} WHERE {rows} AND ({group}, ts) NOT IN "
        f"(SELECT {group}, max(ts) FROM {table} WHERE {rows} GROUP BY {group})"
    )


def oldest_sql(table: R.Table, lead: str | None, mark: Mark, *, kind: bool = False) -> str:
    """The oldest ``ts`` of one lead value (and kind): a probe of the key's start."""
    where = [] if lead is None else [f"{lead} = {mark(1)}"]
    if kind:
        where.append(f"kind = {mark(2)}")
    return f"SELECT min(ts) FROM {table.name}" + (f" WHERE {' AND '.join(where)}" if where else "")


def watermark_sql(mark: Mark) -> str:
    """Where the last compaction got to. Parameter: 1 scope."""
    return f"SELECT compacted_until FROM {R.RETENTION_WATERMARK} WHERE scope = {mark(1)}"


def advance_watermark_sql(mark: Mark) -> str:
    """Move the watermark forward (never back). Parameters: 1 scope, 2 until."""
    w = R.RETENTION_WATERMARK
    return (
        f"INSERT INTO {w} (scope, compacted_until) VALUES ({mark(1)}, {mark(2)}) "
        f"ON CONFLICT (scope) DO UPDATE SET compacted_until = CASE "
        f"WHEN excluded.compacted_until > {w}.compacted_until "
        f"THEN excluded.compacted_until ELSE {w}.compacted_until END"
    )


def hourly_closes_sql(
    *,
    market: str,
    limit: str,
    kinds: str,
    start: tuple[str, str] | None = None,
    end: str | None = None,
) -> str:
    """The hourly rows of one market as price ticks: the close, stamped at the hour's last tick.

    What ``price_history`` adds to the raw ticks: in the compacted past an hour's
    close stands for the hour, at the instant it was last seen (so a reader at
    ``t`` never sees a close observed after ``t``). The arguments are the
    placeholders of the market, the limit, the condition on ``kind``, the
    start and the start of its hour, and the end. Newest first, at most limit.
    """
    where = [f"market = {market}", kinds]
    if start is not None:
        # The start's hour bounds the key range; the last tick is within its hour.
        where += [f"last_ts >= {start[0]}", f"hour_start >= {start[1]}"]
    if end is not None:
        where += [f"hour_start < {end}", f"last_ts < {end}"]
    return (
        "SELECT market, kind, last_ts AS ts, close_eur_mwh AS price_eur_mwh, volume_mwh, source, "
        f"CAST(NULL AS INTEGER) AS delivery_minutes FROM {R.PRICES_HOURLY} "
        f"WHERE {' AND '.join(where)} ORDER BY hour_start DESC LIMIT {limit}"
    )


def hourly_rows_sql(mark: Mark) -> str:
    """Hourly rows of one market and kind with ``start <= hour_start < end``, oldest first.

    Parameters: 1 market, 2 kind, 3 start, 4 end, 5 limit.
    """
    return (
        f"SELECT * FROM {R.PRICES_HOURLY} WHERE market = {mark(1)} AND kind = {mark(2)} "
        f"AND hour_start >= {mark(3)} AND hour_start < {mark(4)} "
        f"ORDER BY hour_start LIMIT {mark(5)}"
    )
