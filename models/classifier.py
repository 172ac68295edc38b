"""The classifier pipeline, scores and their explanations.

`build_pipeline(params)` makes the one scikit-learn `Pipeline` that training, evaluation and
`clone` take whole: `IndonesianTextProcessor` -> `TfidfVectorizer` (word n-grams, optionally a
`FeatureUnion` with character n-grams) -> `CalibratedClassifierCV(LogisticRegression)` with sigmoid
calibration (`ensemble=False`: one linear model on all data, so its coefficients explain scores).

`LoadedModel` wraps a fitted pipeline with its registry version and threshold, and scores articles
into `Score`s carrying the top contributing terms (coefficient x tf-idf, mapped back to the words as
written) and the 1-3 sentences with the strongest evidence.

Config keys read: `classifier.threshold` (by callers, passed as `threshold=`).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline

from models.text import (
    IndonesianTextProcessor,
    _analyze_lists,
    char_preprocess,
    join_document,
    normalize,
    sentences,
    split_terms,
)

# Settings of the shipped model; training searches a small grid around them (models.training).
DEFAULT_PARAMS: dict[str, Any] = {
    "C": 2.0,
    "char_ngrams": False,
    "class_weight": "balanced",
    "max_df": 0.9,
    "min_df": 2,
    "ngram_max": 1,
    "sublinear_tf": True,
}

TOP_TERMS = 10
MAX_EVIDENCE = 3
EVIDENCE_FEATURES = 40  # strongest positive features used to rank sentences


@dataclass(frozen=True)
class Score:
    """One article's score with its explanation."""

    probability: float
    flagged: bool
    threshold: float
    model_version: str
    top_terms: tuple[tuple[str, float], ...]  # words as written, contribution (coef x tf-idf), strongest first
    evidence_sentences: tuple[str, ...]  # 1-3 sentences with the strongest evidence, as written


def build_pipeline(params: Mapping[str, Any] | None = None) -> Pipeline:
    """The unfitted pipeline for `params` (missing keys take `DEFAULT_PARAMS`)."""
    p = {**DEFAULT_PARAMS, **(params or {})}
    return Pipeline([("text", IndonesianTextProcessor()), *build_model_steps(p)])


