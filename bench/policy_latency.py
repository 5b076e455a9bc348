"""Policy latency bench: one battery decision with onnxruntime against SB3's ``predict``.

Builds an SB3 PPO actor of the shipped architecture, exports it with
``models.training.sb3.export_onnx`` and times, on the same observations in the
same run:

- SB3 ``model.predict(obs, deterministic=True)`` — the baseline;
- :class:`models.policy.OnnxPolicy.act` — what the engine runs (onnxruntime,
  one thread);
- the shipped default policy's ``act``, and building the observation
  (:func:`engine.battery_obs.build_observation`), which together are the full
  cost of one live decision.

Target: ONNX ≥ 10× faster than SB3's predict. The weights do not matter for
latency, so the SB3 model is freshly initialised (no training).

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

from engine.battery import BatterySpec  # noqa: E402 — needs the path above
from engine.battery_obs import build_observation  # noqa: E402
from engine.dispatch import DecisionContext, PriceSeries, to_us  # noqa: E402
from models.battery_env import prepare_series  # noqa: E402
from models.policy import load_policy  # noqa: E402
from models.registry import SHIPPED_ROOT, Registry  # noqa: E402
from models.training.sb3 import TrainConfig, build_model, export_onnx  # noqa: E402


def per_call_us(fn: Callable[[int], object], n: int) -> float:
    """Median over 5 batches of n/5 calls, in microseconds per call."""
    batch = max(n // 5, 1)
    results = []
    for _ in range(5):
        start = time.perf_counter()
        for i in range(batch):
            fn(i)
        results.append((time.perf_counter() - start) / batch * 1e6)
    return statistics.median(results)


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
        from models.policy import OnnxPolicy

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
        shipped_line = f"shipped {shipped.policy_id}: act {shipped_us:8.1f} µs"
    except LookupError as exc:
        shipped_line = f"(no shipped policy: {exc})"

    print(f"PPO actor {config.hidden}x{config.hidden}, {observations.shape[1]} inputs, one thread")
    print(f"SB3 predict (baseline)        {sb3_us:8.1f} µs per decision")
    print(f"ONNX (onnxruntime) act        {onnx_us:8.1f} µs per decision")
    print(f"speed-up                      {sb3_us / onnx_us:8.1f} x   (target >= 10x)")
    print(f"max |ONNX - SB3| action       {gap:.1e}   (target <= 1e-5)")
    print(f"build_observation             {observe_us:8.1f} µs per decision")
    print(shipped_line)


if __name__ == "__main__":
    main()
