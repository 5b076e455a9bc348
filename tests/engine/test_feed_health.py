"""FeedHealthMachine: the rules on an injected clock, and the kernel as its one publisher."""

from __future__ import annotations

from datetime import timedelta

from engine.alerts.engine import AlertEngine
from engine.bus.memory import MemoryBus
from engine.clock import SimClock
from engine.events import Alert, Event, FeedHealth
from engine.feed_health import FeedHealthMachine
from engine.runtime import Runtime
from engine.store.sqlite import SqliteStore
from tests.stubs.builders import T0, tick


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def test_waiting_then_up_with_the_first_events_and_since_when():
    machine = FeedHealthMachine("mock", stale_after_s=60)
    machine.start(at(0))
    assert (machine.state, machine.reason, machine.since) == (
        "degraded",
        "waiting for the first events",
        at(0),
    )
    machine.events_arrived([tick("DE", 50.0)], at(2))
    assert machine.evaluate(at(3)) == "up"
    assert (machine.reason, machine.since) == ("", at(2))  # when the events came
    assert machine.evaluate(at(10)) == "up" and machine.since == at(2)  # no change, same since


def test_retries_degrade_failures_in_a_row_bring_it_down_and_an_answer_brings_it_up():
    machine = FeedHealthMachine("entsoe", stale_after_s=600, down_after_failures=3)
    machine.start(at(0))
    machine.request_ok(at(1))
    assert machine.evaluate(at(1)) == "up"
    machine.retried("prices DE: HTTP 503 from the API", at(2))
    assert machine.evaluate(at(2)) == "degraded"
    assert machine.reason == "retrying: prices DE: HTTP 503 from the API"
    for n in range(3):
        machine.request_failed(f"query {n}: gave up", at(3 + n))
        assert machine.evaluate(at(3 + n)) == ("down" if n == 2 else "degraded")
    assert machine.reason == "3 requests failed in a row: query 2: gave up"
    assert machine.since == at(5) and machine.retries_total == 1
    machine.request_ok(at(9))
    assert machine.evaluate(at(9)) == "up" and machine.since == at(9)
    assert machine.last_error == "query 2: gave up" and machine.last_error_at == at(5)


def test_silence_past_stale_after_is_down_and_a_heartbeat_keeps_it_up():
    machine = FeedHealthMachine("entsoe", stale_after_s=60)
    machine.start(at(0))
    assert machine.evaluate(at(61)) == "down"
    assert machine.reason == "no events yet for 61 s"
    machine.events_arrived([tick("DE", 50.0)], at(62))
    machine.alive(at(100))
    assert machine.evaluate(at(150)) == "up"  # 50 s after the heartbeat
    assert machine.evaluate(at(175)) == "down"
    assert machine.reason == "nothing from the feed for 75 s"
    assert machine.since == at(160)  # when the silence passed stale_after_s, not when asked


def test_a_refused_token_is_down_whatever_comes_after_and_the_end_says_why():
    machine = FeedHealthMachine("entsoe")
    machine.start(at(0))
    machine.request_failed("ENTSO-E rejected the API token (HTTP 401)", at(1), fatal=True)
    machine.alive(at(2))
    assert machine.evaluate(at(2)) == "down"
    assert machine.reason.startswith("ENTSO-E rejected the API token")
    machine.ended(at(3), error="the feed failed: token")
    assert (machine.state, machine.reason) == ("down", "the feed failed: token")
    replay = FeedHealthMachine("replay")
    replay.start(at(0))
    replay.events_arrived([tick("DE", 1.0)], at(1))
    replay.ended(at(2))
    assert (replay.state, replay.reason) == ("ended", "the feed has no more events")


def test_the_event_carries_state_reason_since_and_the_api_figures():
    machine = FeedHealthMachine("entsoe")
    machine.start(at(0))
    machine.budget(12, 400)
    machine.retried("prices DE: timeout", at(1))
    event = machine.event(at(1), rejected_total=2, errors_total=1)
    assert (event.source, event.state, event.since) == ("entsoe", "degraded", at(0))
    assert event.message == "retrying: prices DE: timeout"
    assert (event.budget_used, event.budget_limit, event.budget_used_fraction) == (12, 400, 0.03)
    assert (event.retries_total, event.last_error, event.rejected_total) == (
        1,
        "prices DE: timeout",
        2,
    )


class SilentAfterTicks:
    """A feed that sends one batch, then stays open and silent while time goes on."""

    name = "quiet"

    async def stream(self, clock):
        yield [tick("DE", 50.0)]
        while True:
            await clock.sleep_until(clock.now() + timedelta(seconds=10))


async def test_the_kernel_publishes_one_state_and_alerts_follow_it(tmp_path):
    clock = SimClock(T0, speed=30.0)  # thirty simulated seconds per second
    bus = MemoryBus()
    runtime = Runtime(
        feed=SilentAfterTicks(),
        clock=clock,
        bus=bus,
        store=SqliteStore(tmp_path / "h.db"),
        components=[AlertEngine()],
        stale_after_s=45.0,
    )
    subscription = await bus.subscribe(["health", "alerts"], name="test", lossless=True)
    await runtime.run(duration_s=3.0)
    seen: list[Event] = []
    while batch := await subscription.next_batch(timeout=0):
        seen.extend(batch)
    await runtime.close()
    health = [e for e in seen if isinstance(e, FeedHealth)]
    assert {h.source for h in health} == {"quiet"}  # one source, one state
    states = [h.state for h in health]
    assert "up" in states and "down" in states[states.index("up") :]
    down = next(h for h in health if h.state == "down")
    assert down.message.startswith("nothing from the feed for")
    alerts = [(a.rule, a.key) for a in seen if isinstance(a, Alert)]
    assert ("feed_down", "quiet") in alerts
    assert runtime.kernel.feed_health.state == "down"
    assert runtime.kernel.feed_health.reason == "the engine stopped the feed"


def test_a_feed_busy_retrying_is_degraded_not_silent():
    machine = FeedHealthMachine("entsoe", stale_after_s=60)
    machine.start(at(0))
    machine.request_ok(at(1))
    machine.retried("prices DE: connection refused", at(50))
    assert machine.evaluate(at(100)) == "degraded"  # 99 s after the last answer
    assert machine.reason == "retrying: prices DE: connection refused"
