"""The backtest report's capture ledger: the run's rows of ``run_ledger``.

Per battery and strategy over the whole run
(:func:`engine.backtest.capture.run_ledger`): realized net revenue beside the
perfect-foresight optimum, the share captured, and the gap split into forecast
error and execution (planning one day at a time, then delivery) — the same
figures the dashboard's panes and ``GET /api/v1/ledger`` show for "run".
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from engine.capture.rows import LedgerRow
from engine.information import MEANING, Information


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.2f} €"


def ledger_section(rows: Sequence[LedgerRow]) -> str:
    """An HTML table of ``rows`` and what each figure knew; empty when there are none."""
    if not rows:
        return ""
    cells = []
    for row in rows:
        captured = "n/a" if row.captured_pct is None else f"{row.captured_pct:.2f} %"
        cells.append(
            "<tr>"
            f"<td>{html.escape(row.owner)}</td><td>{html.escape(row.kind)}</td>"
            f"<td>{row.start:%Y-%m-%d %H:%M} → {row.end:%Y-%m-%d %H:%M} UTC</td>"
            f"<td>{_money(row.realized_eur)}</td><td>{_money(row.optimum_eur)}</td>"
            f"<td>{captured}</td><td>{_money(row.forecast_error_eur)}</td>"
            f"<td>{_money(row.execution_eur)}</td><td>{_money(row.horizon_eur)}</td>"
            f"<td>{_money(row.delivery_eur)}</td><td>{html.escape(row.note)}</td>"
            "</tr>"
        )
    gate, foresight = Information.GATE_CLOSURE, Information.PERFECT_FORESIGHT
    return (
        "<h2>Capture ledger: % of perfect foresight over the run</h2>"
        "<table><tr><th>owner</th><th>kind</th><th>span</th>"
        f"<th>realized ({gate.value})</th><th>optimum ({foresight.value})</th>"
        "<th>captured</th><th>forecast error</th><th>execution</th>"
        "<th>of which: one day at a time</th><th>of which: delivery</th><th>note</th></tr>"
        + "".join(cells)
        + "</table>"
        '<p class="note">optimum − realized = forecast error + execution. Forecast error: the '
        "committed LP on the realized prices minus the plan committed on the forecast, both "
        "settled at the realized prices. Execution: the rest — planning one delivery day at a "
        "time (the optimum sees the whole run), and delivery (fees, slippage, missed gates, SoC "
        f"off plan). {gate.value}: {html.escape(MEANING[gate])}; {foresight.value}: "
        f"{html.escape(MEANING[foresight])}.</p>"
    )


__all__ = ["ledger_section"]
