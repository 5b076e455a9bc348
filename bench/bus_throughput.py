"""Bus throughput: RedisBus next to the naive Redis Streams publisher, and MemoryBus.

Prints, from one run:

- ``RedisBus.publish``: events grouped by topic, up to ``max_events_per_entry``
  (500) events per stream entry, one pipelined round trip per publish call;
- the baseline: the same events, each encoded alone with MessagePack and sent as
  its own ``XADD`` (same envelope, same ``MAXLEN ~``), pipelined, one round trip
  per publish call — what a straightforward Streams publisher does;
- the ratio RedisBus / baseline (target ≥ 3×);
- ``MemoryBus.publish`` with one lossy viewer subscribed (the in-process default);
- end to end: ``RedisBus.publish`` → a lossless subscriber (consumer group, on its
  own bus instance, as another process would be) has received every event. Both
  ends share this one event loop and CPU, so this is a floor for two processes.

Both Redis publishers go through the same client (redis-py) and server, so the
ratio is the saving of packing events: the baseline is bound by the client's
per-command cost (packing one XADD and parsing its reply), which batching pays
once per few hundred events instead of once per event.

Events/s per repetition is the number of events over the wall time of all
publish calls; the table shows the median over repetitions and, per publish
call, the median and p99 throughput ("p99" is the 99th-percentile slow call: 99 %
of calls were at least this fast). Ticks: 6 markets, random prices, encoded from
``PriceTick`` structs inside the timed region for every variant.

Run: ``.venv/bin/python bench/bus_throughput.py [--events 200000] [--batch 1000]``.
Uses a unique key prefix on ``--url`` (deleted at the end); exits with a message
when Redis is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from rich.console import Console
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    # Run as a script from anywhere: make the project packages importable.
    sys.path.insert(0, str(REPO_ROOT))

from synthetic_ticks import batches, make_ticks  # noqa: E402

from engine.bus import BusError  # noqa: E402 — needs the path above
from engine.bus.codec import encode_one  # noqa: E402
from engine.bus.memory import MemoryBus  # noqa: E402
from engine.bus.redis_streams import RedisBus  # noqa: E402
from engine.events import PRICES, TOPIC_OF, Event  # noqa: E402

MAXLEN = 100_000  # RedisBus's default, used by both Redis publishers


@dataclass
class Result:
    name: str
    events_per_s: list[float]  # one per repetition
    call_events_per_s: list[float]  # one per publish call, all repetitions

    @property
    def median(self) -> float:
        return statistics.median(self.events_per_s)

    def call_percentile(self, slow_fraction: float) -> float:
        """Throughput that all but ``slow_fraction`` of the calls reached."""
        ordered = sorted(self.call_events_per_s)
        return ordered[min(len(ordered) - 1, int(slow_fraction * len(ordered)))]


async def time_publisher(
    name: str,
    chunks: list[Sequence[Event]],
    publish: Callable[[Sequence[Event]], Awaitable[None]],
    reset: Callable[[], Awaitable[None]],
    repeat: int,
) -> Result:
    result = Result(name, [], [])
    total = sum(len(chunk) for chunk in chunks)
    for _ in range(repeat):
        await reset()
        spent = 0.0
        for chunk in chunks:
            started = time.perf_counter()
            await publish(chunk)
            elapsed = time.perf_counter() - started
            spent += elapsed
            result.call_events_per_s.append(len(chunk) / elapsed)
        result.events_per_s.append(total / spent)
    return result


class NaivePublisher:
    """The baseline: one XADD per event, each event MessagePack-encoded alone."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    async def publish(self, events: Sequence[Event]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for event in events:
            topic = TOPIC_OF[type(event)]
            fields: dict[Any, Any] = {
                "topic": topic,
                "type": type(event).__name__,
                "encoding": "msgpack",
                "payload": encode_one(event, "msgpack"),
            }
            pipe.xadd(f"{self.prefix}:{topic}", fields, maxlen=MAXLEN, approximate=True)
        await pipe.execute()


