"""Subscribers' state in the store (issue #14): how far each one's matching has read, the
stories each was given — a (subscriber, story) pair is unique, so a story goes to a
subscriber once, across restarts — the pushes made for it and their sends to each of its
webhooks.  Functions over the store, as :mod:`finews.store.alertqueue`."""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from finews.model import Article
from finews.store import alertqueue, schema
from finews.store.rows import row_to_article
from finews.store.sqlstore import Store

A = schema.articles
STATE = schema.subscriber_state
GIVEN = schema.subscriber_stories
PUSHES = schema.subscriber_pushes
SENDS = schema.subscriber_sends


@dataclass(frozen=True)
class Waiting:
    """A story given to a subscriber and not pushed yet."""

    id: int
    article_id: int
    story: int
    reasons: list[str]
    matched_at: int


@dataclass(frozen=True)
class Send:
    id: int
    push_id: int
    subscriber: str
    webhook: str
    kind: str
    text: str
    data: dict[str, Any]
    attempts: int


def _stamp(now: float | None) -> int:
    return int(now if now is not None else time.time())


def _insert(store: Store) -> Any:
    return postgres_insert if store.dialect == "postgresql" else sqlite_insert


def unmatched(
    store: Store, subscriber: str, limit: int = 500
) -> tuple[int, list[tuple[int, Article, int]]]:
    """(watermark, [(row id, article, story)] stored after it).  A new subscriber starts at
    the newest article: it is given what arrives from then on, not the back catalogue."""
    with store._write() as conn:
        mark = conn.execute(
            select(STATE.c.matched_up_to).where(STATE.c.subscriber == subscriber)
        ).scalar()
        if mark is None:
            newest = int(conn.execute(select(func.max(A.c.id))).scalar() or 0)
            conn.execute(insert(STATE).values(subscriber=subscriber, matched_up_to=newest))
            return newest, []
        rows = conn.execute(select(A).where(A.c.id > mark).order_by(A.c.id).limit(limit))
        return int(mark), [
            (r["id"], row_to_article(r), int(r["cluster_id"] or r["id"])) for r in rows.mappings()
        ]


def give(
    store: Store,
    subscriber: str,
    matches: Sequence[tuple[int, int, list[str]]],
    watermark: int,
    now: float | None = None,
) -> int:
    """Give (article id, story, reasons) to the subscriber and move its watermark, in one
    transaction; a story it was given before is left alone.  Returns how many were new."""
    stamp = _stamp(now)
    added = 0
    with store._write() as conn:
        for article_id, story, reasons in matches:
            statement = (
                _insert(store)(GIVEN)
                .values(
                    subscriber=subscriber,
                    story=story,
                    article_id=article_id,
                    reasons="\n".join(reasons),
                    matched_at=stamp,
                )
                .on_conflict_do_nothing()
            )
            added += conn.execute(statement).rowcount or 0
        conn.execute(
            update(STATE).where(STATE.c.subscriber == subscriber).values(matched_up_to=watermark)
        )
    return added


