"""Flags every command shares: config file, markets, logging."""

from __future__ import annotations

import argparse
from typing import Any


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="TOML settings file")
    parser.add_argument(
        "--markets", metavar="LIST", help="comma list of market codes, e.g. DE,FR,NL"
    )
    parser.add_argument(
        "--log-level", metavar="LEVEL", help="DEBUG, INFO (default), WARNING, ERROR"
    )
    parser.add_argument("--log-format", choices=["text", "json"], help="log line format")


def put(found: dict[str, Any], section: str | None, key: str, value: object) -> None:
    """Record a flag's value as a settings override unless the flag was not given."""
    if value is None:
        return
    (found.setdefault(section, {}) if section else found)[key] = value


def split_list(text: str | None) -> list[str] | None:
    """A comma-list flag's items (None when the flag was not given)."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def common_overrides(args: argparse.Namespace) -> dict[str, Any]:
    found: dict[str, Any] = {}
    put(found, None, "markets", args.markets.split(",") if args.markets else None)
    put(found, "log", "level", args.log_level)
    put(found, "log", "format", args.log_format)
    return found
