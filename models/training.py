"""Training: load the labelled corpus, choose settings by grouped cross-validation, fit, register.

`train(registry_root, corpus_dir=None, extra=(), target_recall=0.9, promote=True)`:

1. loads every `*.jsonl` of the corpus (default: the shipped `models/corpus/`) plus `extra`
   examples (reviewers' decisions);
2. groups near-duplicates (`evaluation.near_duplicate_groups`) and makes stratified grouped folds;
3. scores each setting of `PARAM_GRID` by held-out average precision (ties: earlier setting);
4. with the best setting, picks the threshold on held-out folds: the target recall on held-out
   incidents scored inside an unrelated held-out article ("buried"), capped so held-out background
   articles get at most `MAX_BACKGROUND_FF_PER_1000` false flags; then computes the report;
5. fits the final pipeline on all examples and writes a new registry version (skops model,
   metadata.json, model_card.md, evaluation.json, PR curve and confusion matrix).

Everything is seeded: the same corpus gives the same model, threshold and figures.
Config keys read (by the CLI, passed in): `classifier.model_dir`, `classifier.corpus_dir`,
`classifier.target_recall`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score
from sklearn.pipeline import Pipeline

from models import evaluation
from models.classifier import DEFAULT_PARAMS, build_model_steps, build_pipeline
from models.text import IndonesianTextProcessor, join_document

log = logging.getLogger(__name__)

SHIPPED_CORPUS = Path(__file__).resolve().parent / "corpus"

# A small grid around DEFAULT_PARAMS; each is scored by grouped cross-validation on the corpus.
# The grid itself was narrowed on the real-news development set (issue 10): word bigrams and
# character n-grams scored as high or higher in cross-validation on the written corpus but not
# higher on real pages; no stemming, binary tf, L1 and naive Bayes scored lower on real pages.
PARAM_GRID: tuple[dict[str, Any], ...] = (
    {"C": 2.0},
    {"C": 0.5},
    {"C": 8.0},
    {"C": 2.0, "min_df": 5},
)
# Threshold rule (chosen on the real-news development set, issue 10). Written incidents score
# higher than real ones, which come inside pages that are partly about something else. So each
# held-out incident is also scored "buried": after the text of a held-out ordinary article (as
# NLP-NOTES describes real pages), and the threshold is the highest one that reaches the target
# recall on those buried incidents ...
# ... but never so low that held-out background articles get more than this many false flags per
# 1,000 (issue 4: at most 2 per 1,000 background articles).
MAX_BACKGROUND_FF_PER_1000 = 2.0

_FILE_DIFFICULTY = {"incidents": "incident", "hard_negatives": "hard", "background": "background", "seeds": "hard"}


@dataclass(frozen=True)
class Example:
    """One labelled article."""

    id: str
    title: str
    text: str
    label: int
    category: str | None = None
    difficulty: str | None = None
    province: str | None = None
    source: str | None = None
    file: str = ""
    unsure: bool = False

    @property
    def document(self) -> str:
        return join_document(self.title, self.text)


def _difficulty_for(filename: str) -> str | None:
    stem = Path(filename).stem
    for prefix, value in _FILE_DIFFICULTY.items():
        if stem.startswith(prefix):
            return value
    return None


def example_from_record(rec: dict[str, Any], file: str = "", line: int = 0) -> Example:
    """An Example from one JSONL record; raises ValueError naming the problem."""
    if not isinstance(rec, dict):
        raise ValueError("expected a JSON object")
    text = rec.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError('missing or empty "text"')
    label = rec.get("label")
    if label not in (0, 1, True, False):
        raise ValueError(f'"label" must be 0 or 1, got {label!r}')
    title = rec.get("title") or rec.get("headline") or ""
    return Example(
        id=str(rec.get("id") or f"{Path(file).stem}:{line}"),
        title=str(title),
        text=text,
        label=int(label),
        category=rec.get("category"),
        difficulty=rec.get("difficulty") or _difficulty_for(file),
        province=rec.get("province"),
        source=rec.get("source"),
        file=Path(file).name,
        unsure=bool(rec.get("unsure", False)),
    )


def read_jsonl_examples(path: str | Path, *, strict: bool = False) -> list[Example]:
    """Examples of one JSONL file; bad lines are logged and skipped (or raise if `strict`)."""
    out = []
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                out.append(example_from_record(json.loads(raw), str(path), n))
            except (ValueError, json.JSONDecodeError) as exc:
                if strict:
                    raise ValueError(f"{path}:{n}: {exc}") from None
                log.warning("%s:%d: skipped: %s", path, n, exc)
    return out


def load_corpus(corpus_dir: str | Path | None = None) -> list[Example]:
    """Every example in the corpus folder's `*.jsonl` files, in file-name order."""
    folder = Path(corpus_dir) if corpus_dir else SHIPPED_CORPUS
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no *.jsonl corpus files in {folder}")
    examples: list[Example] = []
    for f in files:
        examples.extend(read_jsonl_examples(f))
    return examples


