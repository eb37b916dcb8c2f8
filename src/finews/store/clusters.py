"""Reprint clusters in the store: LSH buckets in an indexed table.

Called inside a write transaction for every inserted or changed article, so an
article and its cluster are committed together.  See :mod:`finews.process.dedup`
for the signatures and the thresholds.  The statements are built once (plain
SQL with bound parameters): building SQLAlchemy expressions per article cost
more than running them.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, text

from finews.process import dedup

MAX_CANDIDATES = 50
"""Candidates compared per article: those sharing the most bands (most similar) first."""

_CANDIDATES = text(
    "SELECT article_id FROM lsh_buckets"
    " WHERE band_key IN :keys AND published_at BETWEEN :lo AND :hi AND article_id != :me"
    " GROUP BY article_id ORDER BY COUNT(*) DESC LIMIT :limit"
).bindparams(bindparam("keys", expanding=True))
_SIGNATURES = text(
    "SELECT s.article_id, s.signature, a.cluster_id, a.published_at"
    " FROM article_signatures s JOIN articles a ON a.id = s.article_id"
    " WHERE s.article_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_DROP_BUCKETS = text("DELETE FROM lsh_buckets WHERE article_id = :me")
_DROP_SIGNATURE = text("DELETE FROM article_signatures WHERE article_id = :me")
_ADD_SIGNATURE = text("INSERT INTO article_signatures (article_id, signature) VALUES (:me, :sig)")
_ADD_BUCKET = text(
    "INSERT INTO lsh_buckets (band_key, article_id, published_at) VALUES (:key, :me, :at)"
)
_SET_CLUSTER = text("UPDATE articles SET cluster_id = :cluster WHERE id = :me")


def assign(
    conn: Connection,
    article_id: int,
    published_at: int,
    sig: dedup.Signature | None,
    *,
    fresh: bool = False,
) -> int:
    """Store the article's signature and buckets; return the cluster it joins
    (the cluster of the most similar article published within the window, or
    its own id).  ``fresh``: the article has no buckets yet (a new row)."""
    if not fresh:
        conn.execute(_DROP_BUCKETS, {"me": article_id})
        conn.execute(_DROP_SIGNATURE, {"me": article_id})
    cluster = article_id
    if sig is not None:
        candidates = [
            r[0]
            for r in conn.execute(
                _CANDIDATES,
                {
                    "keys": list(sig.bands),
                    "lo": published_at - dedup.WINDOW,
                    "hi": published_at + dedup.WINDOW,
                    "me": article_id,
                    "limit": MAX_CANDIDATES,
                },
            )
        ]
        best: tuple[tuple[float, int], int] | None = None
        if candidates:
            for other_id, data, other_cluster, other_time in conn.execute(
                _SIGNATURES, {"ids": candidates}
            ):
                score = sig.similarity(dedup.Signature.from_bytes(data))
                key = (score, -abs(other_time - published_at))
                if score >= dedup.THRESHOLD and (best is None or key > best[0]):
                    best = (key, other_cluster or other_id)
        if best is not None:
            cluster = best[1]
        conn.execute(_ADD_SIGNATURE, {"me": article_id, "sig": sig.to_bytes()})
        conn.execute(
            _ADD_BUCKET, [{"key": k, "me": article_id, "at": published_at} for k in sig.bands]
        )
    conn.execute(_SET_CLUSTER, {"cluster": cluster, "me": article_id})
    return cluster
