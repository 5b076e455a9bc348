"""The HTML backtest report shows the capture ledger over the run.

A battery backtest on synthetic hourly prices goes the CLI's way
(:func:`gridtui.backtest_runs.prepare` → :func:`~gridtui.backtest_runs.run_and_save`
with a report); the report's ledger section carries the run's realized money
(the run's ``battery_revenue``) and its optimum (``battery_perfect_foresight_eur``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from gridtui.backtest_runs import prepare, run_and_save
from tests.engine.test_battery_one_truth import settings_for, write_synthetic


async def test_the_run_report_has_the_ledger_of_the_run(tmp_path):
    first, after = date(2022, 5, 2), date(2022, 5, 16)
    path = write_synthetic(tmp_path / "prices.parquet", first, after, seed=5)
    settings = settings_for("weekly")
    prepared = prepare(
        settings, data=str(path), start=first, end=after, names=["battery"], run_id="bt-ledger"
    )
    report = tmp_path / "report.html"
    result = await run_and_save(
        prepared, None, created_at=datetime(2022, 5, 16, tzinfo=UTC), report=report
    )
    text = report.read_text()
    assert "Capture ledger: % of perfect foresight over the run" in text
    metrics = result.metrics
    assert metrics.battery_perfect_foresight_eur and metrics.battery_perfect_foresight_pct
    assert f"<td>{metrics.battery_revenue:,.2f} €</td>" in text
    assert f"<td>{metrics.battery_perfect_foresight_eur:,.2f} €</td>" in text
    assert f"<td>{metrics.battery_perfect_foresight_pct:.2f} %</td>" in text
    assert "bess-1" in text and "trades battery bess-1" in text
