"""Subscribers (issue #14): several people sharing one crawl, each with a watchlist, webhooks,
quiet hours and a cap on pushes per hour — and the briefings at 08:00 and 15:30.

- **Matching** is the alerts' (:class:`finews.run.alerts.Watchlist`: keywords with search's
  aliases and synonyms, stock codes, every important article), narrowed to the subscriber's
  sources and, with ``important_only``, to important articles.
- **Once per story**: a story given to a subscriber is recorded under a unique (subscriber,
  story) key with the subscriber's own watermark, in the store — a restart neither repeats
  nor misses (:mod:`finews.store.subscriptions`); a reprint of a story it was given is not
  given again.
- **Pacing** (:func:`pace`): during quiet hours nothing is pushed; what matched waits.  With
  ``max_per_hour`` = N, at most N pushes go out in any hour: when more stories wait than the
  hour has room for, the last push of the hour is one digest of all the rest — never dropped.
  Pushes and a digest's items go oldest first (:func:`in_time_order`).
- **Briefings**: when a subscribed session's period ends (``briefing.morning``,
  ``briefing.close``) its briefing is pushed once (a unique key per subscriber and period),
  held through quiet hours; one missed while finews was down is sent on start within
  ``CATCH_UP`` seconds of its end.  Briefings do not count against the cap.  Trading days
  only (:mod:`finews.tradingdays`): no briefing on a weekend or an exchange holiday.  The
  bots get its short plain form with a link to its page (:mod:`finews.run.messages`), the
  generic webhook its Markdown.
- **Delivery** reuses the alerts' senders (:func:`finews.run.alerts.shaped`, ``send``)
  with retries and capped backoff, each webhook in its own lane
  (:class:`finews.run.alerts.Lanes`): a failing or hanging webhook only delays its own
  sends.

``finews subscribers test NAME`` replays the last 24 hours through the same pacing
(:func:`simulate`), each article arriving at its publication time.
"""

from __future__ import annotations

import bisect
import functools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from finews import tradingdays
from finews.briefing import periods
from finews.briefing.service import Made
from finews.config import Settings, SubscriberSettings, quiet_hours
from finews.model import BEIJING, Article
from finews.process.text import shortened
from finews.run import alerts, messages
from finews.site import paths
from finews.store import Store, backlog
from finews.store import subscriptions as state

log = logging.getLogger("finews.subscribers")

HOUR = 3600
CATCH_UP = 6 * HOUR
"""A briefing whose period ended this long ago or less is still pushed (after a restart, or
held by quiet hours); an older one is not news any more."""
DIGEST_LINES = 50
"""Stories a digest lists one by one; the rest are counted."""
COUNTED = ("item", "digest")
"""The kinds of push the cap counts (briefings are scheduled, two a day at most)."""


@dataclass(frozen=True)
class Subscriber:
    name: str
    watchlist: alerts.Watchlist
    webhooks: tuple[alerts.Webhook, ...]
    sources: tuple[str, ...] = ()
    important_only: bool = False
    quiet: tuple[int, int] | None = None
    """(start, end) minutes of the Beijing day, the end excluded; may cross midnight"""
    max_per_hour: int = 0
    briefings: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, name: str, s: SubscriberSettings) -> Subscriber:
        return cls(
            name=name,
            watchlist=alerts.Watchlist(s.keywords, s.stocks, s.important),
            webhooks=tuple(
                alerts.Webhook.parse(w, f"subscribers.{name}.webhooks") for w in s.webhooks
            ),
            sources=s.sources,
            important_only=s.important_only,
            quiet=quiet_hours(s.quiet_hours, f"subscribers.{name}.quiet_hours")
            if s.quiet_hours
            else None,
            max_per_hour=s.max_per_hour,
            briefings=s.briefings,
        )

    def reasons(self, article: Article) -> list[str]:
        """Why the article is this subscriber's (empty: it is not)."""
        if self.sources and article.source not in self.sources:
            return []
        if self.important_only and not article.important:
            return []
        return self.watchlist.reasons(article)

    def is_quiet(self, now: float) -> bool:
        if self.quiet is None:
            return False
        at = datetime.fromtimestamp(now, BEIJING)
        minute = at.hour * 60 + at.minute
        start, end = self.quiet
        return start <= minute < end if start < end else minute >= start or minute < end


