"""``gridtui eval``: score a trained model or policy on any price file.

The targets live in their own modules (``forecast``, ``battery``); this
one only groups them under one command. Training needs the ``train`` extra
(xgboost, stable-baselines3); inference needs only onnxruntime.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from gridtui.commands import battery, forecast
from gridtui.settings.loader import Settings

HELP = """\
Score a registered model on a price file it never saw, and print the evaluation
table (or JSON with --json). Run `gridtui eval TARGET --help` for each target's options.

targets:
  forecast   a forecasting model: MAE, RMSE, sMAPE, rMAE against the naive forecast
  battery    every dispatch policy, as a percentage of perfect foresight
"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "eval",
        help="score forecasting models and battery policies on any price file",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    forecast.register_eval(targets)
    battery.register_eval(targets)


def run(args: argparse.Namespace, settings: Settings) -> int:
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    return handler(args, settings)
