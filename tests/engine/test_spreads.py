"""Spread engine: hand-computed cases, the lifecycle, staleness, config, and
Hypothesis properties of the spread math and of the incremental engine."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.events import OpportunityStatus, PriceKind, SpreadOpportunity
from engine.spreads.config import KNOWN_TRANSMISSION_COST_EUR_MWH, SpreadConfig, parse_border
from engine.spreads.engine import SpreadEngine
from engine.spreads.net import net_spread
from tests.stubs.builders import T0, tick

DA = PriceKind.DAY_AHEAD
OPENED, UPDATED, CLOSED = (
    OpportunityStatus.OPENED,
    OpportunityStatus.UPDATED,
    OpportunityStatus.CLOSED,
)


def de_fr_engine(**overrides: object) -> SpreadEngine:
    """Two markets, DE→FR costing 1.0 and FR→DE 1.5, defaults otherwise."""
    fields: dict[str, object] = {
        "markets": ("DE", "FR"),
        "transmission_cost_eur_mwh": {"DE-FR": 1.0, "FR-DE": 1.5},
    }
    fields.update(overrides)
    return SpreadEngine(SpreadConfig(**fields))  # type: ignore[arg-type]


# -- hand-computed cases -------------------------------------------------------------


def test_cheap_de_dear_fr_opens_with_net_after_cost():
    engine = de_fr_engine()
    assert engine.on_tick(tick("DE", 60.0)) == []
    [opened] = engine.on_tick(tick("FR", 80.0, seconds=1))

    assert opened.status is OPENED
    assert opened.pair == ("DE", "FR")
    assert opened.spread_eur_mwh == 20.0
    assert opened.transmission_cost_eur_mwh == 1.0
    assert opened.net_spread_eur_mwh == 19.0
    assert opened.ts == opened.opened_at == T0 + timedelta(seconds=1)
    assert opened.duration_s == 0.0
    assert opened.capacity_mw is None
    assert opened.profit_eur_h is None
    assert opened.describe() == "Buy in DE at €60.00, sell in FR at €80.00: net €19.00/MWh"


def test_the_minimum_net_spread_is_inclusive():
    engine = de_fr_engine(min_net_spread_eur_mwh=5.0)
    engine.on_tick(tick("DE", 60.0))
    assert engine.on_tick(tick("FR", 65.75)) == []  # net 4.75
    [opened] = engine.on_tick(tick("FR", 66.0))  # net 5.00
    assert opened.net_spread_eur_mwh == 5.0
    [closed] = engine.on_tick(tick("FR", 65.75))
    assert closed.status is CLOSED


def test_capacity_in_the_buy_direction_gives_eur_per_hour():
    engine = de_fr_engine(capacity_mw={"DE-FR": 3000.0, "FR-DE": 1000.0})
    engine.on_tick(tick("DE", 60.0))
    [opened] = engine.on_tick(tick("FR", 80.0))

    assert opened.capacity_mw == 3000.0
    assert opened.profit_eur_h == 19.0 * 3000.0
    assert opened.describe().endswith("(€57,000/h over 3,000 MW)")


def test_capacity_of_the_other_direction_is_not_used():
    engine = de_fr_engine(capacity_mw={"FR-DE": 1000.0})
    engine.on_tick(tick("DE", 60.0))
    [opened] = engine.on_tick(tick("FR", 80.0))
    assert opened.capacity_mw is None
    assert opened.profit_eur_h is None


def test_cost_of_the_buy_to_sell_direction_applies():
    # FR→DE costs 1.5 here, so the same 20 EUR spread nets less the other way.
    engine = de_fr_engine()
    engine.on_tick(tick("FR", 60.0))
    [opened] = engine.on_tick(tick("DE", 80.0))
    assert opened.pair == ("FR", "DE")
    assert opened.transmission_cost_eur_mwh == 1.5
    assert opened.net_spread_eur_mwh == 18.5


def test_asymmetric_cost_decides_whether_a_spread_is_worth_it():
    engine = de_fr_engine(transmission_cost_eur_mwh={"DE-FR": 1.0, "FR-DE": 8.0})
    engine.on_tick(tick("DE", 50.0))
    assert [o.pair for o in engine.on_tick(tick("FR", 62.0))] == [("DE", "FR")]  # 12 − 1

    other_way = de_fr_engine(transmission_cost_eur_mwh={"DE-FR": 1.0, "FR-DE": 8.0})
    other_way.on_tick(tick("FR", 50.0))
    assert other_way.on_tick(tick("DE", 62.0)) == []  # 12 − 8 = 4 < 5


def test_default_costs_come_from_the_known_borders():
    costs = SpreadConfig().cost_matrix_eur_mwh()
    assert len(costs) == 30  # every ordered pair of the six markets
    assert costs["DE", "FR"] == 1.0
    assert costs["DE", "AT"] == 0.5
    assert costs["GB", "FR"] == costs["FR", "GB"] == 4.0
    assert costs["GB", "DE"] == 5.0
    assert all(0 < cost <= 5.5 for cost in costs.values())
    assert all(cost == KNOWN_TRANSMISSION_COST_EUR_MWH[b, a] for (a, b), cost in costs.items())


def test_each_event_carries_its_rights_price_and_the_congestion_spread_net_of_it():
    # February 2022 (CET): FR 4 € over DE all month, GB 20 € over AT; then March's first hour.
    engine = SpreadEngine(
        SpreadConfig(markets=("DE", "FR", "AT", "GB"), price_kind=PriceKind.DAY_AHEAD)
    )
    february = datetime(2022, 1, 31, 23, tzinfo=UTC)
    for hour in range(28 * 24):
        for market, price in (("DE", 50.0), ("FR", 54.0), ("AT", 50.0), ("GB", 70.0)):
            engine.on_tick(tick(market, price, at=february + timedelta(hours=hour), kind=DA))
    march = datetime(2022, 2, 28, 23, tzinfo=UTC)
    events = engine.on_ticks(
        tick(market, price, at=march, kind=DA)
        for market, price in (("DE", 40.0), ("FR", 50.0), ("AT", 30.0), ("GB", 100.0))
    )
    latest = {e.pair: e for e in events if e.status is not CLOSED}
    de_fr = latest["DE", "FR"]
    assert de_fr.spread_eur_mwh == 10.0  # the congestion spread
    assert de_fr.right_price_eur_mwh == pytest.approx(4.0)  # February's mean payoff
    assert de_fr.net_of_right_eur_mwh == pytest.approx(6.0)
    assert latest["DE", "GB"].right_price_eur_mwh is None  # no interconnector DE-GB
    assert latest["AT", "GB"].net_of_right_eur_mwh is None  # nor AT-GB
    assert latest["AT", "DE"].right_price_eur_mwh == 0.0  # AT was never dearer than DE
    no_rights = SpreadEngine(SpreadConfig(markets=("DE", "FR"), transmission=None))
    no_rights.on_tick(tick("DE", 60.0))
    [opened] = no_rights.on_tick(tick("FR", 80.0))
    assert opened.right_price_eur_mwh is None and opened.net_of_right_eur_mwh is None


def test_an_unknown_border_costs_the_default_and_overrides_win():
    config = SpreadConfig(
        markets=("DE", "PL", "FR"),
        default_transmission_cost_eur_mwh=3.0,
        transmission_cost_eur_mwh={"FR-DE": 0.25},
    )
    costs = config.cost_matrix_eur_mwh()
    assert costs["DE", "PL"] == costs["PL", "DE"] == 3.0
    assert costs["FR", "DE"] == 0.25
    assert costs["DE", "FR"] == 1.0


# -- lifecycle ---------------------------------------------------------------------------


def test_open_update_close_with_duration():
    engine = de_fr_engine()
    engine.on_tick(tick("DE", 60.0))
    [opened] = engine.on_tick(tick("FR", 80.0, seconds=10))
    [updated] = engine.on_tick(tick("FR", 85.0, seconds=40))
    [closed] = engine.on_tick(tick("FR", 64.0, seconds=100))

    assert updated.status is UPDATED
    assert updated.net_spread_eur_mwh == 24.0
    assert updated.opened_at == opened.opened_at
    assert updated.duration_s == 30.0
    assert closed.status is CLOSED
    assert closed.net_spread_eur_mwh == 3.0  # what closed it
    assert closed.opened_at == opened.opened_at
    assert closed.ts == T0 + timedelta(seconds=100)
    assert closed.duration_s == 90.0
    assert engine.open_opportunities() == []


def test_the_events_of_one_opportunity_are_numbered_and_a_new_one_starts_again():
    engine = de_fr_engine(update_step_eur_mwh=0.0)
    engine.on_tick(tick("DE", 60.0))
    [opened] = engine.on_tick(tick("FR", 80.0, seconds=10))
    # Both markets tick in the same second: two updates with one timestamp,
    # told apart (and both stored) by their sequence numbers.
    [first] = engine.on_tick(tick("FR", 82.0, seconds=20))
    [second] = engine.on_tick(tick("DE", 61.0, seconds=20))
    assert first.ts == second.ts
    assert [opened.seq, first.seq, second.seq] == [0, 1, 2]
    [restated] = engine.open_opportunities()  # a late view's copy, not a new event
    assert (restated.seq, restated.status) == (2, UPDATED)
    [closed] = engine.on_tick(tick("FR", 62.0, seconds=30))
    assert (closed.status, closed.seq) == (CLOSED, 3)
    [reopened] = engine.on_tick(tick("FR", 90.0, seconds=40))
    assert (reopened.status, reopened.seq) == (OPENED, 0)


def test_small_moves_are_held_back_until_they_add_up_to_a_step():
    engine = de_fr_engine(update_step_eur_mwh=0.5)
    engine.on_tick(tick("DE", 60.0))
    engine.on_tick(tick("FR", 80.0))  # net 19
    assert engine.on_tick(tick("FR", 80.2, seconds=1)) == []
    assert engine.on_tick(tick("FR", 80.4, seconds=2)) == []
    [updated] = engine.on_tick(tick("FR", 80.6, seconds=3))  # 0.6 since the last event
    assert updated.net_spread_eur_mwh == pytest.approx(19.6)
    assert engine.on_tick(tick("FR", 80.3, seconds=4)) == []  # 0.3 back: held
    [down] = engine.on_tick(tick("DE", 60.6, seconds=5))
    assert down.net_spread_eur_mwh == pytest.approx(18.7)  # 80.3 − 60.6 − 1


def test_a_step_of_zero_updates_on_every_tick_of_the_pair():
    engine = de_fr_engine(update_step_eur_mwh=0.0)
    engine.on_tick(tick("DE", 60.0))
    engine.on_tick(tick("FR", 80.0))
    assert [o.status for o in engine.on_tick(tick("FR", 80.0, seconds=1))] == [UPDATED]


def test_a_flip_of_the_cheap_side_closes_one_trade_and_opens_the_other():
    engine = de_fr_engine()
    engine.on_tick(tick("DE", 60.0))
    engine.on_tick(tick("FR", 80.0))
    closed, opened = engine.on_tick(tick("DE", 100.0, seconds=60))

    assert (closed.status, closed.pair) == (CLOSED, ("DE", "FR"))
    assert closed.spread_eur_mwh == -20.0  # the prices that closed it
    assert closed.duration_s == 60.0
    assert (opened.status, opened.pair) == (OPENED, ("FR", "DE"))
    assert opened.net_spread_eur_mwh == 18.5
    assert opened.opened_at == T0 + timedelta(seconds=60)


def test_a_flip_into_a_too_small_spread_only_closes():
    engine = de_fr_engine()
    engine.on_tick(tick("DE", 60.0))
    engine.on_tick(tick("FR", 80.0))
    assert [o.status for o in engine.on_tick(tick("DE", 82.0))] == [CLOSED]


def test_reopening_starts_a_new_duration():
    engine = de_fr_engine()
    engine.on_tick(tick("DE", 60.0))
    engine.on_tick(tick("FR", 80.0))
    engine.on_tick(tick("FR", 61.0, seconds=30))
    [reopened] = engine.on_tick(tick("FR", 90.0, seconds=50))
    assert reopened.status is OPENED
    assert reopened.opened_at == T0 + timedelta(seconds=50)


# -- staleness ---------------------------------------------------------------------------


def test_a_price_older_than_the_max_age_never_forms_an_opportunity():
    engine = de_fr_engine(max_price_age_s=300.0)
    engine.on_tick(tick("DE", 60.0))
    assert engine.on_tick(tick("FR", 80.0, seconds=301)) == []
    # A fresh DE price brings the pair back.
    [opened] = engine.on_tick(tick("DE", 60.0, seconds=302))
    assert opened.status is OPENED


def test_a_price_exactly_the_max_age_old_still_counts():
    engine = de_fr_engine(max_price_age_s=300.0)
    engine.on_tick(tick("DE", 60.0))
    assert [o.status for o in engine.on_tick(tick("FR", 80.0, seconds=300))] == [OPENED]


def test_an_open_opportunity_closes_when_a_tick_elsewhere_makes_it_stale():
    engine = SpreadEngine(SpreadConfig(markets=("DE", "FR", "NL"), max_price_age_s=60.0))
    engine.on_tick(tick("DE", 60.0))
    engine.on_tick(tick("FR", 80.0, seconds=5))
    # An NL tick 61 s after the DE price: NL-FR is not worth it, DE-FR is stale.
    [closed] = engine.on_tick(tick("NL", 79.0, seconds=61))
    assert (closed.status, closed.pair) == (CLOSED, ("DE", "FR"))
    assert closed.ts == T0 + timedelta(seconds=61)
    assert closed.duration_s == 56.0


def test_expire_closes_what_went_stale_while_no_tick_came():
    engine = de_fr_engine(max_price_age_s=60.0)
    engine.on_tick(tick("DE", 60.0))
    engine.on_tick(tick("FR", 80.0, seconds=10))
    assert engine.expire(T0 + timedelta(seconds=60)) == []
    [closed] = engine.expire(T0 + timedelta(seconds=61))
    assert closed.status is CLOSED
    assert closed.duration_s == 51.0
    assert engine.expire(T0 + timedelta(seconds=500)) == []
    assert engine.open_opportunities() == []


def test_expire_never_moves_time_backwards():
    engine = de_fr_engine(max_price_age_s=60.0)
    engine.on_tick(tick("DE", 60.0))
    engine.on_tick(tick("FR", 80.0))
    engine.expire(T0 + timedelta(seconds=30))
    assert engine.expire(T0) == []
    assert len(engine.open_opportunities()) == 1


def test_a_late_tick_for_a_market_is_ignored():
    engine = de_fr_engine()
    engine.on_tick(tick("DE", 60.0, seconds=10))
    assert engine.on_tick(tick("DE", 99.0, seconds=5)) == []  # older than the held price
    [opened] = engine.on_tick(tick("FR", 80.0, seconds=11))
    assert opened.buy_price_eur_mwh == 60.0


# -- incremental -------------------------------------------------------------------------


def test_a_tick_touches_only_the_pairs_of_its_market():
    # Prices 20 apart open all 15 pairs; with a step of 0 every pair a tick
    # re-evaluates emits an update, so the events show which pairs were touched.
    engine = SpreadEngine(SpreadConfig(update_step_eur_mwh=0.0))
    assert engine.pair_count() == 15
    for step, market in enumerate(engine.markets):
        engine.on_tick(tick(market, 20.0 * step, seconds=step))
    assert len(engine.open_opportunities()) == 15

    updates = engine.on_tick(tick("DE", 1.0, seconds=10))
    assert len(updates) == 5
    assert all(o.status is UPDATED and "DE" in o.pair for o in updates)


def test_open_opportunities_are_best_first_with_their_last_status():
    engine = SpreadEngine(SpreadConfig(markets=("DE", "FR", "NL")))
    engine.on_tick(tick("DE", 50.0))
    engine.on_tick(tick("FR", 70.0))
    engine.on_tick(tick("NL", 90.0, seconds=20))
    engine.on_tick(tick("FR", 72.0, seconds=30))  # DE-FR and FR-NL update

    snapshot = engine.open_opportunities()
    assert [o.pair for o in snapshot] == [("DE", "NL"), ("DE", "FR"), ("FR", "NL")]
    nets = [o.net_spread_eur_mwh for o in snapshot]
    assert nets == sorted(nets, reverse=True)
    assert [o.status for o in snapshot] == [OPENED, UPDATED, UPDATED]
    assert snapshot[0].duration_s == 10.0


def test_three_markets_watch_three_pairs():
    engine = SpreadEngine(SpreadConfig(markets=("DE", "FR", "NL")))
    assert engine.pair_count() == 3
    engine.on_tick(tick("DE", 40.0))
    engine.on_tick(tick("FR", 60.0))
    events = engine.on_tick(tick("NL", 80.0))
    assert sorted(o.pair for o in events) == [("DE", "NL"), ("FR", "NL")]
    assert engine.on_tick(tick("GB", 500.0)) == []  # not configured: ignored


def test_eight_markets_from_config_alone():
    markets = ("DE", "FR", "NL", "BE", "AT", "GB", "PL", "CH")
    engine = SpreadEngine(SpreadConfig(markets=markets, transmission_cost_eur_mwh={"PL-CH": 0.0}))
    assert engine.pair_count() == 28
    engine.on_tick(tick("PL", 40.0))
    [opened] = engine.on_tick(tick("CH", 46.0))
    assert opened.pair == ("PL", "CH")
    assert opened.net_spread_eur_mwh == 6.0
    with_de = {o.pair: o for o in engine.on_tick(tick("DE", 60.0))}
    assert set(with_de) == {("PL", "DE"), ("CH", "DE")}
    assert with_de["CH", "DE"].transmission_cost_eur_mwh == 2.0  # unknown border: the default
    assert with_de["CH", "DE"].net_spread_eur_mwh == 12.0
    assert len(engine.on_ticks([tick(m, 50.0 + 9 * i) for i, m in enumerate(markets)])) > 0


def test_other_price_kinds_and_unknown_markets_are_ignored():
    engine = de_fr_engine()
    engine.on_tick(tick("DE", 60.0))
    assert engine.on_tick(tick("FR", 80.0, kind=PriceKind.DAY_AHEAD)) == []
    assert engine.on_tick(tick("XX", 80.0)) == []
    assert engine.open_opportunities() == []

    day_ahead = de_fr_engine(price_kind=PriceKind.DAY_AHEAD)
    day_ahead.on_tick(tick("DE", 60.0, kind=PriceKind.DAY_AHEAD))
    assert len(day_ahead.on_tick(tick("FR", 80.0, kind=PriceKind.DAY_AHEAD))) == 1


def test_on_ticks_is_on_tick_in_order():
    ticks = [tick("DE", 60.0), tick("FR", 80.0, seconds=1), tick("FR", 61.0, seconds=2)]
    one_by_one = de_fr_engine()
    expected = [event for t in ticks for event in one_by_one.on_tick(t)]
    assert de_fr_engine().on_ticks(ticks) == expected
    assert [o.status for o in expected] == [OPENED, CLOSED]


def test_as_a_kernel_component_it_takes_batches_and_timer_calls():
    engine = de_fr_engine(max_price_age_s=60.0)
    assert engine.name == "spreads"
    batch = [tick("DE", 60.0), tick("NL", 1.0), tick("FR", 80.0, seconds=1)]
    [opened] = engine.on_events(batch, now=T0)
    assert opened.status is OPENED
    assert engine.on_timer(T0 + timedelta(seconds=60)) == []
    [closed] = engine.on_timer(T0 + timedelta(seconds=61))
    assert closed.status is CLOSED


# -- config --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        ({"transmission_cost_eur_mwh": {"DE-XX": 1.0}}, "'DE-XX'"),
        ({"transmission_cost_eur_mwh": {"DEFR": 1.0}}, "'DEFR'"),
        ({"transmission_cost_eur_mwh": {"DE-DE": 1.0}}, "'DE-DE'"),
        ({"transmission_cost_eur_mwh": {"DE-FR": -1.0}}, "'DE-FR'"),
        ({"transmission_cost_eur_mwh": {"DE-FR": math.nan}}, "'DE-FR'"),
        ({"capacity_mw": {"GB-US": 1000.0}}, "'GB-US'"),
        ({"capacity_mw": {"DE-FR": 0.0}}, "DE-FR"),
        ({"markets": ("DE", "FR", "DE")}, "twice"),
        ({"min_net_spread_eur_mwh": -1.0}, "min_net_spread_eur_mwh"),
        ({"max_price_age_s": 0.0}, "max_price_age_s"),
        ({"update_step_eur_mwh": -0.1}, "update_step_eur_mwh"),
    ],
)
def test_bad_config_says_what_is_wrong(fields, names):
    with pytest.raises(ValueError, match=names):
        SpreadConfig(**fields)


def test_config_decodes_from_settings_and_rejects_bad_keys_there_too():
    config = msgspec.convert(
        {"markets": ["DE", "FR"], "capacity_mw": {"DE-FR": 2000}, "price_kind": "intraday"},
        SpreadConfig,
    )
    assert config.capacity_matrix_mw() == {("DE", "FR"): 2000.0}
    with pytest.raises(ValueError, match="'DE-XX'"):
        msgspec.convert({"transmission_cost_eur_mwh": {"DE-XX": 1}}, SpreadConfig)


def test_border_keys_may_hold_hyphenated_market_names():
    assert parse_border("IT-NORD-FR", ("FR", "IT-NORD")) == ("IT-NORD", "FR")
    assert parse_border("FR-IT-NORD", ("FR", "IT-NORD")) == ("FR", "IT-NORD")


# -- properties of the spread math -------------------------------------------------------

prices = st.one_of(
    st.integers(-100, 300).map(float),  # round numbers make ties likely
    st.floats(-500.0, 4000.0, allow_nan=False),
)
costs = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 4.0]), st.floats(0.0, 20.0))


@given(prices, prices, costs, costs)
def test_spread_is_high_minus_low_and_net_is_spread_minus_cost(price_a, price_b, cost_ab, cost_ba):
    buy_in_a, spread, cost, net = net_spread(price_a, price_b, cost_ab, cost_ba)
    buy, sell = (price_a, price_b) if buy_in_a else (price_b, price_a)

    assert spread >= 0.0
    assert buy <= sell
    assert spread == sell - buy == max(price_a, price_b) - min(price_a, price_b)
    assert cost == (cost_ab if buy_in_a else cost_ba)
    assert net == spread - cost
    assert net <= spread


@given(prices, prices, costs, costs)
def test_swapping_the_markets_mirrors_the_trade(price_a, price_b, cost_ab, cost_ba):
    buy_in_a, spread, cost, net = net_spread(price_a, price_b, cost_ab, cost_ba)
    buy_in_b, m_spread, m_cost, m_net = net_spread(price_b, price_a, cost_ba, cost_ab)

    assert (m_spread, m_cost, m_net) == (spread, cost, net)
    if price_a != price_b or cost_ab != cost_ba:
        assert buy_in_b == (not buy_in_a)  # the same market buys, seen from the other side


@given(prices, prices, st.integers(301, 100_000))
def test_a_stale_price_never_forms_an_opportunity(price_de, price_fr, age_s):
    engine = de_fr_engine(max_price_age_s=300.0, min_net_spread_eur_mwh=0.0)
    engine.on_tick(tick("DE", price_de))
    assert engine.on_tick(tick("FR", price_fr, seconds=age_s)) == []
    assert engine.open_opportunities() == []


# -- properties of the engine: incremental == recomputed from scratch ----------------

MARKETS = ("DE", "FR", "NL", "GB")
MAX_AGE_S = 300
MIN_NET = 5.0

steps = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(MARKETS),
            prices,
            st.integers(-20, 200),  # seconds since the last step; < 0 is a late tick
        ),
        st.tuples(st.just("expire"), st.just(0.0), st.integers(0, 400)),
    ),
    max_size=60,
)
cost_matrices = st.fixed_dictionaries(
    {f"{a}-{b}": costs for a in MARKETS for b in MARKETS if a != b}
)


@settings(max_examples=200, deadline=None)
@given(steps, cost_matrices, st.sampled_from([0.0, 0.5, 2.0]))
def test_engine_matches_a_from_scratch_recomputation(script, cost_matrix, step_eur_mwh):
    config = SpreadConfig(
        markets=MARKETS,
        transmission_cost_eur_mwh=cost_matrix,
        capacity_mw={"DE-FR": 1000.0},
        min_net_spread_eur_mwh=MIN_NET,
        max_price_age_s=float(MAX_AGE_S),
        update_step_eur_mwh=step_eur_mwh,
    )
    engine = SpreadEngine(config)
    cost_of = config.cost_matrix_eur_mwh()
    held: dict[str, tuple[int, float]] = {}  # market → (seconds, price) the engine holds
    open_now: dict[frozenset[str], SpreadOpportunity] = {}
    clock_s = 0
    now_s = -(10**9)  # the engine's "now": the newest time seen, none yet

    for market, price, delta_s in script:
        clock_s += delta_s
        if market == "expire":
            events = engine.expire(T0 + timedelta(seconds=clock_s))
        else:
            events = engine.on_tick(tick(market, price, seconds=clock_s))
            if market not in held or clock_s >= held[market][0]:
                held[market] = (clock_s, price)
        now_s = max(now_s, clock_s)

        for event in events:
            key = frozenset(event.pair)
            assert event.ts == T0 + timedelta(seconds=now_s)
            assert event.duration_s == (event.ts - event.opened_at).total_seconds() >= 0
            # Numbered in order within the opportunity: 0 when it opens, +1 each event.
            if event.status is OPENED:
                assert event.seq == 0
            else:
                assert event.seq == open_now[key].seq + 1
            if event.status is CLOSED:
                assert open_now.pop(key).pair == event.pair
                continue
            # Opened or updated: a fresh, worthwhile trade at the prices held.
            assert event.net_spread_eur_mwh >= MIN_NET
            assert event.spread_eur_mwh >= 0
            for side in event.pair:
                assert now_s - held[side][0] <= MAX_AGE_S
            if event.status is OPENED:
                assert key not in open_now
            else:
                assert open_now[key].pair == event.pair
            open_now[key] = event
            if event.pair == ("DE", "FR"):
                assert event.profit_eur_h == event.net_spread_eur_mwh * 1000.0

        expected = {}
        for index, a in enumerate(MARKETS):
            for b in MARKETS[index + 1 :]:
                if a not in held or b not in held:
                    continue
                if min(held[a][0], held[b][0]) < now_s - MAX_AGE_S:
                    continue
                price_a, price_b = held[a][1], held[b][1]
                buy_in_a, spread, cost, net = net_spread(
                    price_a, price_b, cost_of[a, b], cost_of[b, a]
                )
                if net >= MIN_NET:
                    pair = (a, b) if buy_in_a else (b, a)
                    expected[pair] = (spread, cost, net)
        snapshot = engine.open_opportunities()
        assert {
            o.pair: (o.spread_eur_mwh, o.transmission_cost_eur_mwh, o.net_spread_eur_mwh)
            for o in snapshot
        } == expected
        assert {frozenset(o.pair) for o in snapshot} == set(open_now)