def pace(waiting: int, recent: int, cap: int) -> tuple[int, bool]:
    """(how many waiting stories go out now one push each, whether the rest go out now as
    one digest), given the pushes of the last hour (``recent``) and the cap (0: none).  The
    hour's last free push is a digest when more wait than the hour has room for."""
    if waiting == 0:
        return 0, False
    if cap <= 0:
        return waiting, False
    room = cap - recent
    if room <= 0:
        return 0, False
    if waiting <= room:
        return waiting, False
    return room - 1, True


def digest_line(article: Article, link: str) -> str:
    """One item of a digest: its time, its complete headline, its outlet and its link."""
    when = article.published_beijing.strftime("%H:%M")
    title = alerts.headline(article, 80)
    return f"{when} {title}（{article.media or article.source}）{link}"


def digest_text(items: Sequence[tuple[Article, str]], formats: Iterable[str] = ()) -> str:
    """A digest as a bot message: its items in the order given (dispatch gives them oldest
    first), as many as fit the bots in ``formats`` and :data:`DIGEST_LINES`, the rest
    counted."""
    lines = [digest_line(a, link) for a, link in items]
    return messages.digest_text(lines, formats, DIGEST_LINES)


def push_headline(text: str, limit: int = 30) -> str:
    """A push's first line, its 【】 taken off, for a log line."""
    first = text.strip().split("\n", 1)[0].strip().removeprefix("【").removesuffix("】")
    return shortened(first, limit)


def in_time_order(wait: Sequence[state.Waiting], found: dict[int, Article]) -> list[state.Waiting]:
    """Stories waiting for a push, oldest publication first (wave 10): a first poll stores
    a list newest first, so the store's order is not the news' order.  A story whose
    article is gone keeps its place at the start (it is only marked, never sent)."""

    def when(w: state.Waiting) -> tuple[float, int]:
        article = found.get(w.article_id)
        return (article.published.timestamp() if article else 0.0, w.article_id)

    return sorted(wait, key=when)


