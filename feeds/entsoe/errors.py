"""The errors an ENTSO-E request ends in, and the token help they quote.

Every failure of :class:`~feeds.entsoe.client.EntsoeClient` reaches its caller
as one of these; each message names the request and what to do about it.
"""

from __future__ import annotations

from typing import Final

TOKEN_HELP: Final = (
    "set your ENTSO-E Web API security token in GRIDTUI_ENTSOE_TOKEN or as "
    '`token = "…"` under [entsoe] in the config file. A token comes from '
    "transparency.entsoe.eu → My Account Settings → Web API Security Token, after "
    "asking transparency@entsoe.eu for API access"
)


class EntsoeError(RuntimeError):
    """An ENTSO-E request failed; the message names the request and what to do."""


class EntsoeAuthError(EntsoeError):
    """The API rejected the token (HTTP 401/403). Retrying cannot help."""


class EntsoeRequestError(EntsoeError):
    """The API refused the request itself (an Acknowledgement other than "no data")."""


class EntsoeUnavailable(EntsoeError):
    """The API kept failing (5xx, timeouts, broken bodies) until the retries ran out."""
