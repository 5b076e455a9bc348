from datetime import UTC, datetime

import pytest

from engine.bus import codec
from engine.events import (
    ALL_TOPICS,
    TOPIC_OF,
    Alert,
    OpportunityStatus,
    PriceTick,
    Severity,
    SpreadOpportunity,
    topic_of,
)
from tests.stubs.builders import tick

NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)


def test_every_event_type_has_one_topic():
    assert len(set(TOPIC_OF.values())) == len(TOPIC_OF) == len(ALL_TOPICS)


def test_events_are_frozen_and_slotted():
    price = tick()
    with pytest.raises(AttributeError):
        price.price_eur_mwh = 1.0  # type: ignore[misc]
    assert not hasattr(price, "__dict__")


@pytest.mark.parametrize("encoding", codec.ENCODINGS)
def test_mixed_batch_round_trips(encoding):
    batch = [
        tick("FR", 81.5),
        Alert(ts=NOW, rule="spike", severity=Severity.CRITICAL, message="FR spiked", key="FR"),
        SpreadOpportunity(
            ts=NOW,
            buy_market="DE",
            sell_market="FR",
            buy_price_eur_mwh=60.0,
            sell_price_eur_mwh=80.0,
            spread_eur_mwh=20.0,
            transmission_cost_eur_mwh=1.5,
            net_spread_eur_mwh=18.5,
            status=OpportunityStatus.OPENED,
            opened_at=NOW,
        ),
    ]
    assert codec.decode(codec.encode(batch, encoding), encoding) == batch


def test_msgpack_is_more_compact_than_json():
    batch = [tick(seconds=i) for i in range(100)]
    assert len(codec.encode(batch, "msgpack")) < len(codec.encode(batch, "json"))


def test_garbage_payload_is_a_codec_error():
    with pytest.raises(codec.CodecError):
        codec.decode(b"\x00not msgpack", "msgpack")
    with pytest.raises(codec.CodecError):
        codec.decode(b'[{"type":"Nope"}]', "json")


def test_topic_of_and_plain_words():
    assert topic_of(tick()) == "prices"
    opportunity = SpreadOpportunity(
        ts=NOW,
        buy_market="DE",
        sell_market="FR",
        buy_price_eur_mwh=60.0,
        sell_price_eur_mwh=80.0,
        spread_eur_mwh=20.0,
        transmission_cost_eur_mwh=0.0,
        net_spread_eur_mwh=20.0,
        status=OpportunityStatus.OPENED,
        opened_at=NOW,
    )
    assert opportunity.describe().startswith("Buy in DE at €60.00, sell in FR at €80.00")
    assert isinstance(codec.decode_one(codec.encode_one(tick())), PriceTick)