@dataclass
class Subscriptions:
    """The subscribers of the settings over one store (``finews run`` holds one)."""

    store: Store
    settings: Settings
    subscribers: list[Subscriber] = field(init=False)
    _briefings: dict[tuple[object, ...], Made | None] = field(default_factory=dict, init=False)
    lanes: alerts.Lanes = field(default_factory=alerts.Lanes, init=False)
    sent: int = field(default=0, init=False)
    """sends the webhooks accepted (since this object was made)"""
    failed: int = field(default=0, init=False)
    """sends given up after ``alerts.retries`` attempts"""

    def __post_init__(self) -> None:
        self.subscribers = [
            Subscriber.from_settings(n, s) for n, s in sorted(self.settings.subscribers.items())
        ]

    def link(self, article: Article) -> str:
        base = self.settings.site.base_url.rstrip("/") + "/"
        return base + paths.article_path(
            article.source, article.upstream_id, int(article.published.timestamp())
        )

    # -- matching ----------------------------------------------------------------------
    def match(self, now: float | None = None) -> int:
        """Give each subscriber the stories of the articles stored since its watermark."""
        given = 0
        for sub in self.subscribers:
            while True:
                _, rows = state.unmatched(self.store, sub.name)
                if not rows:
                    break
                matches = []
                old = backlog.marks(self.store, {a.source for _, a, _ in rows})
                for article_id, article, story in rows:
                    if backlog.is_back_catalogue(old, article.source, article_id):
                        continue  # a source's first poll into the store: not news
                    reasons = sub.reasons(article)
                    if reasons:
                        matches.append((article_id, story, reasons))
                given += state.give(self.store, sub.name, matches, rows[-1][0], now)
        return given

    # -- pushes ------------------------------------------------------------------------
    def dispatch(self, now: float | None = None) -> int:
        """Make the pushes each subscriber is due now; returns how many were made."""
        stamp = time.time() if now is None else now
        made = 0
        for sub in self.subscribers:
            if sub.is_quiet(stamp):
                continue
            wait = state.waiting(self.store, sub.name)
            recent = state.pushes_since(self.store, sub.name, stamp - HOUR + 1, COUNTED)
            alone, digest = pace(len(wait), recent, sub.max_per_hour)
            if not alone and not digest:
                continue
            found = state.articles(self.store, [w.article_id for w in wait])
            wait = in_time_order(wait, found)
            hooks = [h.key for h in sub.webhooks]
            formats = [h.format for h in sub.webhooks]
            for w in wait[:alone]:
                article = found.get(w.article_id)
                if article is None:  # deleted since: nothing to push
                    state.add_push(self.store, sub.name, "gone", "", {}, [], stories=[w.id])
                    continue
                link = self.link(article)
                item: dict[str, Any] = {"kind": "item", "subscriber": sub.name}
                item.update(alerts.article_data(article, w.reasons, link))
                state.add_push(
                    self.store,
                    sub.name,
                    "item",
                    alerts.alert_text(article, w.reasons, link),
                    item,
                    hooks,
                    stories=[w.id],
                    now=stamp,
                )
                made += 1
            if digest:
                rest = [w for w in wait[alone:] if w.article_id in found]
                items = [(found[w.article_id], self.link(found[w.article_id])) for w in rest]
                data = {
                    "kind": "digest",
                    "subscriber": sub.name,
                    "items": [
                        alerts.article_data(a, w.reasons, link)
                        for (a, link), w in zip(items, rest, strict=True)
                    ],
                }
                state.add_push(
                    self.store,
                    sub.name,
                    "digest",
                    digest_text(items, formats),
                    data,
                    hooks,
                    stories=[w.id for w in wait[alone:]],
                    now=stamp,
                )
                made += 1
        return made

    def briefings(self, now: float | None = None) -> int:
        """Push each subscribed briefing whose period has ended (once, held in quiet hours)."""
        stamp = time.time() if now is None else now
        b = self.settings.briefing
        made_pushes = 0
        for sub in self.subscribers:
            if not sub.briefings or sub.is_quiet(stamp):
                continue
            for period in ended_periods(stamp, sub.briefings, b.morning, b.close):
                key = f"briefing:{period.day.isoformat()}:{period.session}"
                made = self._briefing(period)
                if made is None:  # nothing was published in the period: nothing to brief
                    continue
                data = {
                    "kind": "briefing",
                    "subscriber": sub.name,
                    "date": period.day.isoformat(),
                    "session": period.session,
                    "url": messages.briefing_page(made),
                    "markdown": made.markdown(),
                }
                # the bots get its short form, fitted to the smallest of their limits
                text = messages.briefing_text(made, [h.format for h in sub.webhooks])
                hooks = [h.key for h in sub.webhooks]
                pushed = state.add_push(
                    self.store, sub.name, "briefing", text, data, hooks, dedupe=key, now=stamp
                )
                made_pushes += pushed is not None
        return made_pushes

    def _briefing(self, period: periods.Period) -> Made | None:
        """The period's briefing (None: nothing was published in it), made once."""
        from finews.briefing.service import make

        key = (period.day, period.session)
        if key not in self._briefings:
            made = make(self.store, self.settings, period.day, period.session, now=period.until)
            self._briefings[key] = made if made.briefing.articles else None
        return self._briefings[key]

    # -- delivery ----------------------------------------------------------------------
    async def deliver(
        self,
        client: httpx.AsyncClient,
        now: Callable[[], float] = time.time,
        *,
        wait: bool = True,
    ) -> int:
        """Hand what is due to the webhooks, each idle webhook its own lane; a busy one is
        left to its lane.  ``wait``: until the lanes are done (one-shot use and tests;
        ``finews run`` does not wait, so that a hanging webhook delays no other).  Returns
        how many sends were accepted meanwhile (0 when not waiting: see :attr:`sent`)."""
        import anyio.to_thread

        before = self.sent
        busy = self.lanes.busy()
        pending = await anyio.to_thread.run_sync(
            functools.partial(state.due, self.store, now(), exclude=busy)
        )
        batches: dict[str, list[state.Send]] = {}
        for send in pending:
            batches.setdefault(send.webhook, []).append(send)
        for key, batch in batches.items():
            self.lanes.start(key, self._send_lane(client, key, batch, now))
        if not wait:
            return 0
        await self.lanes.wait()
        return self.sent - before

    async def _send_lane(
        self,
        client: httpx.AsyncClient,
        key: str,
        batch: list[state.Send],
        now: Callable[[], float],
    ) -> None:
        """One webhook's sends, one after another; whatever goes wrong with one is logged
        naming the webhook, and is that send's alone."""
        import anyio.to_thread

        hook = {h.key: h for s in self.subscribers for h in s.webhooks}.get(key)
        if hook is None:
            log.warning(
                "%d push(es) for %s given up: that webhook is no longer in the settings",
                len(batch),
                alerts.key_label(key),
            )
        for send in batch:

            async def record(send_id: int = send.id, **outcome: Any) -> None:
                await anyio.to_thread.run_sync(
                    functools.partial(state.record, self.store, send_id, **outcome)
                )

            try:
                if hook is None:  # removed from the settings since: counted, said above
                    await record(ok=False, error="webhook no longer configured")
                    self.failed += 1  # once recorded: never counted twice
                    continue
                url, body = alerts.shaped(hook, send.text, send.data)
                result = await alerts.send(
                    client,
                    hook,
                    url,
                    body,
                    attempts=send.attempts,
                    retries=self.settings.alerts.retries,
                    now=now(),
                )
                if result.ok:
                    self.sent += 1
                elif result.retry_at is None:
                    self.failed += 1
                    log.warning(
                        'push "%s" (%s %s #%d) to %s given up after %d attempts: %s',
                        push_headline(send.text),
                        send.subscriber,
                        send.kind,
                        send.push_id,
                        hook.label,
                        send.attempts + 1,
                        result.error,
                    )
                await record(ok=result.ok, error=result.error, retry_at=result.retry_at, now=now())
            except Exception as exc:
                log.exception(
                    "push %d to %s via %s failed (counted as an attempt)",
                    send.push_id,
                    send.subscriber,
                    hook.label if hook else alerts.key_label(key),
                )
                await alerts.record_failed_attempt(
                    record, exc, send.attempts, self.settings.alerts.retries, now(), now=now()
                )


