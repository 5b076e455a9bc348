"""Versioned schema migrations for :class:`engine.store.sqlite.SqliteStore`.

``PRAGMA user_version`` records where a file stands; each script runs in its
own transaction together with the version bump, so a file is always at one
version or the next, never in between.
"""

from __future__ import annotations

import sqlite3
from typing import Final

from engine.store import rows as R
from engine.store.base import StoreError

# Versioned migrations: index i holds the script that takes the schema from
# version i to i + 1 (PRAGMA user_version records where a file stands).
MIGRATIONS: Final[tuple[str, ...]] = (
    """
    CREATE TABLE prices (
        market TEXT NOT NULL, kind TEXT NOT NULL, ts INTEGER NOT NULL,
        price_eur_mwh REAL NOT NULL, volume_mwh REAL, source TEXT NOT NULL,
        delivery_minutes INTEGER,
        PRIMARY KEY (market, kind, ts)
    ) WITHOUT ROWID;
    CREATE TABLE opportunities (
        buy_market TEXT NOT NULL, sell_market TEXT NOT NULL, opened_at INTEGER NOT NULL,
        status TEXT NOT NULL, ts INTEGER NOT NULL,
        buy_price_eur_mwh REAL NOT NULL, sell_price_eur_mwh REAL NOT NULL,
        spread_eur_mwh REAL NOT NULL, transmission_cost_eur_mwh REAL NOT NULL,
        net_spread_eur_mwh REAL NOT NULL, duration_s REAL NOT NULL,
        capacity_mw REAL, profit_eur_h REAL,
        PRIMARY KEY (buy_market, sell_market, opened_at, status, ts)
    ) WITHOUT ROWID;
    CREATE INDEX opportunities_ts ON opportunities (ts);
    CREATE TABLE battery_states (
        battery_id TEXT NOT NULL, ts INTEGER NOT NULL, market TEXT NOT NULL,
        soc_mwh REAL NOT NULL, soc_fraction REAL NOT NULL, power_mw REAL NOT NULL,
        mode TEXT NOT NULL, revenue_eur REAL NOT NULL,
        PRIMARY KEY (battery_id, ts)
    ) WITHOUT ROWID;
    CREATE TABLE trades (
        trade_id TEXT PRIMARY KEY, ts INTEGER NOT NULL, strategy TEXT NOT NULL,
        market TEXT NOT NULL, side TEXT NOT NULL, volume_mwh REAL NOT NULL,
        price_eur_mwh REAL NOT NULL, fee_eur REAL NOT NULL, pnl_eur REAL NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX trades_strategy_ts ON trades (strategy, ts);
    CREATE TABLE alerts (
        rule TEXT NOT NULL, key TEXT NOT NULL, ts INTEGER NOT NULL,
        severity TEXT NOT NULL, message TEXT NOT NULL, market TEXT,
        PRIMARY KEY (rule, key, ts)
    ) WITHOUT ROWID;
    CREATE INDEX alerts_ts ON alerts (ts);
    CREATE TABLE backtests (
        run_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, state TEXT NOT NULL,
        config TEXT NOT NULL, metrics TEXT NOT NULL, equity_curve TEXT NOT NULL
    );
    """,
    # 2: the audit log of strategy toggles and trades; the trades of backtest runs.
    """
    CREATE TABLE audit_log (
        entry_id TEXT PRIMARY KEY, ts INTEGER NOT NULL, actor TEXT NOT NULL,
        action TEXT NOT NULL, strategy TEXT NOT NULL, reason TEXT NOT NULL, ref TEXT NOT NULL
    );
    CREATE INDEX audit_log_ts ON audit_log (ts);
    CREATE INDEX audit_log_strategy_ts ON audit_log (strategy, ts);
    CREATE TABLE backtest_trades (
        run_id TEXT NOT NULL, trade_id TEXT NOT NULL, ts INTEGER NOT NULL,
        strategy TEXT NOT NULL, market TEXT NOT NULL, side TEXT NOT NULL,
        volume_mwh REAL NOT NULL, price_eur_mwh REAL NOT NULL, fee_eur REAL NOT NULL,
        pnl_eur REAL NOT NULL, reason TEXT NOT NULL,
        PRIMARY KEY (run_id, trade_id)
    ) WITHOUT ROWID;
    CREATE INDEX backtest_trades_run_ts ON backtest_trades (run_id, ts);
    """,
    # 3: opportunities keyed by time and their event sequence number (two updates
    # of a pair in the same second were one row before); the key serves the
    # time-range query, so the separate ts index goes. Old rows are numbered in
    # their lifecycle order.
    f"""
    CREATE TABLE opportunities_v3 (
        buy_market TEXT NOT NULL, sell_market TEXT NOT NULL, opened_at INTEGER NOT NULL,
        status TEXT NOT NULL, ts INTEGER NOT NULL,
        buy_price_eur_mwh REAL NOT NULL, sell_price_eur_mwh REAL NOT NULL,
        spread_eur_mwh REAL NOT NULL, transmission_cost_eur_mwh REAL NOT NULL,
        net_spread_eur_mwh REAL NOT NULL, duration_s REAL NOT NULL,
        capacity_mw REAL, profit_eur_h REAL, seq INTEGER NOT NULL,
        PRIMARY KEY (ts, buy_market, sell_market, opened_at, seq)
    ) WITHOUT ROWID;
    INSERT INTO opportunities_v3
        SELECT *, {R.OPPORTUNITY_SEQ_SQL} FROM opportunities;
    DROP TABLE opportunities;
    ALTER TABLE opportunities_v3 RENAME TO opportunities;
    """,
    # 4: the flight recorder: strategy status lines and forecasts, and the
    # index that finds a pair's newest opportunity event at or before an instant.
    """
    CREATE TABLE strategy_status (
        strategy TEXT NOT NULL, ts INTEGER NOT NULL, state TEXT NOT NULL,
        pnl_eur REAL NOT NULL, trades INTEGER NOT NULL, last_action TEXT NOT NULL,
        positions TEXT NOT NULL, pending_orders INTEGER NOT NULL, rejected INTEGER NOT NULL,
        PRIMARY KEY (strategy, ts)
    ) WITHOUT ROWID;
    CREATE TABLE forecasts (
        market TEXT NOT NULL, ts INTEGER NOT NULL, model_id TEXT NOT NULL,
        horizon_steps INTEGER NOT NULL, target_ts INTEGER NOT NULL,
        price_eur_mwh REAL NOT NULL, lower_eur_mwh REAL, upper_eur_mwh REAL,
        PRIMARY KEY (market, ts, model_id, horizon_steps)
    ) WITHOUT ROWID;
    CREATE INDEX opportunities_pair_ts ON opportunities (buy_market, sell_market, ts);
    """,
    # 5: recorder retention: observed ticks older than the raw window folded into
    # one row per market, kind and hour (engine.store.retention_sql), and how far
    # compaction got.
    f"""
    CREATE TABLE {R.PRICES_HOURLY} (
        market TEXT NOT NULL, kind TEXT NOT NULL, hour_start INTEGER NOT NULL,
        first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
        open_eur_mwh REAL NOT NULL, high_eur_mwh REAL NOT NULL, low_eur_mwh REAL NOT NULL,
        close_eur_mwh REAL NOT NULL, mean_eur_mwh REAL NOT NULL, ticks INTEGER NOT NULL,
        volume_mwh REAL, source TEXT NOT NULL,
        PRIMARY KEY (market, kind, hour_start)
    ) WITHOUT ROWID;
    CREATE TABLE {R.RETENTION_WATERMARK} (
        scope TEXT PRIMARY KEY, compacted_until INTEGER NOT NULL
    ) WITHOUT ROWID;
    """,
)


def migrate(conn: sqlite3.Connection, path: str) -> None:
    """Bring the file behind ``conn`` to the latest version; refuse a newer one."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StoreError(
            f"{path} has schema version {version}, newer than this gridtui "
            f"knows ({len(MIGRATIONS)}): upgrade gridtui or use another file"
        )
    if version == 0 and conn.execute("PRAGMA page_count").fetchone()[0] <= 1:
        # A new file: pages freed by retention go back to the file system with
        # ``PRAGMA incremental_vacuum``. Only possible before the first table (the
        # VACUUM of an empty file applies it); an older file keeps its freed
        # pages and reuses them for new rows.
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("VACUUM")
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version={number}; COMMIT;")
