"""Ask the daemon whether a token is its API token (``gridtui serve`` keeps no copy to compare).

``GET /api/v1/audit?limit=1`` needs the bearer token and changes nothing, so its
answer is the daemon's own verdict: 200 yes, 401 no. The token goes in the
``Authorization`` header, never in the URL.
"""

from __future__ import annotations

import aiohttp


class TokenCheckError(ConnectionError):
    """The daemon could not be asked (unreachable, or an unexpected answer)."""


async def daemon_accepts(daemon_url: str, token: str, *, timeout_s: float = 5.0) -> bool:
    """True when the daemon at ``daemon_url`` accepts ``token``. Raises TokenCheckError."""
    url = daemon_url.rstrip("/") + "/api/v1/audit"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session,
            session.get(
                url, params={"limit": "1"}, headers={"Authorization": f"Bearer {token}"}
            ) as response,
        ):
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TokenCheckError(f"the daemon at {daemon_url} is unreachable: {exc}") from exc
    if status == 200:
        return True
    if status == 401:
        return False
    raise TokenCheckError(f"the daemon at {daemon_url} answered {status} to a token check")