def build_model_steps(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Vectorizer and calibrated classifier: the part of the pipeline after text processing."""
    p = {**DEFAULT_PARAMS, **params}
    words = TfidfVectorizer(
        tokenizer=split_terms,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, int(p["ngram_max"])),
        min_df=p["min_df"],
        max_df=p["max_df"],
        sublinear_tf=p["sublinear_tf"],
        dtype=np.float32,
    )
    features: Any = words
    if p["char_ngrams"]:
        chars = TfidfVectorizer(
            analyzer="char_wb",
            preprocessor=char_preprocess,
            lowercase=False,
            ngram_range=(3, 5),
            min_df=p["min_df"],
            max_df=p["max_df"],
            sublinear_tf=True,
            dtype=np.float32,
        )
        features = FeatureUnion([("word", words), ("char", chars)])
    base = LogisticRegression(C=p["C"], class_weight=p["class_weight"], solver="liblinear", max_iter=1000, random_state=0)
    clf = CalibratedClassifierCV(
        base, method="sigmoid", cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0), ensemble=False
    )
    return [("features", features), ("clf", clf)]


def linear_coefficients(pipeline: Pipeline) -> np.ndarray:
    """Coefficients of the linear model over all features (averaged if the calibrator is an ensemble)."""
    clf = pipeline.named_steps["clf"]
    coefs = [np.asarray(c.estimator.coef_).ravel() for c in clf.calibrated_classifiers_]
    return np.mean(coefs, axis=0)


def word_feature_names(pipeline: Pipeline) -> tuple[np.ndarray, int]:
    """Names of the word n-gram features and their offset in the feature vector."""
    features = pipeline.named_steps["features"]
    if isinstance(features, FeatureUnion):
        word = dict(features.transformer_list)["word"]
        return word.get_feature_names_out(), 0
    return features.get_feature_names_out(), 0


@dataclass
class LoadedModel:
    """A fitted pipeline from the registry, ready to score."""

    version: str
    threshold: float
    pipeline: Pipeline
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._processor: IndonesianTextProcessor = self.pipeline.named_steps["text"]
        self._features = self.pipeline.named_steps["features"]
        self._clf = self.pipeline.named_steps["clf"]
        self._coef = linear_coefficients(self.pipeline)
        names, offset = word_feature_names(self.pipeline)
        self._names = names
        self._word_slice = slice(offset, offset + len(names))

    # ------------------------------------------------------------ scoring

    def score(self, title: str, text: str, threshold: float | None = None) -> Score:
        return self.score_many([(title, text)], threshold=threshold)[0]

    def score_many(self, items: Sequence[tuple[str, str]], threshold: float | None = None) -> list[Score]:
        """Score (title, text) pairs in one batch; `threshold` overrides the model's own."""
        if not items:
            return []
        thr = float(self.threshold if threshold is None else threshold)
        docs = [normalize(join_document(t, x)) for t, x in items]
        stem = self._processor.stem
        extra = tuple(self._processor.extra_protected)
        analysed = [_analyze_lists(d, stem, extra) for d in docs]
        X = self._features.transform([" ".join(terms) for terms, _, _ in analysed]).tocsr()  # noqa: N806
        proba = self._clf.predict_proba(X)[:, 1]
        out = []
        for i, (doc, lists) in enumerate(zip(docs, analysed, strict=True)):
            lo, hi = X.indptr[i], X.indptr[i + 1]
            terms, evidence = self._explain(doc, lists, X.indices[lo:hi], X.data[lo:hi])
            p = float(proba[i])
            out.append(
                Score(
                    probability=p,
                    flagged=p >= thr,
                    threshold=thr,
                    model_version=self.version,
                    top_terms=terms,
                    evidence_sentences=evidence,
                )
            )
        return out

    def predict_proba(self, docs: Sequence[str]) -> np.ndarray:
        """Probabilities for already joined documents (evaluation)."""
        return self.pipeline.predict_proba(list(docs))[:, 1]

    # ------------------------------------------------------------ explanations

    def _explain(
        self, doc: str, lists: tuple[list[str], list[int], list[int]], indices: np.ndarray, data: np.ndarray
    ) -> tuple[tuple[tuple[str, float], ...], tuple[str, ...]]:
        terms, starts, ends = lists
        ws = self._word_slice
        mask = (indices >= ws.start) & (indices < ws.stop)
        idx = indices[mask]
        contrib = data[mask] * self._coef[idx]
        pos = contrib > 0
        idx, contrib = idx[pos], contrib[pos]
        if not len(idx):
            return (), ()
        order = np.argsort(-contrib, kind="stable")[:EVIDENCE_FEATURES]
        by_term: dict[str, list[int]] = {}
        for k, t in enumerate(terms):
            by_term.setdefault(t, []).append(k)
        sent_bounds = sentences(doc)
        sent_starts = [a for a, _ in sent_bounds]
        sent_score = [0.0] * len(sent_bounds)
        top: list[tuple[str, float]] = []
        seen_written: set[str] = set()
        for j in order:
            name = self._names[idx[j] - ws.start]
            value = float(contrib[j])
            occurrences = _occurrences(name.split(" "), terms, by_term)
            if not occurrences:
                continue
            if len(top) < TOP_TERMS:
                a, b = occurrences[0]
                written = doc[starts[a] : ends[b]]
                if written not in seen_written:
                    seen_written.add(written)
                    top.append((written, round(value, 4)))
            for si in {bisect.bisect_right(sent_starts, starts[a]) - 1 for a, _ in occurrences}:
                if si >= 0:
                    sent_score[si] += value
        ranked = sorted(range(len(sent_bounds)), key=lambda k: -sent_score[k])
        best = sent_score[ranked[0]] if ranked else 0.0
        evidence = []
        for k in ranked[:MAX_EVIDENCE]:
            if sent_score[k] <= 0 or sent_score[k] < 0.2 * best:
                break
            a, b = sent_bounds[k]
            evidence.append(doc[a:b])
        return tuple(top), tuple(evidence)


def _occurrences(parts: list[str], terms: list[str], by_term: dict[str, list[int]]) -> list[tuple[int, int]]:
    """(first, last) term indices where the n-gram `parts` occurs in the document's terms."""
    firsts = by_term.get(parts[0], [])
    if len(parts) == 1:
        return [(k, k) for k in firsts]
    n = len(parts)
    return [(k, k + n - 1) for k in firsts if terms[k + 1 : k + n] == parts[1:]]