def ended_periods(
    now: float, sessions: Iterable[str], morning: str, close: str
) -> list[periods.Period]:
    """The subscribed sessions' periods that ended at most CATCH_UP ago, oldest first (a
    day the exchanges do not trade has none)."""
    today = datetime.fromtimestamp(now, BEIJING).date()
    found = []
    for day in (today - timedelta(days=1), today):
        if not tradingdays.is_trading_day(day):
            continue
        for session in periods.TRADING_SESSIONS:
            if session not in sessions:
                continue
            p = periods.period(day, session, morning, close)
            if p.until <= now < p.until + CATCH_UP:
                found.append(p)
    return found


# -- what the last 24 hours would have sent ------------------------------------------------


@dataclass(frozen=True)
class Planned:
    at: int
    kind: str
    items: tuple[tuple[Article, list[str]], ...] = ()
    title: str = ""

    def as_dict(self, link: Callable[[Article], str]) -> dict[str, Any]:
        return {
            "time": datetime.fromtimestamp(self.at, BEIJING).isoformat(),
            "kind": self.kind,
            "title": self.title,
            "items": [
                {
                    "time": a.published_beijing.isoformat(),
                    "title": a.title,
                    "media": a.media,
                    "link": link(a),
                    "reasons": reasons,
                }
                for a, reasons in self.items
            ],
        }


def simulate(
    sub: Subscriber,
    arrivals: Sequence[tuple[Article, int]],
    since: float,
    until: float,
    morning: str = "08:00",
    close: str = "15:30",
    step: int = 300,
) -> list[Planned]:
    """The pushes ``sub`` would have had from these (article, story) arrivals, each at its
    publication time, between ``since`` and ``until``: the live rules (once per story,
    quiet hours, :func:`pace`, the briefings) ticking at every arrival and every ``step``
    seconds."""
    ordered = sorted(
        (a for a in arrivals if since <= a[0].published.timestamp() < until),
        key=lambda x: (x[0].published, x[0].key),
    )
    stamps = [a.published.timestamp() for a, _ in ordered]
    given: set[int] = set()
    wait: list[tuple[Article, list[str]]] = []
    sent: list[Planned] = []
    briefed: set[tuple[object, ...]] = set()
    ticks = sorted(
        {int(a.published.timestamp()) for a, _ in ordered}
        | set(range(int(since), int(until), step))
    )
    i = 0
    for now in ticks:
        while i < len(ordered) and ordered[i][0].published.timestamp() <= now:
            article, story = ordered[i]
            i += 1
            reasons = sub.reasons(article)
            if reasons and story not in given:
                given.add(story)
                wait.append((article, reasons))
        if sub.is_quiet(now):
            continue
        for p in ended_periods(now, sub.briefings, morning, close):
            told = bisect.bisect_left(stamps, p.until) > bisect.bisect_left(stamps, p.since)
            if told and (p.day, p.session) not in briefed and p.until >= since:
                briefed.add((p.day, p.session))
                sent.append(Planned(now, "briefing", title=p.title))
        recent = sum(1 for s in sent if s.kind in COUNTED and s.at > now - HOUR)
        alone, digest = pace(len(wait), recent, sub.max_per_hour)
        for item in wait[:alone]:
            sent.append(Planned(now, "item", (item,), item[0].title))
        if digest:
            rest = tuple(wait[alone:])
            sent.append(Planned(now, "digest", rest, f"{len(rest)} 条消息汇总"))
        if alone or digest:
            wait = []
    return sent
