"""Spread configuration: which markets, what each border costs, what is worth trading.

This module owns :class:`SpreadConfig` (frozen, part of the user's settings) and
the parsing of its ``"FROM-TO"`` border maps — the one place border keys are
read. :mod:`engine.spreads.engine` turns a config into a running detector.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

import msgspec

from engine.events import PriceKind
from engine.spreads.transmission import TransmissionConfig

DEFAULT_MARKETS: Final = ("DE", "FR", "NL", "BE", "AT", "GB")

# What moving 1 MWh across a border costs, per direction, in EUR/MWh, for the
# borders gridtui knows. Continental borders are coupled implicitly (no auction
# fee), so their cost is intraday fees, losses and a margin for execution risk:
# lowest on DE-AT (one bidding zone until 2018), a little higher on the
# ALEGrO HVDC link DE-BE. The GB links (IFA/IFA2/ElecLink to FR, BritNed to NL,
# Nemo to BE) are HVDC cables with explicit capacity auctions and ~2-3 % losses
# since Brexit, hence 4-4.5. Markets that share no border pay the cheapest
# chain of borders between them (AT-FR through DE = 0.5 + 1.0, GB-DE through
# NL/FR = 4.0 + 1.0, …). Symmetric by default; every direction can be
# overridden in SpreadConfig. Entries for markets that are not configured are
# simply unused.
KNOWN_TRANSMISSION_COST_EUR_MWH: Final[Mapping[tuple[str, str], float]] = {
    pair: cost
    for (market_a, market_b), cost in {
        ("DE", "AT"): 0.5,
        ("DE", "FR"): 1.0,
        ("DE", "NL"): 1.0,
        ("DE", "BE"): 1.5,
        ("FR", "BE"): 1.0,
        ("NL", "BE"): 1.0,
        ("AT", "FR"): 1.5,
        ("AT", "NL"): 1.5,
        ("AT", "BE"): 2.0,
        ("FR", "NL"): 2.0,
        ("GB", "FR"): 4.0,
        ("GB", "NL"): 4.5,
        ("GB", "BE"): 4.0,
        ("GB", "DE"): 5.0,
        ("GB", "AT"): 5.5,
    }.items()
    for pair in ((market_a, market_b), (market_b, market_a))
}


class SpreadConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How the spread engine judges an opportunity. Frozen; built by the settings layer.

    Border maps are keyed ``"FROM-TO"`` with market names from ``markets``
    (``"DE-FR"`` is DE → FR, buying in DE and selling in FR). A market name may
    itself contain a hyphen (``"IT-NORD-FR"`` parses as IT-NORD → FR).

    Attributes:
        markets: the markets to pair up; any number, every pair is watched.
        price_kind: the only kind of tick considered. Intraday by default:
            day-ahead prices are for future delivery periods and cannot be
            traded against each other now; run a second engine for them.
        transmission_cost_eur_mwh: per-direction cost overrides. A direction not
            listed takes :data:`KNOWN_TRANSMISSION_COST_EUR_MWH`, else
            ``default_transmission_cost_eur_mwh``.
        default_transmission_cost_eur_mwh: cost of a border gridtui knows
            nothing about (a newly configured zone).
        capacity_mw: per-direction cross-border capacity. Where one is given,
            opportunities carry ``profit_eur_h`` = net spread x capacity. Empty
            by default: continental capacities are flow-based and change every
            market time unit, so a fixed number would print a misleading EUR/h.
        min_net_spread_eur_mwh: an opportunity opens at a net spread at or
            above this and closes below it.
        max_price_age_s: a price older than this, measured against the newest
            event time the engine has seen, never forms an opportunity, and an
            open opportunity that rests on it closes.
        update_step_eur_mwh: an ``updated`` event is emitted only once the net
            spread has moved by at least this since the last event of that
            opportunity; it keeps the bus quiet at high tick rates. 0 emits one
            on every tick of the pair.
        transmission: the interconnectors and how their monthly rights are
            priced (``[spreads.transmission]``, the same defaults as the
            arbitrage strategy's): each event carries the right's price and
            the congestion spread net of it. None: no rights shown.
    """

    markets: tuple[str, ...] = DEFAULT_MARKETS
    price_kind: PriceKind = PriceKind.INTRADAY
    transmission_cost_eur_mwh: dict[str, float] = msgspec.field(default_factory=dict)
    default_transmission_cost_eur_mwh: float = 2.0
    capacity_mw: dict[str, float] = msgspec.field(default_factory=dict)
    min_net_spread_eur_mwh: float = 5.0
    max_price_age_s: float = 300.0
    update_step_eur_mwh: float = 0.5
    transmission: TransmissionConfig | None = TransmissionConfig()

    def __post_init__(self) -> None:
        if len(set(self.markets)) != len(self.markets):
            raise ValueError(f"markets are listed twice: {list(self.markets)}")
        default_cost = self.default_transmission_cost_eur_mwh
        _require(
            math.isfinite(default_cost) and default_cost >= 0,
            "default_transmission_cost_eur_mwh",
            default_cost,
            "a finite number >= 0",
        )
        _require(
            self.min_net_spread_eur_mwh >= 0,
            "min_net_spread_eur_mwh",
            self.min_net_spread_eur_mwh,
            ">= 0",
        )
        _require(self.max_price_age_s > 0, "max_price_age_s", self.max_price_age_s, "> 0")
        _require(
            self.update_step_eur_mwh >= 0, "update_step_eur_mwh", self.update_step_eur_mwh, ">= 0"
        )
        # Parsing validates every key and value; the engine parses again when built.
        parse_border_map(self.transmission_cost_eur_mwh, self.markets, "transmission_cost_eur_mwh")
        capacities = parse_border_map(self.capacity_mw, self.markets, "capacity_mw")
        for (from_market, to_market), capacity_mw in capacities.items():
            if capacity_mw <= 0:
                raise ValueError(
                    f"capacity_mw[{from_market}-{to_market}] must be > 0 MW, got {capacity_mw}"
                )

    def cost_matrix_eur_mwh(self) -> dict[tuple[str, str], float]:
        """Transmission cost of every ordered pair of markets, overrides applied."""
        overrides = parse_border_map(
            self.transmission_cost_eur_mwh, self.markets, "transmission_cost_eur_mwh"
        )
        return {
            border: overrides.get(
                border,
                KNOWN_TRANSMISSION_COST_EUR_MWH.get(border, self.default_transmission_cost_eur_mwh),
            )
            for border in _ordered_pairs(self.markets)
        }

    def capacity_matrix_mw(self) -> dict[tuple[str, str], float]:
        """Configured capacity per ordered pair; pairs without one are absent."""
        return parse_border_map(self.capacity_mw, self.markets, "capacity_mw")