def data_hash(examples: Sequence[Example]) -> str:
    """sha256 over the examples' canonical JSON (title, text, label), order-independent."""
    lines = sorted(json.dumps([e.title, e.text, e.label], ensure_ascii=False) for e in examples)
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


@dataclass
class TrainingResult:
    pipeline: Pipeline
    params: dict[str, Any]
    threshold: float
    report: dict[str, Any]
    grid: list[dict[str, Any]]
    oof_proba: np.ndarray
    labels: np.ndarray
    examples: list[Example]
    data_hash: str
    seconds: float


def cross_validate(
    processed: Sequence[str],
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    params: dict[str, Any],
    extra: Any = None,
    extra_proba: dict[int, float] | None = None,
) -> np.ndarray:
    """Held-out probabilities for one setting on already processed documents.

    `extra(test_idx) -> (indices, processed docs)`, when given, adds documents scored by each
    fold's model; their probabilities go into `extra_proba` (index -> probability).
    """
    docs = np.asarray(processed, dtype=object)
    if extra_proba is None:
        extra_proba = {}

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        model = Pipeline(build_model_steps(params))
        model.fit(list(docs[train]), y[train])
        if extra is not None:
            idx, more = extra(test)
            if len(idx):
                extra_proba.update(zip(idx, model.predict_proba(more)[:, 1], strict=True))
        return model.predict_proba(list(docs[test]))[:, 1]

    return evaluation.out_of_fold_proba(fit_predict, y, folds)


def buried_documents(examples: Sequence[Example], processed: Sequence[str]) -> Any:
    """`extra` for `cross_validate`: each held-out incident after a held-out ordinary article.

    Processing is token by token, so a buried document's terms are the host's terms followed by
    the incident body's: built from `processed` without stemming anything twice, and memoised per
    fold (the grid reuses the folds).
    """
    processor = IndonesianTextProcessor()
    bodies: dict[int, str] = {}
    memo: dict[tuple[int, ...], tuple[list[int], list[str]]] = {}

    def make(test: np.ndarray) -> tuple[list[int], list[str]]:
        key = tuple(int(i) for i in test)
        if key in memo:
            return memo[key]
        hosts = [i for i in key if examples[i].label == 0 and examples[i].difficulty == "background"]
        hosts = hosts or [i for i in key if examples[i].label == 0]
        incidents = [i for i in key if examples[i].label == 1]
        if not hosts or not incidents:
            memo[key] = ([], [])
            return memo[key]
        docs = []
        for k, i in enumerate(incidents):
            if i not in bodies:
                bodies[i] = processor.transform([examples[i].text])[0]
            docs.append(f"{processed[hosts[k % len(hosts)]]} {bodies[i]}")
        memo[key] = (incidents, docs)
        return memo[key]

    return make


def choose_threshold_rule(
    examples: Sequence[Example], y: np.ndarray, oof: np.ndarray, buried: dict[int, float], target_recall: float
) -> tuple[float, str]:
    """The threshold and a sentence saying how it was chosen (see MAX_BACKGROUND_FF_PER_1000)."""
    if len(buried) >= 10:
        idx = np.array(sorted(buried))
        t_recall = evaluation.choose_threshold(np.ones(len(idx), dtype=int), np.array([buried[i] for i in idx]), target_recall)
        rule = f"recall {target_recall} on {len(idx)} held-out incidents buried in held-out ordinary articles"
    else:
        t_recall = evaluation.choose_threshold(y, oof, target_recall)
        rule = f"recall {target_recall} on the held-out incidents"
    bg = np.sort(np.array([p for e, p in zip(examples, oof, strict=True) if e.label == 0 and evaluation.is_background(e.category, e.difficulty)]))[::-1]
    if len(bg):
        allowed = int(np.floor(MAX_BACKGROUND_FF_PER_1000 * len(bg) / 1000.0 + 1e-9))
        t_ff = float(np.nextafter(bg[allowed], np.inf)) if allowed < len(bg) else 0.0
        if t_ff > t_recall:
            return t_ff, rule + f", raised to keep held-out background false flags <= {MAX_BACKGROUND_FF_PER_1000:g} per 1,000"
    return t_recall, rule


