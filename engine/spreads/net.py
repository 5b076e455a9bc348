"""The spread math of a pair of markets: which way to trade, the spread, its net after the border.

Pure and property-tested (``tests/engine/test_spreads.py``); the spread engine
(:mod:`engine.spreads.engine`) calls it for every pair a tick touches.
"""

from __future__ import annotations


def net_spread(
    price_a_eur_mwh: float,
    price_b_eur_mwh: float,
    cost_a_to_b_eur_mwh: float,
    cost_b_to_a_eur_mwh: float,
) -> tuple[bool, float, float, float]:
    """The trade between two markets: buy in the cheaper, sell in the dearer.

    Returns:
        ``(buy_in_a, spread_eur_mwh, transmission_cost_eur_mwh, net_spread_eur_mwh)``:
        whether A is the market to buy in; the spread high − low (never
        negative); the cost of the border in the buy → sell direction; and
        net = spread − cost. At equal prices the cheaper direction is taken,
        and A when both directions cost the same.
    """
    if price_a_eur_mwh < price_b_eur_mwh or (
        price_a_eur_mwh == price_b_eur_mwh and cost_a_to_b_eur_mwh <= cost_b_to_a_eur_mwh
    ):
        spread_eur_mwh = price_b_eur_mwh - price_a_eur_mwh
        return True, spread_eur_mwh, cost_a_to_b_eur_mwh, spread_eur_mwh - cost_a_to_b_eur_mwh
    spread_eur_mwh = price_a_eur_mwh - price_b_eur_mwh
    return False, spread_eur_mwh, cost_b_to_a_eur_mwh, spread_eur_mwh - cost_b_to_a_eur_mwh


__all__ = ["net_spread"]
