"""Backtest reports: one self-contained HTML file with inline SVG charts.

People would rather look than read, so ``gridtui backtest`` writes, beside the
metrics table it prints, a report with

- the **equity curve** of the whole run and of each strategy;
- **daily PnL** as bars (green up, red down);
- the **battery**: state of charge over the price of its market, with its
  charge and discharge steps, for the last week of the run (hourly detail) and
  the whole run (daily means);
- the **trades**: realised PnL of every trade that realised something, over
  time, per strategy, and a table per strategy;
- the metrics and the run's configuration.

Why HTML and SVG rather than PNG: no plotting library to install (matplotlib
would be a 40 MB dependency for four charts), one file that opens in any
browser, scales without blur and can be mailed or attached to a ticket. The
charts are drawn by :mod:`gridtui.report.svg_chart`; nothing is fetched from the web.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from engine.backtest.metrics import daily_pnl
from engine.events import BatteryState, Trade
from gridtui.report.svg_chart import BAD, GOOD, PALETTE, Chart

METRIC_LABELS: Final = {
    "total_revenue": ("Total revenue", "€"),
    "arbitrage_profit": ("Arbitrage profit", "€"),
    "battery_revenue": ("Battery revenue", "€"),
    "mining_profit": ("Mining profit", "€"),
    "technical_pnl": ("Technical PnL", "€"),
    "ml_pnl": ("ML PnL", "€"),
    "fundamental_pnl": ("Fundamental PnL", "€"),
    "battery_utilization": ("Battery utilization", "%"),
    "battery_cycles_per_day": ("Battery cycles per day", ""),
    "price_capture_rate": ("Price capture rate", "%"),
    "win_rate": ("Win rate", "%"),
    "sharpe_ratio": ("Sharpe ratio", ""),
    "max_drawdown": ("Max drawdown", "€"),
    "total_trades": ("Total trades", "#"),
    "total_fees": ("Fees and asset costs", "€"),
    "total_volume_mwh": ("Volume traded", "MWh"),
    "battery_perfect_foresight_eur": ("Battery, perfect foresight", "€"),
    "battery_perfect_foresight_pct": ("Battery, % of perfect foresight", "pct"),
}

# The ten figures a run is judged by first: the dashboard's result screen shows
# these (the report's cards show every metric that applies).
HEADLINE_METRICS: Final = (
    "total_revenue",
    "arbitrage_profit",
    "battery_revenue",
    "win_rate",
    "sharpe_ratio",
    "max_drawdown",
    "total_trades",
    "total_fees",
    "total_volume_mwh",
    "battery_perfect_foresight_pct",
)


def format_metric(name: str, value: float) -> str:
    """A metric as a trader reads it: euros with thousands, rates as percentages."""
    unit = METRIC_LABELS.get(name, (name, ""))[1]
    if unit == "€":
        return f"€{value:,.0f}"
    if unit == "%":
        return f"{100 * value:,.1f} %"
    if unit == "pct":
        return f"{value:,.1f} %"
    if unit == "#":
        return f"{value:,.0f}"
    if unit == "MWh":
        return f"{value:,.0f} MWh"
    return f"{value:,.2f}"


def metric_label(name: str) -> str:
    return METRIC_LABELS.get(name, (name.replace("_", " ").capitalize(), ""))[0]


# -- the report ---------------------------------------------------------------------


def equity_chart(
    curve: Sequence[tuple[datetime, float]], per_strategy: Mapping[str, Sequence[float]]
) -> str:
    if len(curve) < 2:
        return "<p>No equity curve: the run produced no samples.</p>"
    times = [t.timestamp() for t, _ in curve]
    series: list[tuple[str, list[tuple[float, float]]]] = [
        ("total", [(s, v) for s, (_, v) in zip(times, curve, strict=True)])
    ]
    for name, values in sorted(per_strategy.items()):
        if len(values) == len(times) and any(values):
            series.append((name, list(zip(times, values, strict=True))))
    values = [v for _, points in series for _, v in points]
    chart = Chart(
        curve[0][0], curve[-1][0], (min(values), max(values)), left_label="EUR", money=True
    )
    legend = []
    for i, (name, points) in enumerate(series):
        color = "#222" if name == "total" else PALETTE[(i - 1) % len(PALETTE)]
        chart.line(points, color, width=2.4 if name == "total" else 1.3)
        legend.append((name, color))
    return chart.svg(legend)


def daily_chart(curve: Sequence[tuple[datetime, float]]) -> str:
    pnl = daily_pnl(curve)
    days = sorted({t.date() for t, _ in curve})
    if not pnl or len(days) != len(pnl):
        return "<p>Not enough days for a daily chart.</p>"
    start = datetime.combine(days[0], datetime.min.time(), tzinfo=curve[0][0].tzinfo)
    points = [((start + timedelta(days=i)).timestamp(), v) for i, v in enumerate(pnl)]
    chart = Chart(
        start,
        start + timedelta(days=len(days)),
        (min(0.0, *pnl), max(0.0, *pnl)),
        left_label="EUR / day",
        money=True,
    )
    chart.bars(points, 86400)
    return chart.svg()


def battery_chart(
    states: Sequence[BatteryState],
    prices: Sequence[tuple[datetime, float]],
    *,
    last_days: float | None = 7.0,
) -> str:
    if not states:
        return "<p>No battery in this run.</p>"
    end = states[-1].ts
    start = (
        states[0].ts if last_days is None else max(states[0].ts, end - timedelta(days=last_days))
    )
    window = [s for s in states if s.ts >= start]
    priced = [(t, p) for t, p in prices if start <= t <= end]
    daily = last_days is None
    if daily:
        window_points = _daily_means([(s.ts, 100 * s.soc_fraction) for s in window])
        price_points = _daily_means(priced)
    else:
        window_points = [(s.ts.timestamp(), 100 * s.soc_fraction) for s in window]
        price_points = [(t.timestamp(), p) for t, p in priced]
    price_values = [p for _, p in price_points] or [0.0, 1.0]
    chart = Chart(
        start,
        end,
        (min(price_values), max(price_values)),
        right=(0.0, 100.0),
        left_label="price €/MWh",
        right_label="state of charge %",
    )
    chart.area(window_points, "#2ca02c", right=True)
    chart.line(window_points, "#2ca02c", right=True, width=1.2)
    chart.line(price_points, "#1f77b4", width=1.4)
    if not daily:
        charge = [(s.ts.timestamp(), p) for s, (_, p) in _priced(window, priced) if s.power_mw < 0]
        discharge = [
            (s.ts.timestamp(), p) for s, (_, p) in _priced(window, priced) if s.power_mw > 0
        ]
        chart.dots(charge, GOOD, 3.0)
        chart.dots(discharge, BAD, 3.0)
    legend = [("price", "#1f77b4"), ("state of charge", "#2ca02c")]
    if not daily:
        legend += [("charging", GOOD), ("discharging", BAD)]
    return chart.svg(legend)


def _priced(
    states: Sequence[BatteryState], prices: Sequence[tuple[datetime, float]]
) -> list[tuple[BatteryState, tuple[datetime, float]]]:
    by_ts = {t: p for t, p in prices}
    return [(s, (s.ts, by_ts[s.ts])) for s in states if s.ts in by_ts]


def _daily_means(points: Sequence[tuple[datetime, float]]) -> list[tuple[float, float]]:
    sums: dict[Any, list[float]] = defaultdict(list)
    for t, v in points:
        sums[t.date()].append(v)
    out = []
    for day, values in sorted(sums.items()):
        noon = datetime.combine(day, datetime.min.time(), tzinfo=points[0][0].tzinfo)
        out.append(((noon + timedelta(hours=12)).timestamp(), sum(values) / len(values)))
    return out


def trades_chart(trades: Sequence[Trade]) -> str:
    realised = [t for t in trades if t.pnl_eur != 0]
    if not realised:
        return "<p>No trade realised any PnL.</p>"
    names = sorted({t.strategy for t in realised})
    values = [t.pnl_eur for t in realised]
    low, high = _robust_range(values)
    chart = Chart(
        realised[0].ts, realised[-1].ts, (low, high), left_label="PnL per trade, EUR", money=True
    )
    legend = []
    for i, name in enumerate(names):
        color = PALETTE[i % len(PALETTE)]
        mine = [
            (t.ts.timestamp(), min(max(t.pnl_eur, low), high))
            for t in realised
            if t.strategy == name
        ]
        stride = max(1, len(mine) // 1500)
        chart.dots(mine[::stride], color)
        legend.append((f"{name} ({len(mine):,})", color))
    return chart.svg(legend)


def _robust_range(values: Sequence[float]) -> tuple[float, float]:
    """The 0.5–99.5 % range: one outlier trade should not flatten the rest."""
    ordered = sorted(values)
    n = len(ordered)
    low = ordered[int(0.005 * (n - 1))]
    high = ordered[int(0.995 * (n - 1))]
    return (min(low, 0.0), max(high, 0.0))


def strategy_rows(trades: Sequence[Trade], descriptions: Mapping[str, str]) -> str:
    stats: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0, 0])
    for t in trades:
        row = stats[t.strategy]
        row[0] += 1
        row[1] += t.pnl_eur
        row[2] += t.fee_eur
        row[3] += t.pnl_eur > 0
        row[4] += t.pnl_eur < 0
    rows = []
    for name in sorted(set(stats) | set(descriptions)):
        count, pnl, fees, wins, losses = stats.get(name, [0, 0.0, 0.0, 0, 0])
        rate = f"{100 * wins / (wins + losses):.1f} %" if wins + losses else "–"
        css = "good" if pnl >= 0 else "bad"
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{html.escape(descriptions.get(name, ''))}</td>"
            f'<td class="num">{count:,.0f}</td><td class="num {css}">€{pnl:,.0f}</td>'
            f'<td class="num">€{fees:,.0f}</td><td class="num">{rate}</td></tr>'
        )
    return "".join(rows)


CSS: Final = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
svg { width: 100%; height: auto; background: #fff; }
svg text { font-size: 11px; fill: #555; } svg .label { font-size: 12px; fill: #333; }
svg .grid { stroke: #eee; } svg .axis { stroke: #999; }
svg .zero { stroke: #888; stroke-dasharray: 3 3; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.good { color: #1a7f1a; } .bad { color: #c0392b; }
.legend { font-size: 12px; margin: 4px 0 0 70px; } .key { margin-right: 14px; }
.key i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
.metrics { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr));
           gap: 6px 18px; }
.metric { border-left: 3px solid #1f77b4; padding: 2px 8px; }
.metric b { display: block; font-size: 1.2em; }
.note { color: #666; font-size: 0.9em; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; }
"""


