"""The pipeline, grouped evaluation and threshold choice on the fixture corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from models_fixtures import make_corpus
from sklearn.base import clone

from models import evaluation
from models.classifier import build_pipeline
from models.training import fit, load_corpus


def test_pipeline_fits_and_predicts(fixture_corpus: Path) -> None:
    examples = load_corpus(fixture_corpus)
    docs = [e.document for e in examples]
    y = np.array([e.label for e in examples])
    pipe = build_pipeline({"C": 4.0}).fit(docs, y)
    proba = pipe.predict_proba(["Camat diduga ikut deklarasi paslon dan berfoto dengan salam dua jari", "Harga cabai di pasar naik"])[:, 1]
    assert proba[0] > 0.5 > proba[1]
    assert clone(pipe).get_params()["clf__estimator__C"] == 4.0


def test_near_duplicates_share_a_group_and_never_split() -> None:
    records = make_corpus(10)
    texts = [r["text"] for r in records]
    texts.append(texts[0] + " Baca juga: berita lain.")  # a syndicated copy with furniture
    groups = evaluation.near_duplicate_groups(texts)
    assert groups[0] == groups[-1]
    assert len(set(groups.tolist())) > 10
    y = np.array([r["label"] for r in records] + [records[0]["label"]])
    for train, test in evaluation.grouped_folds(y, groups, n_splits=3):
        assert not set(groups[train]) & set(groups[test])
        assert set(y[test]) == {0, 1}


def test_threshold_reaches_target_recall() -> None:
    y = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0])
    p = np.array([0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.65, 0.1, 0.05])
    thr = evaluation.choose_threshold(y, p, 0.9)
    assert ((p >= thr) & (y == 1)).sum() == 9
    assert thr <= 0.3 < thr + 1e-9 + 0.1


def test_report_counts_false_flags_per_thousand_background_and_skips_unsure() -> None:
    y = [1, 1, 0, 0, 0, 1]
    p = [0.9, 0.2, 0.8, 0.1, 0.7, 0.99]
    rep = evaluation.report(
        y, p, 0.5, ["incident", "incident", "ordinary", "ordinary", "appeal", "incident"], unsure=[False] * 5 + [True]
    )
    assert rep["n"] == 5 and rep["n_unsure_skipped"] == 1
    assert rep["confusion"] == {"tp": 1, "fp": 2, "fn": 1, "tn": 1}
    assert rep["false_flags_per_1000_background"] == 500.0
    assert rep["by_category"]["appeal"]["errors"] == 1
    assert "average precision" in evaluation.format_report(rep)


def test_fit_chooses_settings_by_grouped_cv(fixture_corpus: Path) -> None:
    result = fit(load_corpus(fixture_corpus), grid=({"C": 1.0}, {"C": 4.0}), target_recall=0.9)
    assert [g["params"] for g in result.grid] == [{"C": 1.0}, {"C": 4.0}]
    best = max(result.grid, key=lambda g: g["average_precision"])
    assert result.params["C"] == best["params"]["C"]
    assert result.report["recall"] >= 0.9
    assert not np.isnan(result.oof_proba).any()