async def end_to_end(
    url: str, prefix: str, chunks: list[Sequence[Event]], repeat: int
) -> tuple[list[float], int]:
    """Events/s from the first publish until a lossless subscriber has them all."""
    total = sum(len(chunk) for chunk in chunks)
    rates: list[float] = []
    entries = 0
    for rep in range(repeat):
        publisher = RedisBus(url, prefix=f"{prefix}:e2e{rep}")
        consumer = RedisBus(url, prefix=f"{prefix}:e2e{rep}")
        await publisher.start()
        await consumer.start()
        subscription = await consumer.subscribe([PRICES], name="bench", lossless=True)
        received = 0

        async def consume(subscription: Any = subscription) -> None:
            nonlocal received
            while received < total:
                batch = await subscription.next_batch(timeout=10)
                if not batch:
                    raise RuntimeError(f"subscriber stalled at {received:,} of {total:,}")
                received += len(batch)

        started = time.perf_counter()
        reader = asyncio.create_task(consume())
        for chunk in chunks:
            await publisher.publish(chunk)
        await reader
        rates.append(total / (time.perf_counter() - started))
        if received != total:
            raise RuntimeError(f"received {received:,} events, expected {total:,}")
        entries = await publisher.client.xlen(publisher.key(PRICES))
        await subscription.ack()
        await consumer.close()
        await publisher.close()
    return rates, entries


def report(
    console: Console, results: list[Result], e2e: list[float], args: argparse.Namespace
) -> None:
    table = Table(title=f"Publish throughput, {args.events:,} ticks in calls of {args.batch:,}")
    table.add_column("publisher", no_wrap=True)
    table.add_column("events/s", justify="right")
    table.add_column("per call p50", justify="right")
    table.add_column("per call p99", justify="right")
    for result in results:
        table.add_row(
            result.name,
            f"{result.median:,.0f}",
            f"{statistics.median(result.call_events_per_s):,.0f}",
            f"{result.call_percentile(0.01):,.0f}",
        )
    console.print(table)

    e2e_table = Table(title="End to end: RedisBus.publish → lossless subscriber has every event")
    e2e_table.add_column("events/s, median of runs", justify="right")
    e2e_table.add_column("slowest run", justify="right")
    e2e_table.add_column("fastest run", justify="right")
    e2e_table.add_row(f"{statistics.median(e2e):,.0f}", f"{min(e2e):,.0f}", f"{max(e2e):,.0f}")
    console.print(e2e_table)

    bus, naive = results[0], results[1]
    ratio = bus.median / naive.median
    verdict = "[green]meets[/]" if ratio >= 3 else "[red]misses[/]"
    console.print(
        f"RedisBus / one XADD per event: [bold]{ratio:.1f}×[/] (median events/s), "
        f"p99 call {bus.call_percentile(0.01) / naive.call_percentile(0.01):.1f}× "
        f"— {verdict} the ≥ 3× target"
    )


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=200_000, help="events per repetition")
    parser.add_argument("--batch", type=int, default=1_000, help="events per publish call")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of each variant")
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0", help="Redis server")
    args = parser.parse_args(argv)
    console = Console()

    events: list[Event] = [*make_ticks(args.events)]
    chunks = batches(events, args.batch)
    prefix = f"gridtui-bench-{uuid.uuid4().hex[:12]}"
    client = aioredis.Redis.from_url(args.url)
    bus = RedisBus(args.url, prefix=f"{prefix}:bus", maxlen=MAXLEN)
    try:
        await bus.start()
    except BusError as exc:
        console.print(f"[yellow]{exc}: skipped[/]")
        await bus.close()
        await client.aclose()
        return 1
    console.print(
        f"{args.events:,} ticks, {args.batch:,} per publish call, {args.repeat} runs, "
        f"Redis {args.url}, prefix {prefix}"
    )

    async def delete_prefix() -> None:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1_000)]
        if keys:
            await client.delete(*keys)

    try:
        naive = NaivePublisher(client, f"{prefix}:naive")
        memory = MemoryBus()
        viewer = await memory.subscribe([PRICES], name="viewer", maxsize=10_000)

        async def drain_viewer() -> None:
            await viewer.next_batch(timeout=0)

        results = [
            await time_publisher(
                f"RedisBus ({bus.max_events_per_entry} ev/entry)",
                chunks,
                bus.publish,
                delete_prefix,
                args.repeat,
            ),
            await time_publisher(
                "1 XADD per event, pipelined", chunks, naive.publish, delete_prefix, args.repeat
            ),
            await time_publisher(
                "MemoryBus (1 lossy viewer)",
                chunks,
                memory.publish,
                drain_viewer,
                args.repeat,
            ),
        ]
        await delete_prefix()
        e2e, entries = await end_to_end(args.url, prefix, chunks, args.repeat)
        console.print(f"end to end: {args.events:,} events travelled in {entries:,} stream entries")
        report(console, results, e2e, args)
    finally:
        await delete_prefix()
        await bus.close()
        await client.aclose()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
