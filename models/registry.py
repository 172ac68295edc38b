"""The model registry: one folder per trained version, one promoted version, skops only.

Layout under `classifier.model_dir` (default `var/models`):

    PROMOTED                      the promoted version's name (one line)
    20250101-120000-ab12cd34/     one folder per `monitor train`
        model.skops               the fitted Pipeline (skops; never pickle)
        metadata.json             version, created_at, data hash, library versions, params,
                                  threshold, metrics, counts
        model_card.md             the model card
        evaluation.json           the full grouped cross-validation report
        pr_curve.png, confusion_matrix.png

`Registry.load` refuses types outside scikit-learn, numpy, scipy and `models.text` (plus skops's
default trusted types), and warns (`LibraryVersionWarning`) when the libraries differ from those
the model was saved with.
`ensure_model` returns the promoted model, training and promoting one from the shipped corpus the
first time (deterministically; a file lock keeps concurrent first uses from training twice).

Config keys read (by callers): `classifier.model_dir`, `classifier.corpus_dir`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import platform
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.classifier import LoadedModel
from monitor.errors import ModelNotFound

if TYPE_CHECKING:
    from collections.abc import Iterator

    from models.training import TrainingResult

__all__ = ["LibraryVersionWarning", "LoadedModel", "ModelInfo", "Registry", "ensure_model", "library_versions"]

log = logging.getLogger(__name__)

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
PROMOTED_FILE = "PROMOTED"
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "models.text.")  # skops trusts its own defaults
CHECKED_LIBRARIES = ("scikit-learn", "numpy", "scipy", "PySastrawi", "skops")


class LibraryVersionWarning(UserWarning):
    """The model was saved with other library versions than the ones installed."""


@dataclass(frozen=True)
class ModelInfo:
    version: str
    created_at: str
    promoted: bool
    threshold: float
    metrics: dict[str, Any] = field(default_factory=dict)


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in CHECKED_LIBRARIES:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


_LOAD_CACHE: dict[tuple[str, float], LoadedModel] = {}
_LOAD_LOCK = threading.Lock()


class Registry:
    """Versions of the classifier under one folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------ reading

    def _version_dirs(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if (p / METADATA_FILE).is_file() and (p / MODEL_FILE).is_file())

    def promoted_version(self) -> str | None:
        f = self.root / PROMOTED_FILE
        if not f.is_file():
            return None
        name = f.read_text(encoding="utf-8").strip()
        return name if name and (self.root / name / MODEL_FILE).is_file() else None

    def metadata(self, version: str) -> dict[str, Any]:
        path = self.root / version / METADATA_FILE
        if not path.is_file():
            raise ModelNotFound(self._not_found(version))
        return json.loads(path.read_text(encoding="utf-8"))

    def versions(self) -> list[ModelInfo]:
        """Every version, oldest first."""
        promoted = self.promoted_version()
        out = []
        for d in self._version_dirs():
            meta = json.loads((d / METADATA_FILE).read_text(encoding="utf-8"))
            out.append(
                ModelInfo(
                    version=d.name,
                    created_at=meta.get("created_at", ""),
                    promoted=d.name == promoted,
                    threshold=float(meta.get("threshold", 0.5)),
                    metrics=meta.get("metrics", {}),
                )
            )
        return out

    def _not_found(self, version: str) -> str:
        return f"no model version {version!r} in {self.root}: run `monitor models list` to see the versions"

    # ------------------------------------------------------------ writing

    def promote(self, version: str) -> None:
        """Make `version` the one the pipeline scores with."""
        if not (self.root / version / MODEL_FILE).is_file():
            raise ModelNotFound(self._not_found(version))
        tmp = self.root / f".{PROMOTED_FILE}.{os.getpid()}.tmp"
        tmp.write_text(version + "\n", encoding="utf-8")
        os.replace(tmp, self.root / PROMOTED_FILE)
        log.info("promoted model version %s", version)

    def _new_version_name(self, data_hash: str) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        name = f"{stamp}-{data_hash[:8]}"
        k = 2
        while (self.root / name).exists():
            name = f"{stamp}-{data_hash[:8]}-{k}"
            k += 1
        return name

    def save(self, result: TrainingResult, *, corpus: str = "", n_extra: int = 0) -> str:
        """Write a training result as a new version; returns its name."""
        import skops.io as sio

        from models import evaluation
        from models.model_card import render_model_card

        self.root.mkdir(parents=True, exist_ok=True)
        version = self._new_version_name(result.data_hash)
        tmp_dir = self.root / f".{version}.tmp"
        tmp_dir.mkdir(parents=True)
        sio.dump(result.pipeline, tmp_dir / MODEL_FILE)
        headline_keys = (
            "average_precision",
            "roc_auc",
            "precision",
            "recall",
            "f1",
            *(f"recall_at_precision_{f:.2f}" for f in evaluation.PRECISION_FLOORS),
            "false_flags_per_1000_background",
        )
        meta = {
            "version": version,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "training_data_hash": result.data_hash,
            "training_data": {
                "corpus": corpus,
                "examples": len(result.examples),
                "positives": int(result.labels.sum()),
                "negatives": int(len(result.labels) - result.labels.sum()),
                "review_decisions": n_extra,
            },
            "libraries": library_versions(),
            "params": result.params,
            "grid": result.grid,
            "threshold": result.threshold,
            "target_recall": result.report.get("target_recall"),
            "metrics": {k: result.report.get(k) for k in headline_keys},
            "evaluation": "grouped stratified cross-validation (near-duplicates grouped), held-out folds",
            "training_seconds": round(result.seconds, 1),
        }
        (tmp_dir / METADATA_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp_dir / "evaluation.json").write_text(json.dumps(result.report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        evaluation.write_plots(result.labels, result.oof_proba, result.threshold, tmp_dir, title=version)
        (tmp_dir / "model_card.md").write_text(render_model_card(meta, result.report), encoding="utf-8")
        os.replace(tmp_dir, self.root / version)
        log.info("saved model version %s in %s", version, self.root / version)
        return version

    def write_dev_report(self, version: str, name: str, rep: dict[str, Any], text: str) -> None:
        """Record an evaluation on another data set (e.g. the real-news dev set) with the version."""
        folder = self.root / version
        if not folder.is_dir():
            raise ModelNotFound(self._not_found(version))
        (folder / f"{name}.json").write_text(json.dumps(rep, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (folder / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
        self._render_card(version)

    def _render_card(self, version: str) -> None:
        from models.model_card import render_model_card

        folder = self.root / version
        meta = self.metadata(version)
        rep = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
        dev = []
        for f in sorted(folder.glob("*.json")):
            if f.name not in (METADATA_FILE, "evaluation.json"):
                data = json.loads(f.read_text(encoding="utf-8"))
                if isinstance(data, dict) and "data_file" in data:
                    dev.append(data)
        (folder / "model_card.md").write_text(render_model_card(meta, rep, dev), encoding="utf-8")

    # ------------------------------------------------------------ loading

    def load(self, version: str | None = None) -> LoadedModel:
        """A version (None = the promoted one), from skops with only known types trusted."""
        import skops.io as sio

        if version is None:
            version = self.promoted_version()
            if version is None:
                raise ModelNotFound(f"no promoted model in {self.root}: run `monitor train` (or `monitor models list`)")
        path = self.root / version / MODEL_FILE
        if not path.is_file():
            raise ModelNotFound(self._not_found(version))
        key = (str(path.resolve()), path.stat().st_mtime)
        with _LOAD_LOCK:
            cached = _LOAD_CACHE.get(key)
            if cached is not None:
                return cached
            meta = self.metadata(version)
            _warn_on_mismatch(version, meta.get("libraries", {}))
            untrusted = sio.get_untrusted_types(file=path)
            bad = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
            if bad:
                raise ModelNotFound(f"model {version} contains types this code does not trust: {', '.join(bad)}")
            pipeline = sio.load(path, trusted=untrusted)
            model = LoadedModel(version=version, threshold=float(meta["threshold"]), pipeline=pipeline, metadata=meta)
            _LOAD_CACHE[key] = model
            return model


def _warn_on_mismatch(version: str, saved: dict[str, str]) -> None:
    now = library_versions()
    diffs = [f"{lib} {saved[lib]} (now {now.get(lib)})" for lib in CHECKED_LIBRARIES if lib in saved and saved[lib] != now.get(lib)]
    if diffs:
        msg = f"model {version} was saved with {', '.join(diffs)}; scores may differ: retrain with `monitor train`"
        log.warning(msg)
        warnings.warn(msg, LibraryVersionWarning, stacklevel=3)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_model(root: str | Path, corpus_dir: str | Path | None = None) -> LoadedModel:
    """The promoted model; with no version yet, train one from the shipped corpus deterministically, promote it, and log that it did."""
    registry = Registry(root)
    if registry.promoted_version() is None:
        with _file_lock(registry.root / ".train.lock"):
            if registry.promoted_version() is None:
                from models.training import SHIPPED_CORPUS, train

                existing = registry.versions()
                if existing:
                    raise ModelNotFound(
                        f"no promoted model in {registry.root} ({len(existing)} unpromoted versions): "
                        f"run `monitor models list`, then `monitor models promote VERSION`"
                    )
                else:
                    source = corpus_dir or SHIPPED_CORPUS
                    log.info("no trained model in %s: training one from %s (first use; takes a minute)", registry.root, source)
                    version = train(registry.root, corpus_dir, promote=True)
                    log.info("trained and promoted model version %s", version)
    return registry.load()
