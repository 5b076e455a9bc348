"""The result screen's picture of a stored backtest: :func:`result_view` of its record.

Built from what the store keeps (``BacktestRecord``: config, metrics, equity
curve; the per-strategy figures are in its config), so a run made by the CLI,
the dashboard or a daemon reads the same. The formatting is the report's
(:mod:`gridtui.report.html`), so the screen and the HTML file say the same numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine.store.base import BacktestRecord
from gridtui.report.html import HEADLINE_METRICS, format_metric, metric_label
from gridtui.tui.views import BacktestResultView, StrategyTradesView

NOT_APPLICABLE = "n/a"


def _when(raw: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        return None


def _trades(per_strategy: dict[str, Any]) -> tuple[StrategyTradesView, ...]:
    rows = []
    for name, report in per_strategy.items():
        figures = report.get("figures", {})
        rows.append(
            StrategyTradesView(
                name=name,
                fills=int(figures.get("fills", 0)),
                volume_mwh=float(figures.get("volume_mwh", 0.0)),
                pnl_eur=float(figures.get("revenue_eur", 0.0)),
                fees_eur=float(figures.get("fees_eur", 0.0)),
                win_rate=float(figures["win_rate"]) if figures.get("settlements") else None,
                open_periods=int(report.get("open_periods", 0)),
            )
        )
    return tuple(rows)


def result_view(record: BacktestRecord) -> BacktestResultView:
    """What the result screen shows of ``record`` (see :class:`BacktestResultView`)."""
    config = record.config
    metrics = []
    for name in HEADLINE_METRICS:
        value = record.metrics.get(name)
        if value is None:
            metrics.append((metric_label(name), NOT_APPLICABLE, ""))
            continue
        tone = "bad" if value < 0 and name != "max_drawdown" else ""
        metrics.append((metric_label(name), format_metric(name, value), tone))
    start, end = _when(config.get("from")), _when(config.get("to"))
    simulated_s = (end - start).total_seconds() if start and end else None
    # The window ends at midnight after its last day: show the last day, as the CLI does.
    window = f"{start:%Y-%m-%d} → {end - timedelta(seconds=1):%Y-%m-%d}" if start and end else ""
    wall_s = config.get("wall_s")
    report = config.get("report")
    return BacktestResultView(
        run_id=record.run_id,
        state=record.state,
        window=window,
        data=str(config.get("data", "")),
        wall_s=float(wall_s) if isinstance(wall_s, int | float) else None,
        simulated_s=simulated_s,
        metrics=tuple(metrics),
        strategies=_trades(dict(config.get("per_strategy") or {})),
        equity=tuple((ts.timestamp(), value) for ts, value in record.equity_curve),
        report_path=str(report) if report else None,
        total_trades=int(record.metrics.get("total_trades", 0)),
    )


__all__ = ["NOT_APPLICABLE", "result_view"]