def grouped_cv_report(
    examples: Sequence[Example], params: dict[str, Any], target_recall: float = 0.9, n_splits: int = 5
) -> tuple[dict[str, Any], np.ndarray, np.ndarray, float]:
    """Grouped CV of one setting with the training threshold rule: (report, y, oof, threshold)."""
    examples = [e for e in examples if not e.unsure]
    docs = [e.document for e in examples]
    y = np.array([e.label for e in examples], dtype=int)
    processed = IndonesianTextProcessor().transform(docs)
    groups = evaluation.near_duplicate_groups(docs)
    folds = evaluation.grouped_folds(y, groups, n_splits=n_splits)
    buried: dict[int, float] = {}
    oof = cross_validate(processed, y, folds, {**DEFAULT_PARAMS, **params}, extra=buried_documents(examples, processed), extra_proba=buried)
    threshold, rule = choose_threshold_rule(examples, y, oof, buried, target_recall)
    rep = evaluation.report(y, oof, threshold, [e.category for e in examples], [e.difficulty for e in examples])
    rep.update(target_recall=target_recall, threshold_rule=rule, n_groups=int(len(set(groups.tolist()))), n_folds=len(folds))
    return rep, y, oof, threshold


def fit(
    examples: Sequence[Example],
    *,
    target_recall: float = 0.9,
    grid: Iterable[dict[str, Any]] | None = None,
    n_splits: int = 5,
) -> TrainingResult:
    """Choose settings by grouped CV, pick the threshold on held-out folds, fit on everything."""
    started = time.perf_counter()
    examples = [e for e in examples if not e.unsure]
    if len({e.label for e in examples}) < 2:
        raise ValueError("training needs examples of both labels")
    docs = [e.document for e in examples]
    y = np.array([e.label for e in examples], dtype=int)
    processed = IndonesianTextProcessor().transform(docs)
    groups = evaluation.near_duplicate_groups(docs)
    folds = evaluation.grouped_folds(y, groups, n_splits=n_splits)
    candidates = [dict(g) for g in (PARAM_GRID if grid is None else grid)] or [{}]
    scored = []
    extra = buried_documents(examples, processed)
    best: tuple[float, dict[str, Any], np.ndarray, dict[int, float]] | None = None
    for g in candidates:
        params = {**DEFAULT_PARAMS, **g}
        extra_proba: dict[int, float] = {}
        oof = cross_validate(processed, y, folds, params, extra=extra, extra_proba=extra_proba)
        ap = float(average_precision_score(y, oof))
        scored.append({"params": g, "average_precision": round(ap, 4)})
        log.info("grouped CV %s: AP %.4f", g, ap)
        if best is None or ap > best[0] + 1e-9:
            best = (ap, params, oof, extra_proba)
    assert best is not None
    _, params, oof, buried = best
    threshold, rule = choose_threshold_rule(examples, y, oof, buried, target_recall)
    rep = evaluation.report(
        y, oof, threshold, [e.category for e in examples], [e.difficulty for e in examples]
    )
    rep["target_recall"] = target_recall
    rep["threshold_rule"] = rule
    if buried:
        bp = np.array(list(buried.values()))
        rep["buried_incidents_recall"] = float((bp >= threshold).mean())
    rep["n_groups"] = int(len(set(groups.tolist())))
    rep["n_folds"] = len(folds)
    pipeline = build_pipeline(params)
    pipeline.fit(docs, y)
    return TrainingResult(
        pipeline=pipeline,
        params=params,
        threshold=threshold,
        report=rep,
        grid=scored,
        oof_proba=oof,
        labels=y,
        examples=list(examples),
        data_hash=data_hash(examples),
        seconds=time.perf_counter() - started,
    )


def train(
    registry_root: str | Path,
    corpus_dir: str | Path | None = None,
    *,
    extra: Sequence[Example] = (),
    target_recall: float = 0.9,
    promote: bool = True,
    grid: Iterable[dict[str, Any]] | None = None,
) -> str:
    """Train on the corpus (+ `extra`), write a new registry version, optionally promote it."""
    from models.registry import Registry

    examples = load_corpus(corpus_dir) + list(extra)
    result = fit(examples, target_recall=target_recall, grid=grid)
    registry = Registry(registry_root)
    version = registry.save(result, corpus=str(Path(corpus_dir) if corpus_dir else SHIPPED_CORPUS), n_extra=len(extra))
    if promote:
        registry.promote(version)
    return version


def counts(examples: Sequence[Example]) -> dict[str, Any]:
    by_label: dict[str, int] = {}
    for e in examples:
        by_label[str(e.label)] = by_label.get(str(e.label), 0) + 1
    return {"total": len(examples), "by_label": by_label}


def example_dict(e: Example) -> dict[str, Any]:
    return asdict(e)
