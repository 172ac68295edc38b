"""The Markdown model card written with every registry version."""

from __future__ import annotations

from typing import Any


def _f(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def _dev_section(dev_reports: list[dict[str, Any]]) -> list[str]:
    if not dev_reports:
        return [
            "No real-news evaluation recorded with this version yet: run",
            "`monitor evaluate --version VERSION --data FILE.jsonl --save realset_eval`.",
        ]
    lines = [
        "| data | date | data sha256 | manifest sha256 | n (incidents) | AP | ROC-AUC | P / R at threshold | recall at P>=0.75 | false flags / 1,000 ordinary |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in dev_reports:
        lines.append(
            f"| `{r.get('data_file')}` | {r.get('evaluated_on')} | `{str(r.get('data_sha256', ''))[:12]}` | `{str(r.get('manifest_sha256', 'n/a'))[:12]}` | {r['n']} ({r['n_positive']}) "
            f"| {_f(r.get('average_precision'))} | {_f(r.get('roc_auc'))} | {_f(r.get('precision'))} / {_f(r.get('recall'))} "
            f"| {_f(r.get('recall_at_precision_0.75'))} | {_f(r.get('false_flags_per_1000_background'))} |"
        )
    return lines


def render_model_card(meta: dict[str, Any], report: dict[str, Any], dev_reports: list[dict[str, Any]] | None = None) -> str:
    m = meta.get("metrics", {})
    td = meta.get("training_data", {})
    libs = ", ".join(f"{k} {v}" for k, v in meta.get("libraries", {}).items())
    params = ", ".join(f"{k}={v}" for k, v in sorted(meta.get("params", {}).items()))
    grid = "\n".join(f"| {g['params']} | {g['average_precision']:.4f} |" for g in meta.get("grid", []))
    cats = "\n".join(
        f"| {name} | {row['n']} | {row['positive']} | {row['flagged']} | {row['errors']} |"
        for name, row in report.get("by_category", {}).items()
    )
    lines = [
        f"# Model card: netralitas classifier {meta['version']}",
        "",
        f"Created {meta['created_at']}; training data hash `{meta['training_data_hash']}`; libraries: {libs}.",
        "",
        "## What it does",
        "Scores an Indonesian news article (title + text) with the probability that it reports a concrete,",
        "locatable incident of a civil servant (ASN: PNS or PPPK) taking a partisan political act, per",
        "the project's LABELING.md. Appeals, pledges, socialisation, statistics, policy, TNI/Polri and",
        "village heads are label 0. It queues articles for human review; it decides nothing by itself.",
        "",
        "## Model",
        "Unicode normalisation, lowercasing, tokenising, Indonesian stopwords (signal words kept),",
        "PySastrawi stemming with protected election/office terms and gazetteer place names ->",
        "TF-IDF word n-grams -> logistic regression with sigmoid-calibrated probabilities.",
        f"Settings (chosen by grouped cross-validation over a small grid): {params}.",
        "",
        "| grid setting | held-out AP |",
        "| --- | --- |",
        grid,
        "",
        "## Training data",
        f"{td.get('examples')} articles ({td.get('positives')} incidents, {td.get('negatives')} label 0) from",
        f"`{td.get('corpus')}`, plus {td.get('review_decisions', 0)} reviewers' decisions. All people in the written",
        "corpus are fictional; regions are real.",
        "",
        "## Evaluation (grouped stratified cross-validation, held-out folds)",
        f"Near-duplicate articles are grouped and never split across folds ({report.get('n_groups')} groups,",
        f"{report.get('n_folds')} folds). The threshold {meta['threshold']:.4f} was chosen on the held-out",
        f"probabilities to reach recall {meta.get('target_recall')} ({report.get('threshold_rule', '')}).",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| average precision | {_f(m.get('average_precision'))} |",
        f"| ROC-AUC | {_f(m.get('roc_auc'))} |",
        f"| precision at threshold | {_f(m.get('precision'))} |",
        f"| recall at threshold | {_f(m.get('recall'))} |",
        f"| F1 at threshold | {_f(m.get('f1'))} |",
        f"| best recall at precision >= 0.85 | {_f(m.get('recall_at_precision_0.85'))} |",
        f"| best recall at precision >= 0.75 | {_f(m.get('recall_at_precision_0.75'))} |",
        f"| false flags per 1,000 background articles | {_f(m.get('false_flags_per_1000_background'))} |",
        "",
        "Errors by category (held-out folds):",
        "",
        "| category | n | incidents | flagged | errors |",
        "| --- | --- | --- | --- | --- |",
        cats,
        "",
        "See `pr_curve.png`, `confusion_matrix.png` and `evaluation.json` in this folder.",
        "",
        "## Evaluation on real news (development set)",
        "Written corpora flatter a model: check it on real pages with",
        "`monitor evaluate --version VERSION --data FILE.jsonl` (see models/realset/README.md).",
        "",
        *_dev_section(dev_reports or []),
        "",
        "## Limits",
        "- Trained on written (fictional) articles; real outlets write differently (see NLP-NOTES).",
        "- Bag of words: it does not know who did what; a hard negative full of incident vocabulary can",
        "  score high, and an incident told in unusual words can score low. Reviewers decide.",
        "- Indonesian only.",
        "",
        "## Licences",
        "Code MIT. PySastrawi's root-word dictionary comes from Kateglo under CC BY-NC-SA 3.0.",
        "The region gazetteer (models/data/wilayah) is from cahyadsn/wilayah, MIT.",
        "",
    ]
    return "\n".join(lines)
