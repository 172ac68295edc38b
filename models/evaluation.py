"""Evaluation that does not flatter: grouped cross-validation, threshold choice, reports, plots.

- `near_duplicate_groups` clusters near-duplicate articles (MinHash over word 5-shingles, Jaccard
  >= 0.5, via datasketch) so that `grouped_folds` never splits a cluster across folds.
- `out_of_fold_proba` gives every example a probability from a model that never saw its group.
- `choose_threshold` picks, on those held-out probabilities, the highest threshold reaching the
  target recall (`classifier.target_recall`, default 0.9).
- `report` computes average precision, ROC-AUC, precision/recall/F1 at the threshold, the best
  recall at precision >= 0.85, false flags per 1,000 background (ordinary) articles and errors by
  category and difficulty; `format_report` prints it; `write_plots` writes the PR curve and the
  confusion matrix as PNG (matplotlib, Agg backend).

Examples marked `unsure` are left out of every headline figure.
Config keys read: `classifier.target_recall` (by callers, passed as `target_recall=`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from models.text import iter_words

PRECISION_FLOOR = 0.85  # issue 4: recall >= 0.90 at precision >= 0.85 on the corpus
PRECISION_FLOORS = (0.85, 0.75)  # issue 10: recall >= 0.85 at precision >= 0.75 on real pages
BACKGROUND_CATEGORIES = frozenset({"ordinary", "background"})


def is_background(category: str | None, difficulty: str | None) -> bool:
    """An ordinary news article (the base-rate population for false flags)."""
    return (category or "") in BACKGROUND_CATEGORIES or (difficulty or "") == "background"


# ---------------------------------------------------------------- grouping and folds


def near_duplicate_groups(texts: Sequence[str], threshold: float = 0.5, num_perm: int = 64, shingle: int = 5) -> np.ndarray:
    """Group ids: texts whose word 5-shingle sets have estimated Jaccard >= threshold share one."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    hashes = []
    for i, t in enumerate(texts):
        words = list(iter_words(t))
        shingles = {" ".join(words[k : k + shingle]) for k in range(max(1, len(words) - shingle + 1))}
        m = MinHash(num_perm=num_perm, seed=1)
        m.update_batch([s.encode("utf-8") for s in shingles])
        lsh.insert(str(i), m)
        hashes.append(m)
    parent = list(range(len(texts)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i, m in enumerate(hashes):
        for key in lsh.query(m):
            j = int(key)
            if j != i and m.jaccard(hashes[j]) >= threshold:
                ri, rj = find(i), find(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
    return np.array([find(i) for i in range(len(texts))])


def grouped_folds(y: np.ndarray, groups: np.ndarray, n_splits: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified, grouped k-fold splits (deterministic for a seed)."""
    n_splits = max(2, min(n_splits, int(np.bincount(np.asarray(y, dtype=int)).min())))
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(cv.split(np.zeros(len(y)), y, groups))


def out_of_fold_proba(
    fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray],
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Held-out probabilities: `fit_predict(train_idx, test_idx)` returns test probabilities."""
    proba = np.full(len(y), np.nan)
    for train, test in folds:
        proba[test] = fit_predict(train, test)
    return proba


# ---------------------------------------------------------------- threshold and metrics


def choose_threshold(y: np.ndarray, proba: np.ndarray, target_recall: float = 0.9) -> float:
    """The highest threshold whose recall on (y, proba) reaches `target_recall`."""
    y = np.asarray(y, dtype=int)
    pos = np.sort(proba[y == 1])[::-1]
    if not len(pos):
        return 0.5
    k = int(np.ceil(target_recall * len(pos))) - 1
    k = min(max(k, 0), len(pos) - 1)
    return float(np.nextafter(pos[k], -np.inf)) if pos[k] > 0 else 0.0


def recall_at_precision(y: np.ndarray, proba: np.ndarray, floor: float = PRECISION_FLOOR) -> float:
    precision, recall, _ = precision_recall_curve(y, proba)
    ok = precision >= floor
    return float(recall[ok].max()) if ok.any() else 0.0


def report(
    y: Sequence[int],
    proba: Sequence[float],
    threshold: float,
    categories: Sequence[str | None] | None = None,
    difficulties: Sequence[str | None] | None = None,
    unsure: Sequence[bool] | None = None,
) -> dict[str, Any]:
    """All the figures of one evaluation as a JSON-ready dict."""
    y_all = np.asarray(y, dtype=int)
    p_all = np.asarray(proba, dtype=float)
    n = len(y_all)
    cats = list(categories) if categories is not None else [None] * n
    diffs = list(difficulties) if difficulties is not None else [None] * n
    keep = ~np.asarray(unsure, dtype=bool) if unsure is not None else np.ones(n, dtype=bool)
    yk, pk = y_all[keep], p_all[keep]
    flagged = pk >= threshold
    tp = int((flagged & (yk == 1)).sum())
    fp = int((flagged & (yk == 0)).sum())
    fn = int((~flagged & (yk == 1)).sum())
    tn = int((~flagged & (yk == 0)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    both = len(set(yk.tolist())) == 2
    bg = np.array([is_background(c, d) for c, d in zip(cats, diffs, strict=True)], dtype=bool)[keep]
    bg_neg = bg & (yk == 0)
    out: dict[str, Any] = {
        "n": int(keep.sum()),
        "n_positive": int((yk == 1).sum()),
        "n_unsure_skipped": int((~keep).sum()),
        "average_precision": float(average_precision_score(yk, pk)) if both else None,
        "roc_auc": float(roc_auc_score(yk, pk)) if both else None,
        "threshold": float(threshold),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        **{f"recall_at_precision_{f:.2f}": (recall_at_precision(yk, pk, f) if both else None) for f in PRECISION_FLOORS},
        "background_articles": int(bg_neg.sum()),
        "false_flags_background": int((flagged & bg_neg).sum()),
        "false_flags_per_1000_background": (1000.0 * (flagged & bg_neg).sum() / bg_neg.sum()) if bg_neg.sum() else None,
    }
    out["by_category"] = _breakdown(np.asarray(cats, dtype=object)[keep], yk, flagged)
    if any(d for d in diffs):
        out["by_difficulty"] = _breakdown(np.asarray(diffs, dtype=object)[keep], yk, flagged)
    return out


def _breakdown(keys: np.ndarray, y: np.ndarray, flagged: np.ndarray) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "positive": 0, "flagged": 0, "errors": 0})
    for k, yi, fi in zip(keys, y, flagged, strict=True):
        row = table[str(k) if k else "(none)"]
        row["n"] += 1
        row["positive"] += int(yi)
        row["flagged"] += int(fi)
        row["errors"] += int(bool(fi) != bool(yi))
    return dict(sorted(table.items()))


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def format_report(r: dict[str, Any], title: str = "evaluation") -> str:
    """The report as aligned plain text."""
    c = r["confusion"]
    lines = [
        f"{title}: {r['n']} articles ({r['n_positive']} incidents), {r['n_unsure_skipped']} unsure skipped",
        f"  average precision          {_fmt(r['average_precision'])}",
        f"  ROC-AUC                    {_fmt(r['roc_auc'])}",
        f"  threshold                  {r['threshold']:.4f}",
        f"  precision / recall / F1    {r['precision']:.3f} / {r['recall']:.3f} / {r['f1']:.3f}",
        f"  confusion                  tp={c['tp']} fp={c['fp']} fn={c['fn']} tn={c['tn']}",
        *[f"  recall at precision>={f:.2f} {_fmt(r.get(f'recall_at_precision_{f:.2f}'))}" for f in PRECISION_FLOORS],
        f"  false flags / 1,000 ordinary    {_fmt(r['false_flags_per_1000_background'])}"
        f" ({r['false_flags_background']} of {r['background_articles']})",
    ]
    for key, label in (("by_category", "category"), ("by_difficulty", "difficulty")):
        if r.get(key):
            lines.append(f"  errors by {label}:")
            lines.append(f"    {'':28} {'n':>5} {'pos':>5} {'flag':>5} {'err':>5}")
            for name, row in r[key].items():
                lines.append(f"    {name[:28]:28} {row['n']:>5} {row['positive']:>5} {row['flagged']:>5} {row['errors']:>5}")
    return "\n".join(lines)


def write_plots(y: Sequence[int], proba: Sequence[float], threshold: float, folder: str | Path, title: str = "") -> list[Path]:
    """pr_curve.png and confusion_matrix.png in `folder`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    y = np.asarray(y, dtype=int)
    p = np.asarray(proba, dtype=float)
    paths = []
    precision, recall, thr = precision_recall_curve(y, p)
    fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
    ax.plot(recall, precision, lw=1.5)
    flagged = p >= threshold
    tp = (flagged & (y == 1)).sum()
    ax.scatter([tp / max(1, (y == 1).sum())], [tp / max(1, flagged.sum())], color="red", zorder=3, label=f"threshold {threshold:.3f}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, 1.01)
    ax.set_title(f"PR curve {title} (AP {average_precision_score(y, p):.3f})")
    ax.legend(loc="lower left")
    fig.tight_layout()
    paths.append(folder / "pr_curve.png")
    fig.savefig(paths[-1])
    plt.close(fig)

    cm = np.array([[((~flagged) & (y == 0)).sum(), (flagged & (y == 0)).sum()], [((~flagged) & (y == 1)).sum(), (flagged & (y == 1)).sum()]])
    fig, ax = plt.subplots(figsize=(4, 3.5), dpi=100)
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center", color="black")
    ax.set_xticks([0, 1], ["not flagged", "flagged"])
    ax.set_yticks([0, 1], ["label 0", "label 1"])
    ax.set_title(f"confusion at {threshold:.3f} {title}")
    fig.tight_layout()
    paths.append(folder / "confusion_matrix.png")
    fig.savefig(paths[-1])
    plt.close(fig)
    return paths
