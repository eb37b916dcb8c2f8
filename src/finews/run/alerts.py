"""Alerts: a new article that matches a watchlist is pushed once to every webhook.

- **Matching** (pure): keywords (and their aliases: 央行 also matches 中国人民银行) in the
  title, digest or text; stock codes among the article's tags; optionally every
  important article.
- **Once**: the store records (article, webhook) deliveries under a unique key, and a
  watermark of the articles already matched, both in the database — a restart neither
  re-sends nor misses anything.  On a store that has articles but no watermark yet, the
  watermark starts at the newest article: no flood of alerts for the back catalogue; nor
  for a source's first successful poll into the store (:mod:`finews.store.backlog`).
- **Content** (wave 10): the news said once and whole, the text cut where a reader can tell
  (:func:`news_lines`); log lines name the headline and the webhook, secrets out
  (:func:`hook_label`).
- **Delivery** runs apart from ingestion, with retries and capped backoff, each webhook
  in its own lane (:class:`Lanes`, wave 10): a webhook that hangs or fails — whatever the
  failure, an address httpx refuses included — delays only its own messages.

Webhook formats: ``generic`` (a JSON POST of the article), ``dingtalk``, ``feishu``,
``wecom`` (their bot message shapes) and ``telegram`` (``sendMessage``; the URL carries
the bot token and ``chat_id``).  A webhook is configured as ``format:url``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import html
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from finews.config import WEBHOOK_FORMATS, check_webhook
from finews.model import Article
from finews.process.headline import headline_of, shown_text
from finews.process.text import article_text, body_text, shortened
from finews.search.aliases import default_aliases, fold
from finews.store.fulltext import stock_codes

log = logging.getLogger(__name__)

FORMATS = WEBHOOK_FORMATS


@dataclass(frozen=True)
class Webhook:
    format: str
    url: str

    @classmethod
    def parse(cls, spec: str, setting: str = "alerts.webhooks") -> Webhook:
        """``FORMAT:URL``, checked by the settings' own rule (:func:`check_webhook`);
        ``setting`` names where it was given (``subscribers.desk.webhooks``)."""
        return cls(*check_webhook(spec, setting))

    @property
    def key(self) -> str:
        return f"{self.format}:{self.url}"

    @property
    def label(self) -> str:
        """The webhook as a log line names it (:func:`shown_url`): a log is read by more
        people than the settings file.  When the secret parts are left out, a short hash of
        the whole address tells two robots of one service apart (two DingTalk groups differ
        only in their ``access_token``)."""
        shown = shown_url(self.url)
        if shown == self.url:
            return f"{self.format} {shown}"
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:6]
        return f"{self.format} {shown} #{digest}"


@dataclass(frozen=True)
class Watchlist:
    keywords: tuple[str, ...] = ()
    stocks: tuple[str, ...] = ()
    important: bool = False

    @property
    def empty(self) -> bool:
        return not (self.keywords or self.stocks or self.important)

    def expanded_keywords(self) -> list[tuple[str, tuple[str, ...]]]:
        return self._expanded

    @functools.cached_property
    def _expanded(self) -> list[tuple[str, tuple[str, ...]]]:
        """Each keyword with its aliases, folded: once per watchlist, not per article."""
        aliases = default_aliases()
        return [(k, tuple(fold(a) for a in aliases.expand(k))) for k in self.keywords if k.strip()]

    def reasons(self, article: Article) -> list[str]:
        """Why the article matches (empty: it does not)."""
        found: list[str] = []
        text = fold(f"{article.title}\n{article_text(article)}")
        for keyword, names in self.expanded_keywords():
            if any(n and n in text for n in names):
                found.append(f"关键词 {keyword}")
        tagged = {s.code for s in article.stocks}
        for stock in self.stocks:
            if tagged & set(stock_codes(stock)):
                found.append(f"股票 {stock}")
        if self.important and article.important:
            found.append("重要")
        return found


TEXT_LIMIT = 300
"""Characters of an article's text a bot message carries (cut at a sentence end, else never
inside a number, and marked "…": :func:`finews.process.text.shortened`)."""


def news_lines(article: Article, limit: int = TEXT_LIMIT) -> list[str]:
    """The news of a message, said once (wave 10): ``【headline】`` then the text — without
    the 【headline】 or dateline it opens with — or the text alone when it opens with the
    headline (an untitled flash's headline is its first sentence).  The headline is the
    text's own complete 【…】 when the upstream's title is a cut of it (``…扩大至1`` for
    ``…扩大至1%``), as the 7×24 stream prints it (:mod:`finews.process.headline`)."""
    digest = html.unescape(article.digest).strip() or body_text(article.body_html).strip()
    title = headline_of(article.title, digest)
    show, text = shown_text(title, digest)
    lines = [f"【{title}】"] if show and title else []
    if text:
        lines.append(shortened(text, limit))
    return lines


def alert_text(article: Article, reasons: Iterable[str], link: str) -> str:
    """One article as a bot message's text: the news, then its time and outlet, its link
    and why it matched."""
    time = article.published_beijing.strftime("%m-%d %H:%M")
    return "\n".join(
        [
            *news_lines(article),
            f"{time} {article.media or article.source}",
            link,
            f"（{'、'.join(reasons)}）",
        ]
    )


def headline(article: Article, limit: int = 30) -> str:
    """An article's headline for a log line: its complete headline, at most ``limit``
    characters."""
    digest = html.unescape(article.digest).strip()
    title = headline_of(article.title, digest) or digest
    return shortened(" ".join(title.split()), limit)


def article_data(article: Article, reasons: list[str], link: str) -> dict[str, Any]:
    """One article as the ``generic`` webhook's JSON."""
    return {
        "source": article.source,
        "id": article.upstream_id,
        "title": article.title,
        "time": article.published_beijing.isoformat(),
        "media": article.media,
        "url": article.url,
        "link": link,
        "digest": article.digest,
        "stocks": [s.as_dict() for s in article.stocks],
        "important": article.important,
        "reasons": reasons,
    }


def shaped(hook: Webhook, text: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(URL, JSON body) of a message for one webhook: ``text`` in the bots' message shapes,
    ``data`` as it is for ``generic``.  Alerts and subscribers' pushes (issue #14) both
    send through here."""
    if hook.format == "dingtalk":
        return hook.url, {"msgtype": "text", "text": {"content": text}}
    if hook.format == "feishu":
        return hook.url, {"msg_type": "text", "content": {"text": text}}
    if hook.format == "wecom":
        return hook.url, {"msgtype": "text", "text": {"content": text}}
    if hook.format == "telegram":
        parts = urlsplit(hook.url)
        chat = parse_qs(parts.query).get("chat_id", [""])[0]
        url = hook.url.split("?", 1)[0]
        return url, {"chat_id": chat, "text": text, "disable_web_page_preview": True}
    return hook.url, data


def payload(
    hook: Webhook, article: Article, reasons: list[str], link: str
) -> tuple[str, dict[str, Any]]:
    """(URL, JSON body) of one alert for one webhook."""
    return shaped(hook, alert_text(article, reasons, link), article_data(article, reasons, link))


@dataclass(frozen=True)
class Sent:
    """What one delivery attempt came to: whether the receiver took it, why not, and when
    to try again (``None``: accepted, or given up after the configured retries)."""

    ok: bool
    error: str
    retry_at: float | None


async def send(
    client: httpx.AsyncClient,
    hook: Webhook,
    url: str,
    body: dict[str, Any],
    *,
    attempts: int,
    retries: int,
    now: float,
) -> Sent:
    """Post one message to a webhook and decide its retry; the alerter (#7) and the
    subscribers (#14) share it so that both back off the same way (5 s, doubling, ≤ 1 h)."""
    error = ""
    try:
        response = await client.post(url, json=body)
        ok = accepted(response, hook)
        if not ok:
            error = f"HTTP {response.status_code}: {response.text[:200]}"
    except Exception as exc:  # any failure is this delivery's alone (wave 10): a port of
        # 99999 raised an ExceptionGroup (OverflowError), no HTTPError, and stopped them all
        ok, error = False, cause(exc)
        if not isinstance(exc, httpx.HTTPError):
            log.warning("webhook %s: sending failed: %s", hook.label, error)
    return Sent(ok, error, None if ok else retry_after(attempts, retries, now))


def retry_after(attempts: int, retries: int, now: float) -> float | None:
    """When a message that failed its ``attempts + 1``-th attempt is tried again (5 s,
    doubling, ≤ 1 h), or None: given up after ``retries`` attempts."""
    if attempts + 1 < retries:
        return now + min(3600.0, 5.0 * 2.0**attempts)
    return None


async def record_failed_attempt(
    record: Callable[..., Awaitable[None]],
    exc: BaseException,
    attempts: int,
    retries: int,
    at: float,
    **extra: Any,
) -> None:
    """Record a send that raised as an attempt like any other: retried with backoff, given
    up after ``retries`` — not tried again every round for ever (wave 10's review); ``at``:
    the time of the attempt.  A failure to record it is left for the next round (the send
    is still due)."""
    with contextlib.suppress(Exception):
        await record(
            ok=False, error=cause(exc), retry_at=retry_after(attempts, retries, at), **extra
        )


def cause(exc: BaseException) -> str:
    """What went wrong, in one line: the first exception inside an exception group (httpx
    under anyio raised ``ExceptionGroup: unhandled errors in a TaskGroup``, which names
    neither the webhook nor the cause)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def accepted(response: httpx.Response, hook: Webhook) -> bool:
    """Whether the receiver took the message (bots answer 200 with an error code inside)."""
    if response.status_code >= 300:
        return False
    if hook.format in {"dingtalk", "wecom"}:
        try:
            return int(response.json().get("errcode", 0)) == 0
        except (ValueError, AttributeError):
            return True
    if hook.format == "feishu":
        try:
            body = response.json()
            return int(body.get("code", body.get("StatusCode", 0))) == 0
        except (ValueError, AttributeError):
            return True
    if hook.format == "telegram":
        try:
            return bool(response.json().get("ok", True))
        except (ValueError, AttributeError):
            return True
    return True


_PATH_SECRETS = (
    (re.compile(r"/bot[^/]+"), "/bot…"),  # Telegram: /bot<token>/sendMessage
    (re.compile(r"(/hook/)[^/]+"), r"\1…"),  # Feishu: /open-apis/bot/v2/hook/<token>
    # a long segment of letters and digits is a token whatever the service (Discord's
    # /api/webhooks/<id>/<token>, Slack's /services/T…/B…/<secret>)
    (re.compile(r"/(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{16,}(?=/|$)"), "/…"),
)


def shown_url(url: str) -> str:
    """A webhook's URL as a log line may show it: scheme, host and path — no query string
    (DingTalk's ``access_token``, WeCom's ``key``, Telegram's ``chat_id``), no user or
    password, and the tokens some bots put in the path masked."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # not .port: it raises on 99999, a URL to log
    path = parts.path
    for pattern, mask in _PATH_SECRETS:
        path = pattern.sub(mask, path)
    return f"{parts.scheme}://{host}{path}"


def key_label(key: str) -> str:
    """A stored webhook key (``FORMAT:URL``) as a log line may name it (:attr:`Webhook.label`)."""
    kind, _, url = key.partition(":")
    return Webhook(kind, url).label


def hook_label(hook: Webhook) -> str:
    """``dingtalk https://oapi.dingtalk.com/robot/send``: which of the webhooks, secrets out."""
    return hook.label


class Lanes:
    """One sending task per webhook at a time (wave 10).  Deliveries used to go out one
    after another in one loop: a webhook that hung for its whole timeout held up every
    other webhook's messages.  Now each round hands each idle webhook its due messages as
    its own task and does not wait for it; a busy webhook is skipped until its lane is
    free (:meth:`busy` is passed to the queue so that its messages do not crowd the
    others' out of a round)."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def busy(self) -> set[str]:
        """The webhooks (keys) whose lane is still sending."""
        for key in [k for k, t in self._tasks.items() if t.done()]:
            self._tasks.pop(key)
        return set(self._tasks)

    def start(self, key: str, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` as ``key``'s lane (the caller checked it is not busy)."""
        self._tasks[key] = asyncio.create_task(work, name="webhook lane")

    async def wait(self) -> None:
        """Until every lane started so far has finished (tests, one-shot delivery)."""
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self.busy()

    async def close(self) -> None:
        """Stop every lane (shutdown): a message cut off mid-send stays pending and goes
        out after the restart."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
