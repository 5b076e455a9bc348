"""The ``gridtui`` command line: parse, merge settings, dispatch to a subcommand."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from gridtui.commands import backtest, config, daemon, dashboard, fetch, serve, train
from gridtui.commands import eval as evaluate
from gridtui.commands.common import common_overrides
from gridtui.logs import setup_logging
from gridtui.settings.loader import SettingsError, load_settings

DESCRIPTION = """\
gridtui — a terminal cockpit for European power markets.

Prices from a feed (the built-in market simulator today) flow through the
engine, which stores every tick, finds cross-border spreads net of transmission
cost, and fans events out on a bus that dashboards and other daemons attach to.

`gridtui` alone opens the dashboard (`gridtui --demo`: a fast simulated market).
Run `gridtui COMMAND --help` for what each command does, with examples.
"""

COMMANDS: dict[str, ModuleType] = {
    "dashboard": dashboard,
    "daemon": daemon,
    "config": config,
    "fetch": fetch,
    "train": train,
    "eval": evaluate,
    "backtest": backtest,
    "serve": serve,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridtui",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--demo", action="store_true", help="open the dashboard on a fast simulated market"
    )
    parser.add_argument(
        "--connect",
        metavar="URL",
        help="open the dashboard attached to a running daemon, e.g. http://127.0.0.1:8765",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # No command (`gridtui`, `gridtui --demo`, `gridtui --markets DE,FR`) opens the dashboard.
    if not (argv and argv[0] in COMMANDS) and not {"-h", "--help"} & set(argv):
        argv.insert(0, "dashboard")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    module = COMMANDS[args.command]
    flags = common_overrides(args)
    if hasattr(module, "overrides"):
        for section, values in module.overrides(args).items():
            flags.setdefault(section, {}).update(values)
    try:
        settings = load_settings(args.config, overrides=flags)
    except SettingsError as exc:
        print(f"gridtui: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log.level, settings.log.format)
    # Everything gridtui writes (store, WAL, spill journal, alert log, models,
    # reports, the token) holds market data or secrets: owner only, 0600 / 0700.
    os.umask(0o077)
    try:
        status: int = module.run(args, settings)
    except SettingsError as exc:
        print(f"gridtui: {exc}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
