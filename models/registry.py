"""The model registry: ONNX files plus metadata, listed, compared, promoted, loaded.

Layout on disk (one directory per model, never modified after it is saved)::

    <root>/<model_id>/meta.json      ModelMeta, JSON
    <root>/<model_id>/<file>.onnx    one or more ONNX files named in meta.files
    <root>/promoted.json             {"<kind>/<task>": "<model_id>", ...}

Two roots are searched: the user's registry (``<data dir>/models``, where
``gridtui train`` saves) and the read-only defaults shipped in
``models/artifacts`` (trained on the mock simulator, reproduced by
``gridtui train``). A promotion in the user's registry wins over the shipped
default. Callers: ``gridtui train``/``eval`` and the wiring that loads the
promoted forecaster and policy at start-up.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import msgspec

SHIPPED_ROOT: Final = Path(__file__).parent / "artifacts"
_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class RegistryError(LookupError):
    """A model is missing, malformed or incompatible; the message says what to do."""


def check_model_id(model_id: str) -> str:
    """``model_id`` if it is a plain name (letters, digits, ``. _ -``, 1..128, no ``..``).

    Raises:
        RegistryError: anything else — a path, ``..``, an empty or overlong id.
    """
    if not _ID_PATTERN.match(model_id) or ".." in model_id:
        shown = model_id if len(model_id) <= 40 else f"{model_id[:40]}… ({len(model_id)} chars)"
        raise RegistryError(
            f"model id {shown!r} is not valid: 1..128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit, without '..'"
        )
    return model_id


class ModelMeta(msgspec.Struct, frozen=True, kw_only=True):
    """What is known about one trained model.

    Attributes:
        model_id: unique, filesystem-safe (``forecast-dayahead-20261123-1030``).
        kind: ``"forecast"`` or ``"policy"``.
        task: what it does within its kind (``"dayahead"``, ``"intraday"``,
            ``"battery"``), the unit of promotion.
        version: increases with each model of the same kind and task.
        markets: markets it was trained on.
        horizon: forecast steps (or policy look-ahead) it serves.
        features: input feature names in column order.
        pipeline_version: version of the feature pipeline that made them; a
            model whose pipeline differs from the running code is refused.
        train_from / train_to: the training data range.
        data_hash: sha256 of the training data file(s).
        metrics: evaluation figures (name → value).
        files: role → file name in the model directory (``{"model": "model.onnx"}``).
        created: when it was saved.
        extra: anything else a trainer wants to keep (hyper-parameters, algo).
    """

    model_id: str
    kind: str
    task: str
    version: int = 1
    markets: tuple[str, ...] = ()
    horizon: int = 1
    features: tuple[str, ...] = ()
    pipeline_version: str = ""
    train_from: datetime | None = None
    train_to: datetime | None = None
    data_hash: str = ""
    metrics: dict[str, float] = {}
    files: dict[str, str] = {}
    created: datetime | None = None
    extra: dict[str, Any] = {}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Registry:
    """Models under ``root`` (writable) with shipped defaults as a fallback."""

    def __init__(self, root: Path, *, shipped: Path | None = SHIPPED_ROOT) -> None:
        self.root = Path(root)
        self.shipped = shipped

    def _roots(self) -> list[Path]:
        roots = [self.root]
        if self.shipped is not None and self.shipped != self.root:
            roots.append(self.shipped)
        return [r for r in roots if r.is_dir()]

    def _dir(self, model_id: str) -> Path:
        check_model_id(model_id)
        for root in self._roots():
            # The pattern already forbids separators; resolving inside the root
            # also keeps out a model directory that is a symlink elsewhere.
            candidate = (root / model_id).resolve()
            if not candidate.is_relative_to(root.resolve()):
                continue
            if (candidate / "meta.json").is_file():
                return root / model_id
        raise RegistryError(
            f"no model {model_id!r} in {self.root} or the shipped defaults; "
            "`gridtui train ...` makes one, and the list shows what exists"
        )

    def models(self, kind: str | None = None, task: str | None = None) -> list[ModelMeta]:
        """Every model (user registry first, then shipped), newest first."""
        found: dict[str, ModelMeta] = {}
        for root in self._roots():
            for meta_path in sorted(root.glob("*/meta.json")):
                meta = self._read(meta_path)
                if (kind is None or meta.kind == kind) and (task is None or meta.task == task):
                    found.setdefault(meta.model_id, meta)
        epoch = datetime.min.replace(tzinfo=UTC)
        return sorted(found.values(), key=lambda m: m.created or epoch, reverse=True)

    @staticmethod
    def _read(meta_path: Path) -> ModelMeta:
        try:
            return msgspec.json.decode(meta_path.read_bytes(), type=ModelMeta)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise RegistryError(f"{meta_path} is not valid model metadata: {exc}") from exc

    def get(self, model_id: str) -> ModelMeta:
        return self._read(self._dir(model_id) / "meta.json")

    def path(self, model_id: str, role: str = "model") -> Path:
        """The file that plays ``role`` for a model (``"model"`` by default)."""
        meta = self.get(model_id)
        if role not in meta.files:
            raise RegistryError(
                f"model {model_id!r} has no {role!r} file (has {sorted(meta.files)})"
            )
        return self._dir(model_id) / meta.files[role]

    def next_version(self, kind: str, task: str) -> int:
        return max((m.version for m in self.models(kind, task)), default=0) + 1

    def save(self, meta: ModelMeta, files: Mapping[str, Path | bytes]) -> ModelMeta:
        """Store a new model: copy/write its files and its metadata. Returns the metadata saved.

        ``files`` maps a role to a source file or bytes; each is stored as
        ``<role>.onnx`` unless the source path has another suffix.
        """
        check_model_id(meta.model_id)
        target = self.root / meta.model_id
        if target.exists():
            raise RegistryError(f"model {meta.model_id!r} already exists in {self.root}")
        staging = self.root / f".{meta.model_id}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        names: dict[str, str] = {}
        for role, source in files.items():
            name = f"{role}{source.suffix if isinstance(source, Path) else '.onnx'}"
            if isinstance(source, Path):
                shutil.copyfile(source, staging / name)
            else:
                (staging / name).write_bytes(source)
            names[role] = name
        saved = msgspec.structs.replace(
            meta, files=names, created=meta.created or datetime.now(UTC)
        )
        (staging / "meta.json").write_bytes(msgspec.json.format(msgspec.json.encode(saved)))
        staging.rename(target)  # atomic: a model is either complete or absent
        return saved

    def _promotions(self) -> dict[str, str]:
        promoted: dict[str, str] = {}
        for root in reversed(self._roots()):  # the user's registry wins
            path = root / "promoted.json"
            if path.is_file():
                promoted.update(msgspec.json.decode(path.read_bytes(), type=dict[str, str]))
        return promoted

    def promote(self, model_id: str) -> ModelMeta:
        """Make a model the one the runtime loads for its kind and task."""
        meta = self.get(model_id)
        path = self.root / "promoted.json"
        current: dict[str, str] = {}
        if path.is_file():
            current = msgspec.json.decode(path.read_bytes(), type=dict[str, str])
        current[f"{meta.kind}/{meta.task}"] = model_id
        self.root.mkdir(parents=True, exist_ok=True)
        path.write_bytes(msgspec.json.format(msgspec.json.encode(current)))
        return meta

    def promoted(self, kind: str, task: str) -> ModelMeta | None:
        """The promoted model for ``kind``/``task``, or None when there is none."""
        model_id = self._promotions().get(f"{kind}/{task}")
        return self.get(model_id) if model_id else None

    def compare(self, model_ids: list[str]) -> list[dict[str, Any]]:
        """One row per model: id, task, version, training range and every metric."""
        rows = []
        for model_id in model_ids:
            meta = self.get(model_id)
            rows.append(
                {
                    "model_id": meta.model_id,
                    "task": meta.task,
                    "version": meta.version,
                    "train_from": meta.train_from,
                    "train_to": meta.train_to,
                    **meta.metrics,
                }
            )
        return rows
