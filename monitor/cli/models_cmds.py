"""Classifier commands: classify, train, evaluate, models list|promote, labels export.

Config keys read: `classifier.model_dir`, `classifier.corpus_dir`, `classifier.threshold`,
`classifier.target_recall`; `database.url` for `--with-reviews` and `labels export`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from monitor.cli.app import AppContext, cli_errors, main, pass_app

BATCH = 256


def _model(app: AppContext, version: str | None):  # noqa: ANN202
    from models.registry import Registry, ensure_model

    cfg = app.config.classifier
    if version:
        return Registry(cfg.model_dir).load(version)
    return ensure_model(cfg.model_dir, cfg.corpus_dir)


def _threshold(app: AppContext, cli_value: float | None) -> float | None:
    return cli_value if cli_value is not None else app.config.classifier.threshold


def _read_items(fh: IO[str], name: str, problems: list[str]) -> Iterator[tuple[Any, str, str]]:
    """(id, title, text) of the good lines; bad lines are reported as FILE:LINE: problem."""
    for n, raw in enumerate(fh, 1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"{name}:{n}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(rec, dict):
            problems.append(f"{name}:{n}: expected a JSON object with id, title and text")
            continue
        missing = [k for k in ("id", "text") if k not in rec]
        if missing:
            problems.append(f"{name}:{n}: missing {', '.join(repr(k) for k in missing)}")
            continue
        title = rec.get("title") if rec.get("title") is not None else ""
        if not isinstance(rec["text"], str) or not isinstance(title, str):
            problems.append(f"{name}:{n}: 'title' and 'text' must be strings")
            continue
        yield rec["id"], title, rec["text"]


@main.command()
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--version", "version", default=None, help="Model version (default: the promoted one).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Override the threshold (default: classifier.threshold, else the model's own).")
@pass_app
@cli_errors
def classify(app: AppContext, file: IO[str], version: str | None, threshold: float | None) -> None:
    """Score articles read as JSON lines; print one JSON line per article.

    \b
    Example:
      echo '{"id": 1, "title": "Camat ikut deklarasi paslon", "text": "..."}' | monitor classify -

    Each input line is {"id", "title", "text"}; each output line is {"id", "score", "flagged",
    "model_version", "top_terms", "evidence"}. A malformed line is reported on stderr as
    FILE:LINE: problem and skipped; the others are still scored, and the exit status is 1.
    """
    model = _model(app, version)
    thr = _threshold(app, threshold)
    raw_name = getattr(file, "name", "-")
    name = "<stdin>" if raw_name in ("<stdin>", "-") or not isinstance(raw_name, str) else raw_name
    problems: list[str] = []
    batch: list[tuple[Any, str, str]] = []

    def flush() -> None:
        scores = model.score_many([(t, x) for _, t, x in batch], threshold=thr)
        for (item_id, _, _), s in zip(batch, scores, strict=True):
            click.echo(
                json.dumps(
                    {
                        "id": item_id,
                        "score": round(s.probability, 6),
                        "flagged": s.flagged,
                        "model_version": s.model_version,
                        "top_terms": [[w, c] for w, c in s.top_terms],
                        "evidence": list(s.evidence_sentences),
                    },
                    ensure_ascii=False,
                )
            )
        batch.clear()

    reported = 0
    for item in _read_items(file, name, problems):
        while reported < len(problems):
            click.echo(problems[reported], err=True)
            reported += 1
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    for p in problems[reported:]:
        click.echo(p, err=True)
    if problems:
        click.echo(f"{len(problems)} malformed line(s) skipped", err=True)
        sys.exit(1)


@main.command()
@click.option("--with-reviews", is_flag=True, help="Add reviewers' decisions from the database (confirmed = 1, dismissed = 0).")
@click.option("--no-promote", is_flag=True, help="Register the new version without promoting it.")
@pass_app
@cli_errors
def train(app: AppContext, with_reviews: bool, no_promote: bool) -> None:
    """Train a new model version on the labelled corpus and register it.

    \b
    Example:
      monitor train --with-reviews

    Settings are chosen by grouped cross-validation; the threshold is chosen on held-out folds to
    reach classifier.target_recall. The new version is promoted unless --no-promote.
    """
    from models.evaluation import format_report
    from models.registry import Registry
    from models.training import load_corpus
    from models.training import train as train_model

    cfg = app.config.classifier
    extra = []
    if with_reviews:
        from models.reviews import review_examples

        extra = review_examples(app.engine())
        click.echo(f"adding {len(extra)} review decisions", err=True)
    n = len(load_corpus(cfg.corpus_dir))
    click.echo(f"training on {n} corpus articles...", err=True)
    version = train_model(cfg.model_dir, cfg.corpus_dir, extra=extra, target_recall=cfg.target_recall, promote=not no_promote)
    registry = Registry(cfg.model_dir)
    folder = registry.root / version
    rep = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
    click.echo(format_report(rep, title=f"model {version} (grouped cross-validation)"))
    click.echo(f"saved {folder}{'' if no_promote else ' (promoted)'}")


@main.command()
@click.option("--version", "version", default=None, help="Model version (default: the promoted one).")
@click.option("--data", "data", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help='JSON lines {"title","text","label","category"} to score (default: grouped CV on the corpus).')
@click.option("--urls", "urls", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help='A manifest of labelled URLs {"url","label","category"}: fetch, extract and score each page.')
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("var/url_cache"), show_default=True, help="With --urls: extracted pages are kept here, so a rerun fetches nothing.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Override the threshold for --data/--urls.")
@click.option("--save", "save_as", default=None, metavar="NAME", help="With --data/--urls: also record the report as NAME.json/NAME.txt in the version's folder and its model card.")
@click.option("--manifest", "manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="With --data --save: the labelled-URL manifest the texts were gathered for (its sha256 is recorded).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_app
@cli_errors
def evaluate(
    app: AppContext,
    version: str | None,
    data: Path | None,
    urls: Path | None,
    cache_dir: Path,
    threshold: float | None,
    save_as: str | None,
    manifest: Path | None,
    as_json: bool,
) -> None:
    """Report a model version's quality (AP, ROC-AUC, P/R/F1, false flags, errors).

    \b
    Example:
      monitor evaluate --data var/realset/texts.jsonl

    Without --data or --urls: grouped, stratified cross-validation on the corpus with the version's
    settings (threshold chosen on held-out folds). With --data: scores the file's lines with the
    version at its threshold. With --urls: fetches each listed page politely (robots.txt, per-host
    interval; cached in --cache), extracts and scores it; pages that fail are skipped and counted.
    Lines marked "unsure": true are left out of the headline figures; false flags are counted per
    1,000 ordinary pages (category "ordinary" or difficulty "background").
    """
    from models import evaluation
    from models.registry import Registry

    if data is not None and urls is not None:
        raise click.UsageError("give --data or --urls, not both")
    cfg = app.config.classifier
    model = _model(app, version)
    source = data or urls
    skipped_note = ""
    if source is None:
        from models.training import grouped_cv_report, load_corpus

        rep, _, _, _ = grouped_cv_report(load_corpus(cfg.corpus_dir), model.metadata.get("params", {}), cfg.target_recall)
        title = f"model {model.version} settings, grouped {rep['n_folds']}-fold CV on the corpus (threshold rule of training: {rep['threshold_rule']})"
    else:
        if data is not None:
            from models.training import read_jsonl_examples

            try:
                examples = read_jsonl_examples(data, strict=True)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
            skipped: dict[str, int] = {}
        else:
            from models.training import example_from_record
            from monitor.url_eval import gather_manifest

            gathered = gather_manifest(urls, app.config.crawler, cache_dir)
            examples = [example_from_record(r, str(urls), n) for n, r in enumerate(gathered.rows, 1)]
            skipped = dict(gathered.skipped)
            click.echo(f"{len(examples)} pages read ({gathered.fetched} fetched now, the rest from {cache_dir}), {sum(skipped.values())} skipped", err=True)
        scores = model.score_many([(e.title, e.text) for e in examples])
        thr = _threshold(app, threshold)
        thr = model.threshold if thr is None else thr
        rep = evaluation.report(
            [e.label for e in examples],
            [s.probability for s in scores],
            thr,
            [e.category for e in examples],
            [e.difficulty for e in examples],
            [e.unsure for e in examples],
        )
        rep["skipped_pages"] = skipped
        if skipped:
            skipped_note = "\n  skipped pages: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items()))
        title = f"model {model.version} on {source}"
    rep["model_version"] = model.version
    text = evaluation.format_report(rep, title=title) + skipped_note
    click.echo(json.dumps(rep, indent=2, ensure_ascii=False) if as_json else text)
    if save_as and source is not None:
        import hashlib
        from datetime import date

        rep["data_file"] = str(source)
        rep["data_sha256"] = hashlib.sha256(source.read_bytes()).hexdigest()
        rep["evaluated_on"] = date.today().isoformat()
        rep["training_data_hash"] = model.metadata.get("training_data_hash")
        manifest = manifest or urls
        if manifest is not None:
            rep["manifest"] = str(manifest)
            rep["manifest_sha256"] = hashlib.sha256(manifest.read_bytes()).hexdigest()
        Registry(cfg.model_dir).write_dev_report(model.version, save_as, rep, text)


@main.group()
def models() -> None:
    """List and promote trained model versions.

    \b
    Example:
      monitor models list && monitor models promote 20250101-120000-ab12cd34
    """


@models.command("list")
@pass_app
@cli_errors
def models_list(app: AppContext) -> None:
    """List model versions, oldest first; * marks the promoted one.

    \b
    Example:
      monitor models list
    """
    from models.registry import Registry

    versions = Registry(app.config.classifier.model_dir).versions()
    if not versions:
        click.echo(f"no model versions in {app.config.classifier.model_dir}: run `monitor train`")
        return
    click.echo(f"  {'version':28} {'created':25} {'threshold':>9} {'AP':>6} {'recall':>6} {'FF/1k':>6}")
    for v in versions:
        m = v.metrics
        ff = m.get("false_flags_per_1000_background")
        click.echo(
            f"{'*' if v.promoted else ' '} {v.version:28} {v.created_at:25} {v.threshold:9.4f} "
            f"{(m.get('average_precision') or 0):6.3f} {(m.get('recall') or 0):6.3f} {'n/a' if ff is None else f'{ff:6.1f}':>6}"
        )


@models.command("promote")
@click.argument("version")
@pass_app
@cli_errors
def models_promote(app: AppContext, version: str) -> None:
    """Make VERSION the model the pipeline scores with.

    \b
    Example:
      monitor models promote 20250101-120000-ab12cd34
    """
    from models.registry import Registry

    Registry(app.config.classifier.model_dir).promote(version)
    click.echo(f"promoted {version}")


@main.group()
def labels() -> None:
    """Reviewers' decisions as labelled data.

    \b
    Example:
      monitor labels export --output var/review_labels.jsonl
    """


@labels.command("export")
@click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here instead of stdout.")
@pass_app
@cli_errors
def labels_export(app: AppContext, output: Path | None) -> None:
    """Write reviewers' decisions as labelled JSON lines (confirmed 1, dismissed 0).

    \b
    Example:
      monitor labels export --output var/review_labels.jsonl
    """
    from models.reviews import review_records

    records = review_records(app.engine())
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    if output is None:
        for line in lines:
            click.echo(line)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        click.echo(f"wrote {len(lines)} labelled articles to {output}", err=True)
