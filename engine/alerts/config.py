"""The thresholds of the alert rules: :class:`AlertConfig`.

:class:`~engine.alerts.engine.AlertEngine` runs on it; the ``[alerts]`` settings section
(``gridtui.settings.daemon.AlertSettings``) extends it, and the API's settings
update hands the engine a new one (``AlertEngine.reconfigure``).
"""

from __future__ import annotations

import math

import msgspec


class AlertConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Thresholds of the alert rules (the ``[alerts]`` settings section extends it).

    Attributes:
        enabled: rules run at all.
        cooldown_s: a key that alerted stays quiet this long unless its severity rises.
        spike_window: ticks per market and kind in the rolling baseline.
        spike_min_samples: no spike alert before the baseline has this many ticks.
        spike_sigma: standard deviations from the baseline that make a spike.
        spike_min_eur_mwh: and at least this far (a flat market has a tiny σ).
        arbitrage_min_net_eur_mwh: an opening opportunity at least this good alerts (info).
        arbitrage_warning_eur_mwh: from this net spread on, it is a warning.
        battery_low_fraction / battery_full_fraction: state-of-charge bounds.
        battery_rearm_fraction: how far back inside the bounds re-arms the alert.
        feed_stale_after_s: engine-clock seconds without prices before ``feed_stale``.
        forecast_max_error_eur_mwh: realised price vs forecast beyond this alerts.
        max_pending_forecasts: forecasts waiting for their realised price (oldest dropped).
    """

    enabled: bool = True
    cooldown_s: float = 300.0
    spike_window: int = 60
    spike_min_samples: int = 20
    spike_sigma: float = 4.0
    spike_min_eur_mwh: float = 30.0
    arbitrage_min_net_eur_mwh: float = 20.0
    arbitrage_warning_eur_mwh: float = 60.0
    battery_low_fraction: float = 0.12
    battery_full_fraction: float = 0.88
    battery_rearm_fraction: float = 0.05
    feed_stale_after_s: float = 120.0
    forecast_max_error_eur_mwh: float = 40.0
    max_pending_forecasts: int = 10_000

    def __post_init__(self) -> None:
        for name in (
            "cooldown_s",
            "spike_sigma",
            "spike_min_eur_mwh",
            "feed_stale_after_s",
            "forecast_max_error_eur_mwh",
            "battery_rearm_fraction",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"alerts.{name} must be a finite number >= 0, got {value}")
        if self.spike_window < 2 or not 2 <= self.spike_min_samples <= self.spike_window:
            raise ValueError(
                "alerts.spike_window must be >= 2 and spike_min_samples within 2..spike_window"
            )
        if not 0 <= self.battery_low_fraction < self.battery_full_fraction <= 1:
            raise ValueError(
                "alerts.battery_low_fraction must be below battery_full_fraction, both in 0..1"
            )
        if self.arbitrage_warning_eur_mwh < self.arbitrage_min_net_eur_mwh:
            raise ValueError(
                "alerts.arbitrage_warning_eur_mwh must be >= arbitrage_min_net_eur_mwh"
            )
        if self.max_pending_forecasts < 1:
            raise ValueError("alerts.max_pending_forecasts must be >= 1")


__all__ = ["AlertConfig"]
