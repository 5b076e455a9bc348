"""The ENTSO-E Transparency Platform adapter.

- :mod:`~feeds.entsoe.parse`: XML responses → :class:`~feeds.entsoe.document.Document`
  (walked by :mod:`~feeds.entsoe.xml_walker`; times in :mod:`~feeds.entsoe.times`).
- :mod:`~feeds.entsoe.convert`: documents → price ticks, generation, load, fundamentals.
- :mod:`~feeds.entsoe.budget`: the shared 400 requests/minute token bucket.
- :mod:`~feeds.entsoe.client`: aiohttp client with retries (:mod:`~feeds.entsoe.retry`),
  splitting and clear errors (:mod:`~feeds.entsoe.errors`).
- :mod:`~feeds.entsoe.live`: :class:`~feeds.entsoe.live.EntsoeFeed`, the live feed.
- :mod:`~feeds.entsoe.zones`: market ↔ EIC codes, borders, production types.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

from feeds.entsoe.budget import RequestBudget
from feeds.entsoe.document import Document
from feeds.entsoe.errors import (
    EntsoeAuthError,
    EntsoeError,
    EntsoeRequestError,
    EntsoeUnavailable,
)
from feeds.entsoe.parse import ParseError, parse
from feeds.entsoe.zones import UnknownZoneError, eic_codes

if TYPE_CHECKING:
    from feeds.entsoe.client import ClientConfig, EntsoeClient
    from feeds.entsoe.live import EntsoeFeed, EntsoeFeedConfig

# Loaded on first use: they import aiohttp (0.7 s), and the settings read the
# zone table at every start, also of a dashboard that never calls ENTSO-E.
_LAZY: Final = {
    "ClientConfig": "client",
    "EntsoeClient": "client",
    "EntsoeFeed": "live",
    "EntsoeFeedConfig": "live",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"feeds.entsoe.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'feeds.entsoe' has no attribute {name!r}")


__all__ = [
    "ClientConfig",
    "Document",
    "EntsoeAuthError",
    "EntsoeClient",
    "EntsoeError",
    "EntsoeFeed",
    "EntsoeFeedConfig",
    "EntsoeRequestError",
    "EntsoeUnavailable",
    "ParseError",
    "RequestBudget",
    "UnknownZoneError",
    "eic_codes",
    "parse",
]
