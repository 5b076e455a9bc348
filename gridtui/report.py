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
charts are drawn here in a few hundred lines; nothing is fetched from the web.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from engine.events import BatteryState, Trade
from engine.metrics import daily_pnl

WIDTH: Final = 960
HEIGHT: Final = 300
MARGIN_LEFT: Final = 70
MARGIN_RIGHT: Final = 70
MARGIN_TOP: Final = 20
MARGIN_BOTTOM: Final = 40
MAX_POINTS: Final = 1500
PALETTE: Final = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
)
GOOD: Final = "#2ca02c"
BAD: Final = "#d62728"

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


# -- drawing ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Axis:
    low: float
    high: float
    start_px: float
    end_px: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low
        if span <= 0:
            return (self.start_px + self.end_px) / 2
        return self.start_px + (value - self.low) / span * (self.end_px - self.start_px)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        return [low]
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _money(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:,.1f}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:,.0f}k"
    return f"{value:,.0f}"


def _thin(
    points: Sequence[tuple[float, float]], limit: int = MAX_POINTS
) -> list[tuple[float, float]]:
    """At most ``limit`` points, keeping each bucket's lowest and highest (shape survives)."""
    if len(points) <= limit:
        return list(points)
    bucket = math.ceil(len(points) / (limit / 2))
    thinned: list[tuple[float, float]] = []
    for i in range(0, len(points), bucket):
        chunk = points[i : i + bucket]
        low = min(chunk, key=lambda p: p[1])
        high = max(chunk, key=lambda p: p[1])
        thinned.extend(sorted({low, high}))
    return thinned


