"""``gridtui train battery`` and ``gridtui eval battery``.

``train battery`` clones the MPC and fine-tunes the policy with
stable-baselines3 (``models/training/sb3.py``) on a price file, exports the
actor to ONNX, checks it against SB3's own ``predict``, and registers it
(kind ``policy``, task ``battery``) in the user's model registry, with a
progress bar per stage. ``eval battery`` runs every policy on any price file
and prints what each earned, as a percentage of perfect foresight (``--json``
for scripts), with the information each had: perfect foresight; the MPC, the
threshold rule and the RL policies deciding each hour after its price is
published (an upper bound, not tradeable); and the batteries committed at the
day-ahead gate closure on persistence, weekly-naive, ``--forecast-model`` and
RL plans (what a trader can earn). Training needs the ``train`` extra;
evaluation needs only onnxruntime. The rows and their table live in
:mod:`gridtui.commands.battery_output`, the committed ones' forecasts in
:mod:`gridtui.commands.battery_commit`.

The shipped policies were made with (about 15 minutes each on two cores)::

    gridtui train battery --data ../shared/data/prices_real_train.parquet \\
        --market DE,FR,NL,BE,AT --from 2020-01-01 --to 2022-01-01 \\
        --algo ppo --timesteps 200000 --seed 0 --model-id policy-battery-ppo-2020-2021

and the same with ``--algo sac --timesteps 60000 --model-id
policy-battery-sac-2020-2021``. The PPO one is the promoted default: trained
on 2020–2021 only, so ``bench/battery_eval.py`` scores it out of sample on 2022.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridtui.commands.battery_output import evaluate, print_table, series_end, series_start
from gridtui.commands.common import add_common
from gridtui.settings.loader import Settings

CONTINENTAL = ("DE", "FR", "NL", "BE", "AT")

TRAIN_HELP = """\
Train an RL battery policy: clone the MPC on the published day-ahead prices,
fine-tune with PPO or SAC, export the actor to ONNX and register it.

example:
  gridtui train battery --data prices.parquet --market DE,FR,NL,BE,AT \\
      --from 2020-01-01 --to 2022-01-01 --algo ppo --timesteps 200000
