import math
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import SimClock
from engine.events import Fundamentals, PriceKind
from engine.validation import TickValidator, ValidationConfig
from tests.stubs.builders import T0, tick


@pytest.fixture
def validator():
    return TickValidator(ValidationConfig(), SimClock(T0 + timedelta(hours=1)))


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (tick(price=math.nan), "price is not a finite number"),
        (tick(price=math.inf), "price is not a finite number"),
        (tick(price=-math.inf), "price is not a finite number"),
        (tick(price=1e9), "price outside the plausible range"),
        (tick(market="XX"), "unknown market"),
        (tick(at=datetime(2024, 3, 1, 12)), "naive timestamp (need tz-aware UTC)"),
        (tick(seconds=3 * 3600), "timestamp in the future"),
        (tick(kind=PriceKind.DAY_AHEAD, seconds=72 * 3600), "timestamp in the future"),
    ],
)
def test_bad_ticks_are_rejected_with_a_reason_and_counted(validator, bad, reason, caplog):
    good = tick("FR", 55.0)
    assert validator.filter([good, bad, good]) == [good, good]
    assert validator.rejected_total == 1
    assert any(key.startswith(reason) for key in validator.rejected)
    assert reason.split(" (")[0] in caplog.text


def test_day_ahead_prices_may_lie_in_the_future(validator):
    tomorrow = tick(kind=PriceKind.DAY_AHEAD, seconds=30 * 3600)
    assert validator.filter([tomorrow]) == [tomorrow]


def test_bad_fundamentals_are_rejected(validator):
    bad = Fundamentals(ts=T0, market="DE", load_mw=math.nan, wind_mw=1.0, solar_mw=0.0)
    assert validator.filter([bad]) == []
    assert validator.rejected_total == 1


def test_a_flood_of_garbage_logs_a_bounded_number_of_lines(caplog):
    validator = TickValidator(ValidationConfig(log_first=3, log_every=1000), SimClock(T0))
    validator.filter([tick(price=math.nan)] * 2500)
    assert validator.rejected_total == 2500
    assert len(caplog.records) == 3 + 2


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(list(PriceKind)),
    market=st.sampled_from(["DE", "GB", "XX"]),
    price=st.floats(allow_nan=True, allow_infinity=True),
    ahead_h=st.floats(min_value=-100.0, max_value=100.0),
    aware=st.booleans(),
)
def test_the_batch_fast_path_agrees_with_the_reasons(kind, market, price, ahead_h, aware):
    # filter() checks the common ticks inline; it must keep exactly the ticks
    # that reason() finds nothing wrong with, whatever their kind.
    now = T0 + timedelta(hours=1)
    validator = TickValidator(ValidationConfig(), SimClock(now))
    at = now if aware else now.replace(tzinfo=None)
    candidate = tick(market, price, at=at, seconds=ahead_h * 3600, kind=kind)
    kept = validator.filter([candidate])
    assert kept == ([candidate] if validator.reason(candidate, now) is None else [])
    assert validator.rejected_total == 1 - len(kept)