class Chart:
    """One SVG chart with a time axis and a left (and optionally a right) value axis."""

    def __init__(
        self,
        start: datetime,
        end: datetime,
        left: tuple[float, float],
        *,
        right: tuple[float, float] | None = None,
        height: int = HEIGHT,
        left_label: str = "",
        right_label: str = "",
        money: bool = False,
    ) -> None:
        self.start_s = start.timestamp()
        self.end_s = max(end.timestamp(), self.start_s + 1)
        self.height = height
        self.x = Axis(self.start_s, self.end_s, MARGIN_LEFT, WIDTH - MARGIN_RIGHT)
        self.y = Axis(*_padded(left), height - MARGIN_BOTTOM, MARGIN_TOP)
        self.y2 = Axis(*_padded(right), height - MARGIN_BOTTOM, MARGIN_TOP) if right else None
        self.parts: list[str] = []
        self._axes(left_label, right_label, money)

    def _axes(self, left_label: str, right_label: str, money: bool) -> None:
        x, y, parts = self.x, self.y, self.parts
        bottom, top = self.height - MARGIN_BOTTOM, MARGIN_TOP
        for value in nice_ticks(y.low, y.high):
            py = y(value)
            text = _money(value) if money else f"{value:,.4g}"
            parts.append(
                f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{py:.1f}" y2="{py:.1f}" '
                f'class="grid"/><text x="{MARGIN_LEFT - 6}" y="{py + 4:.1f}" text-anchor="end">'
                f"{html.escape(text)}</text>"
            )
        if self.y2 is not None:
            for value in nice_ticks(self.y2.low, self.y2.high):
                py = self.y2(value)
                parts.append(
                    f'<text x="{WIDTH - MARGIN_RIGHT + 6}" y="{py + 4:.1f}">{value:,.4g}</text>'
                )
        span_days = (self.end_s - self.start_s) / 86400
        for ts_s in _time_ticks(self.start_s, self.end_s):
            px = x(ts_s)
            moment = datetime.fromtimestamp(ts_s, tz=UTC)
            label = moment.strftime("%d %b %H:%M" if span_days <= 3 else "%d %b %Y")
            parts.append(
                f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{top}" y2="{bottom}" class="grid"/>'
                f'<text x="{px:.1f}" y="{bottom + 16}" text-anchor="middle">{label}</text>'
            )
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{bottom}" y2="{bottom}" '
            'class="axis"/>'
        )
        if left_label:
            parts.append(
                f'<text x="14" y="{(top + bottom) / 2:.0f}" class="label" '
                f'transform="rotate(-90 14 {(top + bottom) / 2:.0f})" text-anchor="middle">'
                f"{html.escape(left_label)}</text>"
            )
        if right_label:
            cx = WIDTH - 12
            parts.append(
                f'<text x="{cx}" y="{(top + bottom) / 2:.0f}" class="label" '
                f'transform="rotate(90 {cx} {(top + bottom) / 2:.0f})" text-anchor="middle">'
                f"{html.escape(right_label)}</text>"
            )
        if y.low < 0 < y.high:
            parts.append(
                f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y(0):.1f}" '
                f'y2="{y(0):.1f}" class="zero"/>'
            )

    def line(
        self,
        points: Sequence[tuple[float, float]],
        color: str,
        *,
        width: float = 1.5,
        right: bool = False,
        dash: str = "",
    ) -> None:
        axis = self.y2 if right and self.y2 is not None else self.y
        thinned = _thin(points)
        if not thinned:
            return
        d = " ".join(
            f"{'M' if i == 0 else 'L'}{self.x(t):.1f},{axis(v):.1f}"
            for i, (t, v) in enumerate(thinned)
        )
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{width}"{extra}/>'
        )

    def area(
        self, points: Sequence[tuple[float, float]], color: str, *, right: bool = False
    ) -> None:
        axis = self.y2 if right and self.y2 is not None else self.y
        thinned = _thin(points)
        if not thinned:
            return
        base = axis(max(axis.low, 0.0))
        d = f"M{self.x(thinned[0][0]):.1f},{base:.1f} " + " ".join(
            f"L{self.x(t):.1f},{axis(v):.1f}" for t, v in thinned
        )
        d += f" L{self.x(thinned[-1][0]):.1f},{base:.1f} Z"
        self.parts.append(f'<path d="{d}" fill="{color}" fill-opacity="0.25" stroke="none"/>')

    def bars(self, points: Sequence[tuple[float, float]], width_s: float) -> None:
        zero = self.y(0.0 if self.y.low <= 0 <= self.y.high else self.y.low)
        px_width = max(self.x(self.start_s + width_s) - self.x(self.start_s) - 1, 0.8)
        for t, v in points:
            top = self.y(v)
            color = GOOD if v >= 0 else BAD
            self.parts.append(
                f'<rect x="{self.x(t):.1f}" y="{min(top, zero):.1f}" width="{px_width:.1f}" '
                f'height="{abs(zero - top):.1f}" fill="{color}"/>'
            )

    def dots(self, points: Sequence[tuple[float, float]], color: str, radius: float = 1.6) -> None:
        for t, v in points:
            self.parts.append(
                f'<circle cx="{self.x(t):.1f}" cy="{self.y(v):.1f}" r="{radius}" fill="{color}" '
                'fill-opacity="0.6"/>'
            )

    def svg(self, legend: Sequence[tuple[str, str]] = ()) -> str:
        keys = "".join(
            f'<span class="key"><i style="background:{color}"></i>{html.escape(name)}</span>'
            for name, color in legend
        )
        return (
            f'<svg viewBox="0 0 {WIDTH} {self.height}" role="img">{"".join(self.parts)}</svg>'
            + (f'<div class="legend">{keys}</div>' if keys else "")
        )


def _padded(bounds: tuple[float, float] | None) -> tuple[float, float]:
    if bounds is None:
        return (0.0, 1.0)
    low, high = bounds
    if not (math.isfinite(low) and math.isfinite(high)):
        return (0.0, 1.0)
    if high <= low:
        pad = abs(low) * 0.1 or 1.0
        return (low - pad, high + pad)
    pad = (high - low) * 0.05
    return (low - pad, high + pad)


def _time_ticks(start_s: float, end_s: float, count: int = 8) -> list[float]:
    span = end_s - start_s
    hour, day = 3600, 86400
    steps: tuple[int, ...] = (hour, 3 * hour, 6 * hour, 12 * hour, day, 2 * day, 7 * day)
    steps += (14 * day, 30 * day, 61 * day, 91 * day, 182 * day, 365 * day)
    step = next((s for s in steps if span / s <= count), steps[-1])
    first = math.ceil(start_s / step) * step
    return [float(t) for t in range(int(first), int(end_s) + 1, step)]


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
) -> str:
    """The report as one HTML document."""
    import json

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
    "METRIC_LABELS",
    "Chart",
    "format_metric",
    "metric_label",
    "nice_ticks",
    "render_report",
    "write_report",
]