"""

EVAL_HELP = """\
Run every dispatch policy on a price file and compare each with perfect
foresight. Each row says what it knew:
  perfect_foresight  the LP optimum, every price known in advance
  after_publication  the MPC, the threshold rule and the RL policy (the promoted
                     or shipped one, or each --policy), each hour decided knowing
                     its day-ahead price: an upper bound, if the day-ahead price
                     could still be traded after publication
  gate_closure       day D committed at 12:00 on D-1 on a forecast (persistence,
                     weekly naive, --forecast-model, the RL policy's plan) and
                     settled at D's prices: what a day-ahead trader can earn

example:
  gridtui eval battery --data prices.parquet --market DE,FR --from 2022-01-01 --to 2023-01-01 \\
      --forecast-model promoted
"""


def _add_data_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="FILE", help="price file (parquet/CSV)")
    parser.add_argument(
        "--market",
        default=",".join(CONTINENTAL),
        metavar="LIST",
        help="comma list of markets (default: the five continental ones)",
    )
    parser.add_argument(
        "--from", dest="start", metavar="DAY", help="first delivery day (Europe/Brussels)"
    )
    parser.add_argument("--to", dest="end", metavar="DAY", help="day after the last one")
    add_common(parser)


def register_train(targets: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = targets.add_parser(
        "battery",
        help="an RL battery-dispatch policy (stable-baselines3 → ONNX)",
        description=TRAIN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_flags(parser)
    parser.add_argument("--algo", choices=["ppo", "sac"], default="ppo", help="RL fine-tune")
    parser.add_argument(
        "--timesteps", type=int, default=200_000, help="RL steps after cloning (0: clone only)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-envs", type=int, default=8, help="vectorised environments")
    parser.add_argument("--dagger-rounds", type=int, default=1, help="rounds of DAgger labels")
    parser.add_argument("--bc-epochs", type=int, default=20, help="cloning epochs per round")
    parser.add_argument(
        "--simulated-days",
        type=int,
        default=0,
        help="also train on this many days of the mock simulator's prices per market",
    )
    parser.add_argument("--model-id", help="registry id (default: policy-battery-ALGO-TIMESTAMP)")
    parser.add_argument(
        "--registry", metavar="DIR", help="registry root (default: DATA_DIR/models)"
    )
    parser.add_argument(
        "--promote", action="store_true", help="make it the policy the engine loads"
    )
    parser.set_defaults(handler=run_train)


def register_eval(targets: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = targets.add_parser(
        "battery",
        help="every dispatch policy as a percentage of perfect foresight",
        description=EVAL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_flags(parser)
    parser.add_argument(
        "--policy",
        action="append",
        metavar="ID",
        help="RL policy id; repeat to compare several (default: promoted, else shipped)",
    )
    parser.add_argument(
        "--registry", metavar="DIR", help="registry root (default: DATA_DIR/models)"
    )
    parser.add_argument(
        "--forecast-model",
        metavar="ID|promoted",
        help="also commit the battery on this day-ahead forecaster (trained before --from)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run_eval)


def _registry(args: argparse.Namespace, settings: Settings) -> Any:
    from models.registry import Registry

    root = Path(args.registry) if args.registry else Path(settings.data_dir) / "models"
    return Registry(root)


def _markets(args: argparse.Namespace) -> list[str]:
    return [m.strip() for m in args.market.split(",") if m.strip()]


def load_series(
    args: argparse.Namespace, settings: Settings, *, whole_file: bool = False
) -> list[Any]:
    """The price file as one regular hourly series per market (``PriceSeries``).

    ``--from``/``--to`` cut it unless ``whole_file`` (the committed rows' history).
    """
    import pandas as pd

    from feeds.price_file import load_prices
    from models.battery.env import series_from_frame

    history = load_prices(args.data, _markets(args))
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(history.ts_us, unit="us", utc=True),
            "market": history.markets,
            "price_eur_mwh": history.prices,
        }
    )
    return series_from_frame(
        frame,
        _markets(args),
        start=None if whole_file else args.start,
        end=None if whole_file else args.end,
        step_minutes=settings.battery.step_minutes,
    )


def _auction_rule(settings: Settings) -> Any:
    from engine.battery.auction_calendar import AuctionCalendar

    return AuctionCalendar(settings.battery.auction_timezone, settings.battery.publication_hour)


# -- train ---------------------------------------------------------------------------------


def run_train(args: argparse.Namespace, settings: Settings) -> int:
    try:
        from models.training.policy_export import export_onnx, max_export_error
        from models.training.sb3 import train_policy
        from models.training.sb3_config import TrainConfig
    except ImportError as exc:
        print(
            f"gridtui: training needs the train extra ({exc}); pip install 'gridtui[train]'",
            file=sys.stderr,
        )
        return 2
    import tempfile

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from engine.battery.observation import FUTURE_STEPS, OBSERVATION_NAMES, OBSERVATION_VERSION
    from models.battery.env import prepare_series
    from models.battery.policy import POLICY_KIND, POLICY_TASK
    from models.registry import ModelMeta, RegistryError, file_sha256

    spec = settings.battery.reference
    series = _series_or_say_why(args, settings)
    if series is None:
        return 2
    series += _simulated(args, settings)
    rule = _auction_rule(settings)
    config = TrainConfig(
        algo=args.algo,
        timesteps=args.timesteps,
        seed=args.seed,
        n_envs=args.n_envs,
        dagger_rounds=args.dagger_rounds,
        bc_epochs=args.bc_epochs,
    )
    with Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        TextColumn("{task.completed:>9,.0f}/{task.total:<9,.0f}"),
        TimeElapsedColumn(),
    ) as bar:
        task_ids: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in task_ids:
                task_ids[stage] = bar.add_task(stage, total=total)
            bar.update(task_ids[stage], completed=done, total=total)

        prepare = bar.add_task("features", total=len(series))
        prepared = []
        for one in series:
            prepared.append(prepare_series(spec, one, rule))
            bar.advance(prepare)
        result = train_policy(prepared, spec, config, progress)

    registry = _registry(args, settings)
    stamp = datetime.now(UTC)
    model_id = args.model_id or f"policy-battery-{args.algo}-{stamp:%Y%m%d-%H%M%S}"
    sample = _check_observations(prepared, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = export_onnx(result.model, Path(tmp) / "model.onnx")
        export_error = max_export_error(result.model, onnx_path, sample)
        if export_error > 1e-5:
            print(f"gridtui: ONNX export differs from SB3 by {export_error:.2e}", file=sys.stderr)
            return 1
        real = [s for s in series if not s.market.startswith("sim-")]
        meta = ModelMeta(
            model_id=model_id,
            kind=POLICY_KIND,
            task=POLICY_TASK,
            version=registry.next_version(POLICY_KIND, POLICY_TASK),
            markets=tuple(s.market for s in real),
            horizon=FUTURE_STEPS,
            features=OBSERVATION_NAMES,
            pipeline_version=OBSERVATION_VERSION,
            train_from=min(series_start(s) for s in real),
            train_to=max(series_end(s) for s in real),
            data_hash=file_sha256(Path(args.data)),
            metrics={"clone_mse": result.clone_loss, "onnx_max_abs_error": export_error},
            extra={
                "algo": args.algo,
                "config": result.hyper_parameters(),
                "battery": _spec_dict(spec),
                "samples": result.samples,
                "simulated_days": args.simulated_days,
                "step_minutes": settings.battery.step_minutes,
            },
        )
        try:
            saved = registry.save(meta, {"model": onnx_path})
        except RegistryError as exc:
            print(f"gridtui: {exc}", file=sys.stderr)
            return 2
    if args.promote:
        registry.promote(saved.model_id)
    print(
        f"saved {saved.model_id} in {registry.root} "
        f"(ONNX vs SB3 max |Δ| {export_error:.1e}{', promoted' if args.promote else ''}); "
        f"score it: gridtui eval battery --data FILE --policy {saved.model_id}"
    )
    return 0


def _check_observations(prepared: Sequence[Any], seed: int) -> Any:
    """Up to 2,000 observations per series, with random states of charge: the export check."""
    import numpy as np

    rng = np.random.default_rng(seed)
    parts = []
    for one in prepared:
        features = one.features[rng.permutation(len(one.features))[:2000]]
        battery = rng.uniform(0.0, 1.0, (len(features), 2)).astype(np.float32)
        parts.append(np.concatenate([battery, features], axis=1))
    return np.concatenate(parts)


def _series_or_say_why(args: argparse.Namespace, settings: Settings) -> list[Any] | None:
    """:func:`load_series`, or None after telling stderr why there is nothing to use."""
    from engine.ports import FeedError

    try:
        series = load_series(args, settings)
    except FeedError as exc:
        print(f"gridtui: {exc}", file=sys.stderr)
        return None
    if not series:
        print(f"gridtui: no prices for {args.market} in {args.data}", file=sys.stderr)
        return None
    return series


def _simulated(args: argparse.Namespace, settings: Settings) -> list[Any]:
    """``--simulated-days`` of mock prices per market, named ``sim-<market>``."""
    if args.simulated_days <= 0:
        return []
    from feeds.mock.model import simulate_hourly_prices
    from models.battery.env import series_from_frame

    frame = simulate_hourly_prices(
        _markets(args), datetime(2021, 1, 1, tzinfo=UTC), args.simulated_days, seed=args.seed
    )
    frame["market"] = "sim-" + frame["market"].astype(str)
    return series_from_frame(frame, step_minutes=settings.battery.step_minutes)


def _spec_dict(spec: Any) -> dict[str, Any]:
    import msgspec

    found = msgspec.to_builtins(spec)
    assert isinstance(found, dict)
    return found


# -- eval ----------------------------------------------------------------------------------


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    from engine.battery.mpc import MpcController
    from engine.battery.policy_controller import PolicyController
    from engine.battery.threshold import RuleController
    from gridtui.commands.battery_commit import CommitError, committed_entries
    from models.battery.policy import default_policy_id, load_policy
    from models.registry import RegistryError

    series = _series_or_say_why(args, settings)
    if series is None:
        return 2
    registry = _registry(args, settings)
    controllers: list[tuple[str, Any]] = [
        ("mpc", MpcController),
        ("rule", RuleController),
    ]
    policies: list[tuple[str, Any]] = []
    try:
        policy_ids = args.policy or [default_policy_id(registry)]
        for policy_id in policy_ids:
            policy = load_policy(registry, policy_id)
            policies.append((policy_id, policy))
            controllers.append((f"rl {policy_id}", lambda p=policy: PolicyController(p)))
    except RegistryError as exc:
        if args.policy:
            print(f"gridtui: {exc}", file=sys.stderr)
            return 2
        print(f"gridtui: no RL policy to score ({exc})", file=sys.stderr)
    try:
        whole = load_series(args, settings, whole_file=True)
        committed = committed_entries(args, registry, series, whole, policies)
    except CommitError as exc:
        print(f"gridtui: {exc}", file=sys.stderr)
        return 2
    rows = evaluate(
        series,
        settings.battery.reference,
        controllers,
        _auction_rule(settings),
        committed,
        fee_eur_mwh=settings.strategies.execution.fee_eur_mwh,
    )
    if args.json:
        print(json.dumps({"battery": _spec_dict(settings.battery.reference), "rows": rows}))
        return 0
    print_table(rows)
    return 0
