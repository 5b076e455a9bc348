"""Stores: embedded SQLite (default) and PostgreSQL/TimescaleDB, plus the batched writer."""

from engine.store.base import Store, StoreError

__all__ = ["Store", "StoreError"]
