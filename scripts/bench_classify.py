"""Benchmark the classifier on one core: `python scripts/bench_classify.py`.

Prints a table: articles/s scored for 400-word articles with a cold and with a warm stem cache
(explanations included, as the pipeline scores), the time to train on the shipped corpus (grid
search included), and PySastrawi stemming words/s uncached vs through the memo.

Options: --articles N (default 400), --model-dir DIR (score with that registry's promoted model
instead of training one in a temporary folder; the training row is then skipped).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import text as textmod  # noqa: E402
from models.registry import Registry  # noqa: E402
from models.training import load_corpus, train  # noqa: E402

WORDS = 400


def make_articles(n: int) -> list[tuple[str, str]]:
    """n articles of exactly 400 words, cut and joined from the corpus texts."""
    corpus = load_corpus()
    pool = [e.text.split() for e in corpus]
    out = []
    k = 0
    for i in range(n):
        words: list[str] = []
        while len(words) < WORDS:
            words.extend(pool[k % len(pool)])
            k += 1
        out.append((corpus[i % len(corpus)].title, " ".join(words[:WORDS])))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="passes per measure; the best is reported (other load on the machine only slows passes down)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    rows: list[tuple[str, str]] = []
    if args.model_dir:
        model = Registry(args.model_dir).load()
    else:
        tmp = tempfile.mkdtemp(prefix="bench-models-")
        textmod.clear_stem_cache()
        n_corpus = len(load_corpus())
        t = time.perf_counter()
        train(tmp, promote=True)
        rows.append((f"training on the shipped corpus ({n_corpus} articles, grid search + final fit)", f"{time.perf_counter() - t:.1f} s"))
        model = Registry(tmp).load()

    articles = make_articles(args.articles)

    def run() -> float:
        t = time.perf_counter()
        for i in range(0, len(articles), 50):
            model.score_many(articles[i : i + 50])
        return time.perf_counter() - t

    cold = []
    for _ in range(args.repeat):
        textmod.clear_stem_cache()
        cold.append(run())
    warm = [run() for _ in range(args.repeat)]
    rows.insert(0, (f"scoring {WORDS}-word articles, cold stem cache (best of {args.repeat})", f"{len(articles) / min(cold):.0f} articles/s"))
    rows.insert(1, (f"scoring {WORDS}-word articles, warm stem cache (best of {args.repeat})", f"{len(articles) / min(warm):.0f} articles/s"))

    words = [w for _, body in articles for w in textmod.iter_words(body)]
    distinct = sorted(set(words))
    stemmer = textmod._stemmer()
    t = time.perf_counter()
    for w in distinct:
        stemmer.stem(w)
    uncached = len(distinct) / (time.perf_counter() - t)
    for w in distinct:
        textmod.stem(w)
    t = time.perf_counter()
    for w in words:
        textmod.stem(w)
    cached = len(words) / (time.perf_counter() - t)
    rows.append((f"PySastrawi stemming, uncached ({len(distinct)} distinct words)", f"{uncached:,.0f} words/s"))
    rows.append((f"stemming through the memo, warm ({len(words)} words)", f"{cached:,.0f} words/s"))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"one core, Python {platform.python_version()}, model {model.version}, load average {load:.1f} on {os.cpu_count()} cores")
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure':{width}} | result |")
    print(f"| {'-' * width} | --- |")
    for name, value in rows:
        print(f"| {name:{width}} | {value} |")


if __name__ == "__main__":
    main()
