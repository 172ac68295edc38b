"""Near-duplicate clustering of syndicated copies (MinHash LSH over word shingles, datasketch).

Exact copies share a content hash and are clustered in the pipeline directly; this index catches
the copies an outlet edited lightly (another lead sentence, its own "Baca juga" lines).
"""

from __future__ import annotations

import re
from datetime import timedelta

from datasketch import MinHash, MinHashLSH
from sqlalchemy import select
from sqlalchemy.engine import Engine

from monitor.db import Article, session_scope, utcnow

NUM_PERM = 64
THRESHOLD = 0.7  # estimated Jaccard similarity of 5-word shingles
_WORD = re.compile(r"\w+", re.UNICODE)


def minhash(text: str, shingle: int = 5) -> MinHash:
    words = _WORD.findall(text.lower())
    m = MinHash(num_perm=NUM_PERM, seed=7)
    grams = {" ".join(words[i : i + shingle]) for i in range(max(1, len(words) - shingle + 1))}
    m.update_batch([g.encode() for g in grams])
    return m


class NearDuplicateIndex:
    """Cluster ids of recently stored articles, searchable by text similarity."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._n = 0

    @classmethod
    def from_recent(cls, engine: Engine, days: int = 7, limit: int = 50_000) -> NearDuplicateIndex:
        index = cls()
        with session_scope(engine) as session:
            rows = session.execute(
                select(Article.cluster_id, Article.text).where(Article.created_at >= utcnow() - timedelta(days=days)).order_by(Article.id.desc()).limit(limit)
            )
            for cluster_id, text in rows:
                if cluster_id is not None:
                    index.add(cluster_id, text)
        return index

    def add(self, cluster_id: int, text: str) -> None:
        self._n += 1
        self._lsh.insert(f"{cluster_id}:{self._n}", minhash(text))

    def find(self, text: str) -> int | None:
        keys = self._lsh.query(minhash(text))
        return min(int(k.split(":")[0]) for k in keys) if keys else None
