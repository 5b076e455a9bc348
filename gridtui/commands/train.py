"""``gridtui train``: offline training of forecasting models and battery policies.

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
Train a model on a price file and register it (ONNX + metadata) in the model
registry. Run `gridtui train TARGET --help` for each target's options.

targets:
  forecast   XGBoost price forecasts (intraday horizons or the day-ahead auction)
  battery    an RL battery-dispatch policy (stable-baselines3)
"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "train",
        help="train forecasting models and battery policies",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    forecast.register_train(targets)
    battery.register_train(targets)


def run(args: argparse.Namespace, settings: Settings) -> int:
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    return handler(args, settings)
