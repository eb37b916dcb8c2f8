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

_SIGNATURES = text(
    "SELECT s.article_id, s.signature, a.cluster_id, a.published_at"
    " FROM article_signatures s JOIN articles a ON a.id = s.article_id"
    " WHERE s.article_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_DROP_BUCKETS = text("DELETE FROM lsh_buckets WHERE article_id = :me")
_DROP_SIGNATURE = text("DELETE FROM article_signatures WHERE article_id = :me")
_ADD_SIGNATURE = text("INSERT INTO article_signatures (article_id, signature) VALUES (:me, :sig)")
_SET_CLUSTER = text("UPDATE articles SET cluster_id = :cluster WHERE id = :me")


def _mark(conn: Connection) -> str:
    """The DB-API placeholder of the connection's driver (``?`` for sqlite3, ``%s`` else)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _candidates(conn: Connection, sig: dedup.Signature, published_at: int, me: int) -> list[int]:
    """Articles sharing a band, most shared first; plain driver SQL, as it runs per article."""
    m = _mark(conn)
    marks = ",".join([m] * len(sig.bands))
    sql = (
        f"SELECT article_id FROM lsh_buckets WHERE band_key IN ({marks})"
        f" AND published_at BETWEEN {m} AND {m} AND article_id != {m}"
        f" GROUP BY article_id ORDER BY COUNT(*) DESC LIMIT {MAX_CANDIDATES}"
    )
    params = (*sig.bands, published_at - dedup.WINDOW, published_at + dedup.WINDOW, me)
    return [r[0] for r in conn.exec_driver_sql(sql, params)]


def _add_buckets(conn: Connection, sig: dedup.Signature, published_at: int, me: int) -> None:
    m = _mark(conn)
    conn.exec_driver_sql(
        f"INSERT INTO lsh_buckets (band_key, article_id, published_at) VALUES ({m}, {m}, {m})",
        [(key, me, published_at) for key in sig.bands],
    )


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
        candidates = _candidates(conn, sig, published_at, article_id)
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
        _add_buckets(conn, sig, published_at, article_id)
    conn.execute(_SET_CLUSTER, {"cluster": cluster, "me": article_id})
    return cluster