def render_report(
    *,
    run_id: str,
    config: Mapping[str, Any],
    metrics: Mapping[str, float],
    equity_curve: Sequence[tuple[datetime, float]],
    strategy_equity: Mapping[str, Sequence[float]] | None = None,
    trades: Sequence[Trade] = (),
    battery_states: Sequence[BatteryState] = (),
    battery_prices: Sequence[tuple[datetime, float]] = (),
    descriptions: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
    ledger: Sequence[Any] = (),
) -> str:
    """The report as one HTML document (``ledger``: the run's capture-ledger rows)."""
    import json

    from gridtui.report.ledger_html import ledger_section

    descriptions = descriptions or dict(config.get("descriptions", {}))
    cards = "".join(
        f'<div class="metric">{html.escape(metric_label(name))}'
        f"<b>{format_metric(name, value)}</b></div>"
        for name, value in metrics.items()
    )
    skipped = config.get("skipped") or {}
    skipped_html = "".join(
        f"<li><b>{html.escape(name)}</b>: {html.escape(str(why))}</li>"
        for name, why in skipped.items()
    )
    window = f"{config.get('from', '')} → {config.get('to', '')}"
    ran = ", ".join(config.get("ran", config.get("strategies", [])))
    data = str(config.get("data", ""))
    sections = [
        f"<h1>Backtest {html.escape(run_id)}</h1>",
        f'<p class="note">{html.escape(window)} · data {html.escape(data)} · '
        f"{html.escape(ran)}</p>",
        f'<div class="metrics">{cards}</div>',
        "<h2>Equity curve</h2>",
        equity_chart(equity_curve, strategy_equity or {}),
        "<h2>Daily PnL</h2>",
        daily_chart(equity_curve),
    ]
    if battery_states:
        sections += [
            "<h2>Battery: state of charge over price, the last 7 days</h2>",
            battery_chart(battery_states, battery_prices, last_days=7.0),
            "<h2>Battery: the whole run (daily means)</h2>",
            battery_chart(battery_states, battery_prices, last_days=None),
        ]
    if ledger:
        sections.append(ledger_section(ledger))
    sections += [
        "<h2>Trades: realised PnL of each trade</h2>",
        trades_chart(trades),
        "<h2>Strategies</h2>",
        "<table><tr><th>strategy</th><th>what it does</th><th>trades</th><th>PnL</th>"
        "<th>fees and costs</th><th>win rate</th></tr>"
        + strategy_rows(trades, descriptions)
        + "</table>",
    ]
    if skipped_html:
        sections.append(f"<h2>Left out</h2><ul>{skipped_html}</ul>")
    if notes:
        sections.append("".join(f'<p class="note">{html.escape(n)}</p>' for n in notes))
    sections.append(
        "<h2>Configuration</h2><pre>"
        + html.escape(json.dumps(dict(config), indent=2, default=str))
        + "</pre>"
    )
    body = "\n".join(sections)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>gridtui backtest {html.escape(run_id)}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>"
    )


def write_report(path: str | Path, **parts: Any) -> Path:
    """Render (see :func:`render_report`) and write the report; return its path."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(**parts), encoding="utf-8")
    return target


__all__ = [
    "HEADLINE_METRICS",
    "METRIC_LABELS",
    "format_metric",
    "metric_label",
    "render_report",
    "write_report",
]
