"""What ``gridtui eval battery`` scores and prints.

One row per market and policy — net revenue, its share of perfect foresight,
cycles, and the information the policy had (:class:`engine.information.Information`):
perfect foresight; the after-publication upper bounds (MPC, rule, RL policy,
each hour decided knowing its day-ahead price); and the committed batteries
(:mod:`engine.battery.commitment`: day D fixed at D−1's gate closure on a forecast,
settled at D's prices), which is what a day-ahead trader can earn. The rich
table of them says which information each row had. The arguments, the data
loading and the handlers live in :mod:`gridtui.commands.battery`, the
committed rows' forecasts in :mod:`gridtui.commands.battery_commit`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def series_start(series: Any) -> datetime:
    """First step of a ``PriceSeries``, UTC."""
    from engine.battery.price_series import from_us

    return from_us(int(series.start_us))


def series_end(series: Any) -> datetime:
    """End of a ``PriceSeries`` (after its last step), UTC."""
    from engine.battery.price_series import from_us

    return from_us(int(series.start_us + len(series) * series.step_us))


@dataclass(frozen=True, slots=True)
class CommittedEntry:
    """One committed row per market: its name, its forecast, its planner.

    ``forecast`` maps an evaluated ``PriceSeries`` to a forecast on its grid (or
    None: no forecast for that market, no row); ``planner`` makes a fresh
    :class:`engine.battery.commitment.DayPlanner`.
    """

    policy: str
    forecast: Callable[[Any], Any | None]
    planner: Callable[[], Any]


def evaluate(
    series: Sequence[Any],
    spec: Any,
    controllers: Sequence[tuple[str, Any]],
    rule: Any,
    committed: Sequence[CommittedEntry] = (),
    fee_eur_mwh: float = 0.0,
) -> list[dict[str, Any]]:
    """One row per market and policy: net revenue and its share of perfect foresight.

    ``controllers`` are ``(name, factory)`` pairs run after publication; a
    factory makes a fresh controller per market (the MPC keeps a plan).
    Every row pays wear and ``fee_eur_mwh`` per MWh traded, as a backtest's
    fills do (:mod:`engine.battery.costs`: one truth with ``gridtui backtest``).
    """
    from engine.battery.commitment import run_committed
    from engine.battery.costs import perfect_foresight, trading_spec
    from engine.battery.dispatch import run_controller
    from engine.information import Information

    spec = trading_spec(spec, fee_eur_mwh)
    rows: list[dict[str, Any]] = []
    for one in series:
        optimum = perfect_foresight(spec, one, 0.0)  # the fee is in ``spec`` already
        best = optimum.net_revenue_eur
        known_end = rule.known_end(one)
        charged = float(optimum.charge_mw.sum() * one.dt_h)
        rows.append(
            _row(spec, one, "perfect foresight", Information.PERFECT_FORESIGHT, best, best, charged)
        )
        for name, make in controllers:
            run = run_controller(spec, one, make(), known_end=known_end)
            rows.append(
                _row(
                    spec,
                    one,
                    name,
                    Information.AFTER_PUBLICATION,
                    run.net_revenue_eur,
                    best,
                    run.status.charged_mwh,
                )
            )
        for entry in committed:
            forecast = entry.forecast(one)
            if forecast is None:
                continue
            held = run_committed(spec, one, forecast, entry.planner())
            rows.append(
                _row(
                    spec,
                    one,
                    entry.policy,
                    held.information,
                    held.net_revenue_eur,
                    best,
                    held.status.charged_mwh,
                )
            )
    return rows


def _row(
    spec: Any,
    series: Any,
    policy: str,
    information: Any,
    net: float,
    best: float,
    charged_mwh: float,
) -> dict[str, Any]:
    return {
        "market": series.market,
        "policy": policy,
        "information": str(information),
        "from": series_start(series).isoformat(),
        "to": series_end(series).isoformat(),
        "hours": len(series) * series.dt_h,
        "net_revenue_eur": round(net, 2),
        "percent_of_perfect_foresight": round(100 * net / best, 2) if best > 0 else math.nan,
        "charged_mwh": round(float(charged_mwh), 3),
        # Full cycles: energy that reached the cells over the usable capacity.
        "cycles": round(charged_mwh * spec.charge_efficiency / spec.usable_mwh, 1),
    }


def print_table(rows: Sequence[dict[str, Any]]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from engine.information import MEANING, Information

    # No vertical rules: the information labels must fit beside the policy in 80 columns.
    table = Table(
        title="Battery dispatch: net revenue (revenue − degradation − fees)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("Market")
    table.add_column("Policy", min_width=17, overflow="fold")
    table.add_column("Information", no_wrap=True)
    for name in ("Net €", "% of PF", "Cycles"):
        table.add_column(name, justify="right", no_wrap=True)
    previous = None
    for row in rows:
        if previous is not None and row["market"] != previous:
            table.add_section()
        previous = row["market"]
        table.add_row(
            row["market"],
            row["policy"],
            row["information"],
            f"{row['net_revenue_eur']:,.0f}",
            f"{row['percent_of_perfect_foresight']:.1f} %",
            f"{row['cycles']:,.0f}",
        )
    console = Console()
    console.print(table)
    console.print(
        "Net €: revenue − degradation − exchange fee; % of PF: of the perfect-foresight optimum"
    )
    shown = {row["information"] for row in rows}
    for label in Information:
        if label.value in shown:
            console.print(f"{label.value}: {MEANING[label]}")
