"""Ports: the protocols that adapters outside ``engine/`` implement.

``feeds/`` implements :class:`Feed`, ``models/`` implements :class:`Forecaster`
and :class:`Policy`. The bus and store protocols live beside their backends in
``engine.bus`` and ``engine.store``. ``gridtui.wiring`` is the one place where
concrete adapters are chosen and plugged in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from engine.clock import Clock
from engine.events import Event, Forecast
from engine.feed_health import FeedHealthMachine


class Feed(Protocol):
    """A source of events (mock simulator, ENTSO-E, replay of history)."""

    @property
    def name(self) -> str:
        """Short source name, stamped on health events and logs (e.g. ``"mock"``)."""
        ...

    def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        """Yield batches of events in time order, pacing itself on ``clock``.

        Args:
            clock: the engine's clock; a live feed waits on it, a replay feed
                advances a SimClock to each event's time.

        Returns:
            An async iterator of non-empty batches. It ends when the feed is
            exhausted (replay) and runs until cancelled otherwise (live).

        Raises:
            FeedError: the source failed in a way retries cannot fix.
        """
        ...


@runtime_checkable
class Resumable(Protocol):
    """A feed of real data that can fetch again what arrived while the process was down.

    Before the first batch the runtime tells it the newest day-ahead delivery
    the store holds per market; the feed then asks its source from there on, so
    a restart (after a crash, kill -9 or a long stop) leaves no gap in the store.
    """

    @property
    def markets(self) -> Sequence[str]:
        """The markets it follows."""
        ...

    def resume_after(self, stored_until: Mapping[str, datetime]) -> None:
        """The newest stored delivery start per market (absent: nothing stored)."""
        ...


@runtime_checkable
class ReportsHealth(Protocol):
    """A feed with more to say about its health than its batches (an API feed).

    The kernel hands such a feed its :class:`~engine.feed_health.FeedHealthMachine`
    before it starts the stream; the feed signals requests, retries, failures,
    its request budget and heartbeats to it, stamped with the engine clock.
    """

    def report_health_to(self, health: FeedHealthMachine) -> None:
        """Send this feed's health signals to ``health`` from now on."""
        ...


class FeedError(RuntimeError):
    """A feed failed for good (bad token, missing file); the message says what to do."""


class Forecaster(Protocol):
    """Predicts prices from what is known at decision time."""

    @property
    def model_id(self) -> str: ...

    def forecast(self, history: Sequence[Event], now: datetime) -> Sequence[Forecast]:
        """Forecasts due at ``now`` from the events known then.

        Args:
            history: oldest first, the price ticks of every market the model
                reads (its regional inputs too) and, for a model that uses them,
                fundamentals. Day-ahead ticks may lie in the future (published
                deliveries); other events after ``now`` are ignored.
            now: the decision time, tz-aware UTC.

        Returns:
            One ``Forecast`` per market and target step (each with its horizon
            and band); empty when the history is too short.

        Raises:
            ValueError: the model cannot use the input; the message names the
                feature (``models.forecast.onnx_forecaster.ForecastInputError``).
        """
        ...


class Policy(Protocol):
    """Maps a battery observation to a power set-point (> 0 discharges).

    The observation is the vector :func:`engine.battery.observation.build_observation`
    makes (layout ``engine.battery.observation.OBSERVATION_VERSION``); the policy knows
    nothing of the battery's rating, so it answers a fraction of rated power.
    """

    @property
    def policy_id(self) -> str: ...

    def act(self, observation: npt.NDArray[np.float32]) -> float:
        """The set-point as a fraction of rated power in [-1, 1] (> 0 discharges).

        Args:
            observation: one float32 vector in the layout above.

        Returns:
            The fraction; callers clip anything outside [-1, 1] and treat NaN as 0.
        """
        ...
