"""What ``gridtui eval battery`` scores and prints.

One row per market and policy (net revenue, its share of perfect foresight,
cycles) and the rich table of them; the arguments, the data loading and the
handlers of ``train battery`` and ``eval battery`` live in
:mod:`gridtui.commands.battery_cli`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any


def series_start(series: Any) -> datetime:
    """First step of a ``PriceSeries``, UTC."""
    from engine.price_series import from_us

    return from_us(int(series.start_us))


def series_end(series: Any) -> datetime:
    """End of a ``PriceSeries`` (after its last step), UTC."""
    from engine.price_series import from_us

    return from_us(int(series.start_us + len(series) * series.step_us))


def evaluate(
    series: Sequence[Any],
    spec: Any,
    controllers: Sequence[tuple[str, Any]],
    rule: Any,
) -> list[dict[str, Any]]:
    """One row per market and policy: net revenue and its share of perfect foresight.

    ``controllers`` are ``(name, factory)`` pairs; a factory makes a fresh
    controller per market (the MPC keeps a plan).
    """
    from engine.dispatch import run_controller
    from engine.optimum import solve_schedule

    rows: list[dict[str, Any]] = []
    for one in series:
        optimum = solve_schedule(spec, one.prices, one.dt_h, day_numbers=one.day_numbers())
        best = optimum.net_revenue_eur
        known_end = rule.known_end(one)
        charged = float(optimum.charge_mw.sum() * one.dt_h)
        rows.append(_row(spec, one, "perfect foresight", best, best, charged))
        for name, make in controllers:
            run = run_controller(spec, one, make(), known_end=known_end)
            rows.append(_row(spec, one, name, run.net_revenue_eur, best, run.status.charged_mwh))
    return rows


def _row(
    spec: Any, series: Any, policy: str, net: float, best: float, charged_mwh: float
) -> dict[str, Any]:
    return {
        "market": series.market,
        "policy": policy,
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
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Battery dispatch: net revenue (revenue − degradation)")
    for name, justify in (
        ("Market", "left"),
        ("Policy", "left"),
        ("Net revenue €", "right"),
        ("% of perfect foresight", "right"),
        ("Cycles", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    previous = None
    for row in rows:
        if previous is not None and row["market"] != previous:
            table.add_section()
        previous = row["market"]
        table.add_row(
            row["market"],
            row["policy"],
            f"{row['net_revenue_eur']:,.0f}",
            f"{row['percent_of_perfect_foresight']:.1f} %",
            f"{row['cycles']:,.0f}",
        )
    Console().print(table)
