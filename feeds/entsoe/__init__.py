"""The ENTSO-E Transparency Platform adapter.

- :mod:`~feeds.entsoe.parse`: XML responses → :class:`~feeds.entsoe.parse.Document`.
- :mod:`~feeds.entsoe.convert`: documents → price ticks, generation, load, fundamentals.
- :mod:`~feeds.entsoe.budget`: the shared 400 requests/minute token bucket.
- :mod:`~feeds.entsoe.client`: aiohttp client with retries, splitting and clear errors.
- :mod:`~feeds.entsoe.live`: :class:`~feeds.entsoe.live.EntsoeFeed`, the live feed.
- :mod:`~feeds.entsoe.zones`: market ↔ EIC codes, borders, production types.
"""

from feeds.entsoe.budget import RequestBudget
from feeds.entsoe.client import (
    ClientConfig,
    EntsoeAuthError,
    EntsoeClient,
    EntsoeError,
    EntsoeRequestError,
    EntsoeUnavailable,
)
from feeds.entsoe.live import EntsoeFeed, EntsoeFeedConfig
from feeds.entsoe.parse import Document, ParseError, parse
from feeds.entsoe.zones import UnknownZoneError, eic_codes

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
