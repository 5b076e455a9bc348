"""Event buses: the in-process MemoryBus and RedisBus on Redis Streams."""

from engine.bus.base import Bus, BusClosed, BusError, Subscription

__all__ = ["Bus", "BusClosed", "BusError", "Subscription"]
