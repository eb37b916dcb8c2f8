"""The pure decision between an incoming article and what the store holds.

Like reader's ``Decider``: no database, no network, no clock.  The store
reads the existing row, asks :func:`decide`, and applies the intent in the
same transaction.  Keeping this pure makes the update rules testable alone.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

from finews.model import Article
from finews.process.text import body_text, letters


@dataclass(frozen=True)
class Stored:
    """An article as the store holds it."""

    id: int
    article: Article
    revision: int
    content_hash: str


@dataclass(frozen=True)
class Insert:
    article: Article


@dataclass(frozen=True)
class Update:
    """Replace ``old`` with ``new``; keep ``old`` as a revision if ``keep_revision``."""

    old: Stored
    new: Article
    content_changed: bool
    keep_revision: bool = True
    """False when the change only completes the text of a list item stored without it
    (a full text fetched later, e.g. by a worker's own task): that is no new version
    of the story, and the list's digest is not worth keeping."""


@dataclass(frozen=True)
class Unchanged:
    old: Stored


Intent = Insert | Update | Unchanged


def merge(old: Article, new: Article) -> Article:
    """What the article becomes when ``new`` is seen after ``old``.

    A list item seen again after its full text was fetched carries less than
    the stored article: what came with the full text (body, the article's
    own media credit) stays, and an empty field in ``new`` never erases a
    filled one.  A list that changes a title or digest is still an update.
    """
    if old.body_complete and not new.body_complete:
        new = replace(
            new, body_html=old.body_html, body_complete=True, media=old.media or new.media
        )
    elif not new.body_html and old.body_html:
        new = replace(new, body_html=old.body_html, body_complete=old.body_complete)
    if not new.digest and old.digest:
        new = replace(new, digest=old.digest)
    if not new.title and old.title:
        new = replace(new, title=old.title)
    if not new.media and old.media:
        new = replace(new, media=old.media)
    if not new.url and old.url:
        new = replace(new, url=old.url)
    if not new.stocks and old.stocks:
        new = replace(new, stocks=old.stocks)
    if not new.category and old.category:
        new = replace(new, category=old.category)
    if old.important and not new.important:
        new = replace(new, important=True)
    return new


def decide(existing: Stored | None, incoming: Article) -> Intent:
    if existing is None:
        return Insert(incoming)
    merged = merge(existing.article, incoming)
    changed = merged.content_hash() != existing.content_hash
    if changed or merged.body_complete != existing.article.body_complete:
        completing = merged.body_complete and not existing.article.body_complete
        return Update(
            existing,
            merged,
            content_changed=changed,
            keep_revision=changed
            and not completing
            and not _only_enriched(existing, merged)
            and not _digest_became_the_text(existing, merged),
        )
    return Unchanged(existing)


def _only_enriched(existing: Stored, merged: Article) -> bool:
    """The upstream's topics or spoken version arrived for an article stored without them
    (#15: articles stored before finews read them): an update, not a new revision."""
    old = existing.article
    if old.topics or old.audio_url or not (merged.topics or merged.audio_url):
        return False
    bare = replace(merged, topics=(), audio_url="")
    return bare.content_hash() == existing.content_hash


def _digest_became_the_text(existing: Stored, merged: Article) -> bool:
    """Only the digest changed, to the body's own text: a 财联社 telegraph stored with its
    ``brief`` (a preview cut at 300 characters, or a first wording) seen again since its
    digest is the telegraph itself (wave 8).  The story did not change: an update, not a
    new revision."""
    old = existing.article
    if merged.digest == old.digest or not merged.body_html:
        return False
    before = replace(merged, digest=old.digest)
    if before.content_hash() != existing.content_hash:
        return False
    # the same text, letter for letter: a digest sharing only the body's start (a figure
    # corrected further on, an Eastmoney summary refreshed by a list poll) is a new version
    return letters(html.unescape(merged.digest)) == letters(body_text(merged.body_html))
