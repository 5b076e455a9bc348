"""What ``gridtui train forecast`` and ``gridtui eval forecast`` print.

The rich tables (evaluation, feature importance, the registry's models and
their comparison), the training progress bar and the ``--json`` output; the
arguments and the handlers live in :mod:`gridtui.commands.forecast`.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress

    from models.forecast.evaluation import EvalReport
    from models.registry import ModelMeta
    from models.training import TrainedForecast


def print_report(report: EvalReport, title: str) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from models.forecast.evaluation import TABLE_HEADERS, table_rows

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for i, header in enumerate(TABLE_HEADERS):
        table.add_column(header, justify="left" if i == 0 else "right", no_wrap=True)
    for row in table_rows(report):
        table.add_row(*row, style="bold" if row[0] == "all" else None)
    Console().print(table)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(payload: Any) -> None:
    import msgspec

    print(json.dumps(msgspec.to_builtins(payload), indent=2, default=_json_default))


# -- train -----------------------------------------------------------------------------------


def train_progress(*, disable: bool) -> Progress:
    """The training progress bar, on stderr."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=console, disable=disable)


def print_trained(trained: TrainedForecast, saved: ModelMeta, *, promoted: bool) -> None:
    """The test split's table, the top features and where the model went."""
    print_report(trained.report, f"{saved.model_id}: test split (last 15 % of the range)")
    from rich.console import Console as Out
    from rich.table import Table

    top = Table(title="feature importance (share of gain, point model)", title_justify="left")
    top.add_column("feature")
    top.add_column("share", justify="right")
    for name, share in trained.importance[:10]:
        top.add_row(name, f"{100 * share:.1f} %")
    out = Out()
    out.print(top)
    then = (
        "and promoted"
        if promoted
        else f"— promote it with `gridtui eval forecast --promote {saved.model_id}`"
    )
    out.print(
        f"saved [bold]{saved.model_id}[/] (v{saved.version}, {len(saved.files)} ONNX files) {then}"
    )


# -- eval ------------------------------------------------------------------------------------


def print_models(rows: list[dict[str, Any]], promoted: dict[str, str | None]) -> None:
    """The registered forecast models, the promoted one of each task marked.

    Ids are never cut: the table wraps to the terminal's width instead.
    """
    from rich.console import Console

    from gridtui.commands.tables import fitting_table

    cells = [
        (
            row["model_id"],
            row["task"],
            str(row["version"]),
            row["markets"],
            row["train"],
            f"{row['rmae']:.3f}",
            f"{row['coverage']:.1f}",
            "promoted" if promoted.get(row["task"]) == row["model_id"] else "",
        )
        for row in rows
    ]
    headers = ("model", "task", "v", "markets", "trained on", "rMAE", "cover %", "")
    console = Console()
    table = fitting_table(
        "forecast models", headers, cells, width=console.width, right=("rMAE", "cover %")
    )
    console.print(table)


def print_comparison(rows: list[dict[str, Any]]) -> None:
    """Models side by side: the metrics of each one's test split."""
    from rich.console import Console
    from rich.table import Table

    keys = sorted({k for row in rows for k in row} - {"model_id", "task", "version"})
    table = Table(title="forecast models compared (metrics of each one's test split)")
    table.add_column("")
    for row in rows:
        table.add_column(str(row["model_id"]), justify="right")
    for key in ["task", "version", *keys]:
        cells = []
        for row in rows:
            value = row.get(key, "")
            if isinstance(value, float):
                cells.append(f"{value:.4g}")
            elif isinstance(value, datetime):
                cells.append(f"{value:%Y-%m-%d}")
            else:
                cells.append(str(value))
        table.add_row(key, *cells)
    Console().print(table)
