"""The alert queue in the store: which articles were matched, what is to be sent, what
was sent.  A (article, webhook) pair is unique, so an alert goes out once, across
restarts."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from finews.model import Article
from finews.store import schema
from finews.store.rows import row_to_article
from finews.store.sqlstore import Store

WATERMARK = "matched_up_to"
A = schema.articles
D = schema.alert_deliveries
S = schema.alert_state


@dataclass(frozen=True)
class Delivery:
    id: int
    article: Article
    webhook: str
    reasons: list[str]
    attempts: int


def unmatched(store: Store, limit: int = 500) -> tuple[int, list[tuple[int, Article]]]:
    """(watermark, articles stored after it).  The first call on a store starts the
    watermark at its newest article: only what arrives from now on is alerted."""
    with store._write() as conn:
        mark = conn.execute(select(S.c.value).where(S.c.name == WATERMARK)).scalar()
        if mark is None:
            newest = int(conn.execute(select(func.max(A.c.id))).scalar() or 0)
            conn.execute(insert(S).values(name=WATERMARK, value=newest))
            return newest, []
        rows = conn.execute(select(A).where(A.c.id > mark).order_by(A.c.id).limit(limit))
        return int(mark), [(r["id"], row_to_article(r)) for r in rows.mappings()]


_STORY_ALERTED = text(
    "SELECT 1 FROM alert_deliveries d JOIN articles a"
    " ON a.source = d.source AND a.upstream_id = d.upstream_id"
    " WHERE d.webhook = :webhook AND a.cluster_id ="
    " (SELECT cluster_id FROM articles WHERE source = :source AND upstream_id = :upstream_id)"
    " LIMIT 1"
)


def enqueue(
    store: Store,
    matches: list[tuple[Article, str, list[str]]],
    watermark: int,
    now: float | None = None,
    *,
    per_story: bool = True,
) -> int:
    """Queue (article, webhook, reasons) and move the watermark, in one transaction.
    Returns how many deliveries were new (a pair already queued is left alone).
    ``per_story``: a report whose story was already alerted to that webhook is not queued
    (issue #10: reprints of one story alert once; the story is assigned when the report is
    stored, before it is matched)."""
    stamp = int(now if now is not None else time.time())
    added = 0
    dialect_insert = postgres_insert if store.dialect == "postgresql" else sqlite_insert
    with store._write() as conn:
        for article, webhook, reasons in matches:
            if (
                per_story
                and conn.execute(
                    _STORY_ALERTED,
                    {
                        "webhook": webhook,
                        "source": article.source,
                        "upstream_id": article.upstream_id,
                    },
                ).first()
            ):
                continue
            statement = (
                dialect_insert(D)
                .values(
                    source=article.source,
                    upstream_id=article.upstream_id,
                    webhook=webhook,
                    reasons="\n".join(reasons),
                    status="pending",
                    attempts=0,
                    next_attempt_at=stamp,
                    created_at=stamp,
                )
                .on_conflict_do_nothing()
            )
            added += conn.execute(statement).rowcount or 0
        conn.execute(update(S).where(S.c.name == WATERMARK).values(value=watermark))
    return added


def due(
    store: Store,
    now: float | None = None,
    limit: int = 50,
    *,
    exclude: Collection[str] = (),
) -> list[Delivery]:
    """The deliveries to try now, oldest first; ``exclude``: webhooks still busy sending
    (their lane takes them later), so that a dead webhook's backlog never fills the
    round's ``limit`` and keeps the others' waiting (wave 10)."""
    stamp = int(now if now is not None else time.time())
    where = [D.c.status == "pending", D.c.next_attempt_at <= stamp]
    if exclude:
        where.append(D.c.webhook.not_in(list(exclude)))
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(D, A)
            .join(A, (A.c.source == D.c.source) & (A.c.upstream_id == D.c.upstream_id))
            .where(*where)
            .order_by(D.c.next_attempt_at, D.c.id)
            .limit(limit)
        ).mappings()
        return [
            Delivery(
                id=r[D.c.id],
                article=row_to_article({k.name: r[k] for k in A.c}),  # type: ignore[arg-type]
                webhook=r[D.c.webhook],
                reasons=[x for x in r[D.c.reasons].split("\n") if x],
                attempts=r[D.c.attempts],
            )
            for r in rows
        ]


def record(
    store: Store,
    delivery_id: int,
    *,
    ok: bool,
    error: str = "",
    retry_at: float | None = None,
    now: float | None = None,
) -> None:
    """A delivery's outcome: sent, retried at ``retry_at``, or (no ``retry_at``) given up
    — then ``next_attempt_at`` keeps the time it was given up (:func:`failed_since`)."""
    stamp = int(now if now is not None else time.time())
    values: dict[str, Any] = {"attempts": D.c.attempts + 1, "last_error": error[:1000]}
    if ok:
        values.update(status="sent", sent_at=stamp)
    elif retry_at is not None:
        values.update(next_attempt_at=int(retry_at))
    else:
        values.update(status="failed", next_attempt_at=stamp)
    with store._write() as conn:
        conn.execute(update(D).where(D.c.id == delivery_id).values(**values))


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            status: int(n)
            for status, n in conn.execute(select(D.c.status, func.count()).group_by(D.c.status))
        }


@dataclass(frozen=True)
class Failed:
    """The deliveries one webhook gave up on in a time span (``finews check``, wave 10)."""

    webhook: str
    count: int
    last_error: str


def failed_since(store: Store, since: float) -> list[Failed]:
    """Per webhook, the deliveries given up on since ``since`` and the latest error."""
    return failed_by_webhook(store, D, since)


def failed_by_webhook(store: Store, table: Any, since: float) -> list[Failed]:
    """Shared with :func:`finews.store.subscriptions.failed_since` (the same columns)."""
    c = table.c
    found = []
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(c.webhook, func.count(), func.max(c.next_attempt_at))
            .where(c.status == "failed", c.next_attempt_at >= int(since))
            .group_by(c.webhook)
            .order_by(c.webhook)
        ).all()
        for webhook, n, last in rows:
            error = conn.execute(
                select(c.last_error)
                .where(c.webhook == webhook, c.status == "failed", c.next_attempt_at == last)
                .order_by(c.id.desc())
                .limit(1)
            ).scalar()
            found.append(Failed(webhook, int(n), error or ""))
    return found