def _ordered_pairs(markets: Sequence[str]) -> list[tuple[str, str]]:
    return [(a, b) for a in markets for b in markets if a != b]


def _require(condition: bool, field: str, value: float, rule: str) -> None:
    if not condition:
        raise ValueError(f"SpreadConfig.{field} must be {rule}, got {value}")


def parse_border(key: str, markets: Sequence[str]) -> tuple[str, str]:
    """Split a ``"FROM-TO"`` key into two known markets.

    Raises:
        ValueError: the key names a market that is not configured, names the
            same market twice, or has no hyphen between two markets.
    """
    known = set(markets)
    splits = [
        (key[:cut], key[cut + 1 :])
        for cut, char in enumerate(key)
        if char == "-" and key[:cut] in known and key[cut + 1 :] in known
    ]
    if len(splits) != 1:
        raise ValueError(
            f"border key {key!r} must be 'FROM-TO' with two of the configured markets "
            f"{list(markets)}"
        )
    from_market, to_market = splits[0]
    if from_market == to_market:
        raise ValueError(f"border key {key!r} names the same market twice")
    return from_market, to_market


def parse_border_map(
    values: Mapping[str, float], markets: Sequence[str], field: str
) -> dict[tuple[str, str], float]:
    """Parse a ``{"FROM-TO": number}`` map; the one place border keys are read.

    Raises:
        ValueError: a bad key (see :func:`parse_border`) or a negative or
            non-finite number; the message names the field and the key.
    """
    parsed: dict[tuple[str, str], float] = {}
    for key, value in values.items():
        try:
            border = parse_border(key, markets)
        except ValueError as exc:
            raise ValueError(f"{field}: {exc}") from None
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{field}[{key!r}] must be a finite number >= 0, got {value}")
        parsed[border] = float(value)
    return parsed
