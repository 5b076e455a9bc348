"""Policy latency bench: one battery decision with onnxruntime against SB3's ``predict``.

Builds an SB3 PPO actor of the shipped architecture, exports it with
``models.training.policy_export.export_onnx`` and times, on the same observations in the
same run:

- SB3 ``model.predict(obs, deterministic=True)`` — the baseline;
- :class:`models.battery.policy.OnnxPolicy.act` — what the engine runs (onnxruntime,
  one thread);
- the shipped default policy's ``act``, and building the observation
  (:func:`engine.battery.observation.build_observation`), which together are the full
  cost of one live decision.

Target: ONNX ≥ 10× faster than SB3's predict. The weights do not matter for
latency, so the SB3 model is freshly initialised (no training).

Each call is timed on its own; p50 and p99 are printed.

Run: ``.venv/bin/python bench/policy_latency.py [--n 5000]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine.battery.controller import DecisionContext  # noqa: E402
from engine.battery.observation import build_observation  # noqa: E402
from engine.battery.physics import BatterySpec  # noqa: E402 — needs the path above
from engine.battery.price_series import PriceSeries, to_us  # noqa: E402
from models.battery.env import prepare_series  # noqa: E402
from models.battery.policy import load_policy  # noqa: E402
from models.registry import SHIPPED_ROOT, Registry  # noqa: E402
from models.training.policy_export import export_onnx  # noqa: E402
from models.training.sb3 import build_model  # noqa: E402
from models.training.sb3_config import TrainConfig  # noqa: E402


def per_call_us(fn: Callable[[int], object], n: int) -> np.ndarray:
    """Each of ``n`` calls timed on its own, in microseconds (after 100 warm-up calls)."""
    for i in range(100):
        fn(i)
    times = np.empty(n)
    clock = time.perf_counter_ns
    for i in range(n):
        start = clock()
        fn(i)
        times[i] = (clock() - start) / 1e3
    return times


def line(label: str, times: np.ndarray) -> str:
    p50, p99 = np.percentile(times, [50, 99])
    return f"{label:<30}{p50:8.1f} µs p50 {p99:8.1f} µs p99"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="decisions per figure")
    args = parser.parse_args()
    torch.set_num_threads(1)  # both sides on one thread: a fair, per-decision comparison

    spec = BatterySpec()
    start = datetime(2022, 1, 1, tzinfo=UTC)
    hours = np.arange(24 * 14)
    prices = 80 + 40 * np.sin(2 * np.pi * (hours - 9) / 24)
    grid = PriceSeries.from_points("DE", to_us(start) + hours * 3_600_000_000, prices)
    prepared = prepare_series(spec, grid)
    config = TrainConfig(timesteps=0, n_envs=1)
    model = build_model("ppo", [prepared], spec, config)
    rng = np.random.default_rng(0)
    observations = np.concatenate(
        [rng.uniform(0, 1, (len(prepared), 2)).astype(np.float32), prepared.features], axis=1
    )
    with tempfile.TemporaryDirectory() as tmp:
        from models.battery.policy import OnnxPolicy

        onnx_policy = OnnxPolicy(export_onnx(model, Path(tmp) / "bench.onnx"))
        n_obs = len(observations)
        sb3_us = per_call_us(
            lambda i: model.predict(observations[i % n_obs], deterministic=True), args.n
        )
        onnx_us = per_call_us(lambda i: onnx_policy.act(observations[i % n_obs]), args.n)
        gap = max(
            abs(
                float(model.predict(observations[i], deterministic=True)[0][0])
                - onnx_policy.act(observations[i])
            )
            for i in range(min(n_obs, 300))
        )
    context = DecisionContext(
        spec=spec,
        soc_mwh=1.0,
        discharged_today_mwh=0.0,
        step_us=grid.start_us + 200 * grid.step_us,
        step_minutes=60,
        prices=grid.prices[:220],
        now=200,
    )
    observe_us = per_call_us(lambda i: build_observation(context), args.n)
    shipped_line = ""
    try:
        shipped = load_policy(Registry(Path(tempfile.gettempdir()) / "none", shipped=SHIPPED_ROOT))
        shipped_us = per_call_us(lambda i: shipped.act(observations[i % n_obs]), args.n)
        shipped_line = line(f"shipped {shipped.policy_id}", shipped_us)
    except LookupError as exc:
        shipped_line = f"(no shipped policy: {exc})"

    print(f"PPO actor {config.hidden}x{config.hidden}, {observations.shape[1]} inputs, one thread")
    print(line("SB3 predict (baseline)", sb3_us))
    print(line("ONNX (onnxruntime) act", onnx_us))
    ratio = statistics.median(sb3_us) / statistics.median(onnx_us)
    print(f"{'speed-up (p50 / p50)':<30}{ratio:8.1f} x   (target >= 10x)")
    print(f"{'max |ONNX - SB3| action':<30}{gap:.1e}   (target <= 1e-5)")
    print(line("build_observation", observe_us))
    print(shipped_line)


if __name__ == "__main__":
    main()