def waiting(store: Store, subscriber: str) -> list[Waiting]:
    """The stories given and not pushed yet, oldest first."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(GIVEN)
            .where(GIVEN.c.subscriber == subscriber, GIVEN.c.push_id.is_(None))
            .order_by(GIVEN.c.matched_at, GIVEN.c.id)
        ).mappings()
        return [
            Waiting(
                r["id"],
                r["article_id"],
                r["story"],
                [x for x in r["reasons"].split("\n") if x],
                r["matched_at"],
            )
            for r in rows
        ]


def articles(store: Store, ids: Sequence[int]) -> dict[int, Article]:
    found: dict[int, Article] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(ids), 400):
            rows = conn.execute(select(A).where(A.c.id.in_(list(ids[start : start + 400]))))
            found.update({r["id"]: row_to_article(r) for r in rows.mappings()})
    return found


def pushes_since(store: Store, subscriber: str, since: float, kinds: Sequence[str]) -> int:
    """Pushes of these kinds made for the subscriber at or after ``since``."""
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(PUSHES)
                .where(
                    PUSHES.c.subscriber == subscriber,
                    PUSHES.c.created_at >= int(since),
                    PUSHES.c.kind.in_(list(kinds)),
                )
            ).scalar_one()
        )


def add_push(
    store: Store,
    subscriber: str,
    kind: str,
    text: str,
    data: dict[str, Any],
    webhooks: Sequence[str],
    *,
    stories: Sequence[int] = (),
    dedupe: str | None = None,
    now: float | None = None,
) -> int | None:
    """Make a push: its text and data, a send per webhook, and the given stories it carries
    marked as pushed — one transaction.  ``dedupe``: a push with that key exists already
    (a briefing sent before a restart) → nothing is made, None."""
    stamp = _stamp(now)
    with store._write() as conn:
        if dedupe is not None:
            seen = conn.execute(
                select(PUSHES.c.id).where(
                    PUSHES.c.subscriber == subscriber, PUSHES.c.dedupe == dedupe
                )
            ).first()
            if seen is not None:
                return None
        key = conn.execute(
            insert(PUSHES).values(
                subscriber=subscriber,
                kind=kind,
                dedupe=dedupe,
                text=text,
                data=json.dumps(data, ensure_ascii=False),
                created_at=stamp,
            )
        ).inserted_primary_key
        assert key is not None
        push_id = int(key[0])
        for hook in webhooks:
            conn.execute(
                insert(SENDS).values(
                    push_id=push_id,
                    webhook=hook,
                    status="pending",
                    attempts=0,
                    next_attempt_at=stamp,
                    last_error="",
                )
            )
        if stories:
            conn.execute(update(GIVEN).where(GIVEN.c.id.in_(list(stories))).values(push_id=push_id))
    return push_id


def due(
    store: Store,
    now: float | None = None,
    limit: int = 50,
    *,
    exclude: Collection[str] = (),
) -> list[Send]:
    """The sends to try now; ``exclude``: webhooks still busy (as
    :func:`finews.store.alertqueue.due`)."""
    stamp = _stamp(now)
    where = [SENDS.c.status == "pending", SENDS.c.next_attempt_at <= stamp]
    if exclude:
        where.append(SENDS.c.webhook.not_in(list(exclude)))
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(SENDS, PUSHES.c.subscriber, PUSHES.c.kind, PUSHES.c.text, PUSHES.c.data)
            .join(PUSHES, PUSHES.c.id == SENDS.c.push_id)
            .where(*where)
            .order_by(SENDS.c.next_attempt_at, SENDS.c.id)
            .limit(limit)
        ).mappings()
        return [
            Send(
                r["id"],
                r["push_id"],
                r["subscriber"],
                r["webhook"],
                r["kind"],
                r["text"],
                json.loads(r["data"]),
                r["attempts"],
            )
            for r in rows
        ]


def record(
    store: Store,
    send_id: int,
    *,
    ok: bool,
    error: str = "",
    retry_at: float | None = None,
    now: float | None = None,
) -> None:
    """A send's outcome: sent, retried at ``retry_at``, or (no ``retry_at``) given up
    — then ``next_attempt_at`` keeps the time it was given up (:func:`failed_since`)."""
    values: dict[str, Any] = {"attempts": SENDS.c.attempts + 1, "last_error": error[:1000]}
    if ok:
        values.update(status="sent", sent_at=_stamp(now))
    elif retry_at is not None:
        values.update(next_attempt_at=int(retry_at))
    else:
        values.update(status="failed", next_attempt_at=_stamp(now))
    with store._write() as conn:
        conn.execute(update(SENDS).where(SENDS.c.id == send_id).values(**values))


def counts(store: Store) -> dict[tuple[str, str], int]:
    """(subscriber, kind) → pushes made."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(PUSHES.c.subscriber, PUSHES.c.kind, func.count()).group_by(
                PUSHES.c.subscriber, PUSHES.c.kind
            )
        )
        return {(s, k): int(n) for s, k, n in rows}


def failed_since(store: Store, since: float) -> list[alertqueue.Failed]:
    """Per webhook, the subscribers' sends given up on since ``since`` (``finews check``)."""
    return alertqueue.failed_by_webhook(store, SENDS, since)


def activity(store: Store, since: float) -> dict[str, dict[str, Any]]:
    """Per subscriber, its webhook sends of pushes made since ``since``: how many are
    sent, failed (given up) and pending, and when the last one went out (``finews
    subscribers list``; wave 10: nothing showed whether a subscriber was being served)."""
    found: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(PUSHES.c.subscriber, SENDS.c.status, func.count(), func.max(SENDS.c.sent_at))
            .select_from(SENDS.join(PUSHES, PUSHES.c.id == SENDS.c.push_id))
            .where(PUSHES.c.created_at >= int(since))
            .group_by(PUSHES.c.subscriber, SENDS.c.status)
        )
        for subscriber, status, n, last in rows:
            entry = found.setdefault(
                subscriber, {"sent": 0, "failed": 0, "pending": 0, "last_sent_at": None}
            )
            entry[status if status in entry else "pending"] += int(n)
            if status == "sent" and last is not None:
                entry["last_sent_at"] = int(last)
    return found
