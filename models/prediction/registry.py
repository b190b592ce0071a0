"""A model registry on disk: each trained model with its version, training window, metrics and data fingerprint.

Models are pickled under `<registry>/<name>/<version>/` next to a `meta.json`;
they are rebuilt by training, never committed to git.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass
class ModelMeta:
    name: str
    version: str
    trained_at: str
    training_window: dict[str, str | None]
    metrics: dict[str, Any] = field(default_factory=dict)
    data_fingerprint: str = ""
    fallback: bool = False
    notes: str = ""


def save_model(registry: Path, model: Any, meta: ModelMeta) -> Path:
    target = registry / meta.name / meta.version
    target.mkdir(parents=True, exist_ok=True)
    with (target / "model.pkl").open("wb") as handle:
        pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
    (target / "meta.json").write_text(json.dumps(asdict(meta), ensure_ascii=False, indent=2, default=str))
    return target


def latest(registry: Path, name: str) -> tuple[Any, ModelMeta] | None:
    """The newest version of a model, or None when it was never trained."""
    folder = registry / name
    if not folder.is_dir():
        return None
    versions = sorted(p for p in folder.iterdir() if (p / "meta.json").is_file() and (p / "model.pkl").is_file())
    if not versions:
        return None
    meta = ModelMeta(**json.loads((versions[-1] / "meta.json").read_text()))
    with (versions[-1] / "model.pkl").open("rb") as handle:
        return pickle.load(handle), meta


def new_version(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S")
