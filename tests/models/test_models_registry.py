"""models.registry: versions, promotion, skops-only loading, version warnings, ensure_model."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import pytest

from models.registry import LibraryVersionWarning, Registry, ensure_model
from monitor.errors import ModelNotFound, MonitorError

ARTICLE = ("Camat diduga ikut deklarasi", "Camat Bekasi Ahmad Saputra diduga ikut menghadiri deklarasi paslon.")


def test_version_folder_holds_model_metadata_card_and_plots(small_registry: Path) -> None:
    (info,) = Registry(small_registry).versions()
    folder = small_registry / info.version
    for name in ("model.skops", "metadata.json", "model_card.md", "evaluation.json", "pr_curve.png", "confusion_matrix.png"):
        assert (folder / name).is_file(), name
    meta = json.loads((folder / "metadata.json").read_text())
    for key in ("version", "created_at", "training_data_hash", "libraries", "params", "metrics", "threshold"):
        assert key in meta
    assert meta["libraries"]["scikit-learn"]
    assert info.promoted and info.threshold == meta["threshold"]
    assert "average_precision" in info.metrics
    assert not list(folder.glob("*.pkl")) and not list(folder.glob("*.pickle"))
    assert (folder / "model.skops").read_bytes()[:2] == b"PK"  # a skops zip, not a pickle


def test_load_promoted_and_score(small_registry: Path) -> None:
    model = Registry(small_registry).load()
    score = model.score(*ARTICLE)
    assert score.model_version == model.version
    assert 0.0 <= score.probability <= 1.0
    assert score.flagged == (score.probability >= model.threshold)
    assert model.score(*ARTICLE, threshold=0.0).flagged


def test_promote_unknown_version_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="monitor models list") as info:
        Registry(tmp_path).promote("nope")
    assert isinstance(info.value, MonitorError)
    with pytest.raises(ModelNotFound):
        Registry(tmp_path).load("nope")


def test_promote_switches_versions(tmp_path: Path, fixture_corpus: Path) -> None:
    from models.training import train

    first = train(tmp_path, fixture_corpus, grid=({"C": 4.0},))
    second = train(tmp_path, fixture_corpus, grid=({"C": 1.0},), promote=False)
    reg = Registry(tmp_path)
    assert [v.version for v in reg.versions()] == [first, second]
    assert reg.load().version == first
    reg.promote(second)
    assert [v.promoted for v in reg.versions()] == [False, True]
    assert reg.load().version == second


def test_library_version_mismatch_warns(tmp_path: Path, small_registry: Path) -> None:
    import shutil

    root = tmp_path / "reg"
    shutil.copytree(small_registry, root)
    version = Registry(root).promoted_version()
    meta_path = root / version / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["libraries"]["scikit-learn"] = "0.0.1"
    meta_path.write_text(json.dumps(meta))
    with pytest.warns(LibraryVersionWarning, match=r"scikit-learn 0\.0\.1"):
        Registry(root).load()


def test_ensure_model_trains_once_deterministically(tmp_path: Path, fixture_corpus: Path, caplog: pytest.LogCaptureFixture) -> None:
    import models.training as training

    grid = training.PARAM_GRID
    training.PARAM_GRID = ({"C": 4.0},)
    try:
        with caplog.at_level(logging.INFO):
            a = ensure_model(tmp_path / "a", fixture_corpus)
        assert "training one from" in caplog.text
        again = ensure_model(tmp_path / "a", fixture_corpus)
        b = ensure_model(tmp_path / "b", fixture_corpus)
    finally:
        training.PARAM_GRID = grid
    assert again.version == a.version and len(Registry(tmp_path / "a").versions()) == 1
    assert a.threshold == b.threshold
    assert a.score(*ARTICLE).probability == b.score(*ARTICLE).probability


def test_ensure_model_does_not_promote_behind_the_users_back(tmp_path: Path, fixture_corpus: Path) -> None:
    from models.training import train

    train(tmp_path, fixture_corpus, grid=({"C": 4.0},), promote=False)
    with pytest.raises(ModelNotFound, match="monitor models promote"):
        ensure_model(tmp_path, fixture_corpus)


def test_untrusted_types_are_refused(tmp_path: Path) -> None:
    import skops.io as sio

    class Evil:  # noqa: B903 - a type outside the trusted modules
        pass

    folder = tmp_path / "v1"
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sio.dump({"x": Evil()}, folder / "model.skops")
    (folder / "metadata.json").write_text(json.dumps({"version": "v1", "threshold": 0.5, "libraries": {}}))
    with pytest.raises(ModelNotFound, match="does not trust"):
        Registry(tmp_path).load("v1")
