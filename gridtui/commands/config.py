"""``gridtui config``: print the merged settings."""

from __future__ import annotations

import argparse

import msgspec

from gridtui.commands.common import add_common
from gridtui.settings.loader import Settings, to_toml_dict

HELP = """\
Print the merged settings (defaults < TOML file < GRIDTUI_* variables < flags)
as JSON, so you can see what a daemon would run with.

The file is --config PATH, else $GRIDTUI_CONFIG, else ~/.config/gridtui/config.toml.
Variables: GRIDTUI_<SECTION>_<FIELD>, e.g. GRIDTUI_STORE_URL=postgresql://…,
GRIDTUI_BUS_URL=redis://127.0.0.1:6379/0, GRIDTUI_FEED_TICK_INTERVAL_S=1,
GRIDTUI_MARKETS=DE,FR,NL.

example config.toml:
  markets = ["DE", "FR", "NL", "BE", "AT", "GB"]
  [store]
  url = "postgresql://postgres@127.0.0.1:5432/gridtui"
  [spreads]
  min_net_spread_eur_mwh = 8.0
  [spreads.transmission_cost_eur_mwh]
  "DE-FR" = 1.5
"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "config",
        help="print the merged settings",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    print(msgspec.json.format(msgspec.json.encode(to_toml_dict(settings))).decode())
    return 0
