"""``finews check``: is this installation healthy?  One verdict a person or a monitor reads.

It checks what a user can break without finews noticing during ordinary commands: the
database file (SQLite's full ``integrity_check``, which reads every page — too slow for
every command, right for a check), its schema version, the built site against the store
(a site built from another database, pages the manifest lists that are gone, changes not
yet built), the settings (loaded and validated before any check runs), and whether each
enabled source and feed answers at all, and (wave 10) the webhooks: deliveries given up
in the last 24 hours are a warning per webhook.  Each finding is ``ok``, ``warn`` or
``fail``; the exit status is 0 without failures, 1 when the store, settings or site failed,
4 when only sources are unreachable (the status ``finews fetch`` uses for failed sources);
a warning does not change it.
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from finews.config import Settings

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Finding:
    area: str
    """``store``, ``settings``, ``site``, ``webhook`` or ``source``."""
    name: str
    state: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def check_store(url: str) -> tuple[list[Finding], int | None, set[str] | None]:
    """Integrity and schema of the database; its change counter and the site paths of its
    articles when it is readable."""
    from sqlalchemy import select
    from sqlalchemy.exc import DBAPIError

    from finews.errors import StoreError
    from finews.site.paths import article_path
    from finews.store import Store, schema
    from finews.store.engine import explain_db_error
    from finews.store.migrations import current_version

    try:
        store = Store.open(url, create=False)
    except StoreError as exc:
        return [Finding("store", "open", FAIL, str(exc))], None, None
    a = schema.articles.c
    with store:
        try:
            verdict = store.integrity_check()
            version = store.version()
            with store.engine.connect() as conn:
                rows = conn.execute(select(a.source, a.upstream_id, a.published_at)).all()
        except DBAPIError as exc:  # a damaged page surfaces as a driver error
            return [Finding("store", "integrity", FAIL, explain_db_error(exc))], None, None
    if verdict != "ok":
        detail = f"{' '.join(verdict.split())[:300]} (restore a backup)"
        return [Finding("store", "integrity", FAIL, detail)], None, None
    pages = {article_path(r[0], r[1], r[2]) for r in rows}
    return (
        [
            Finding("store", "integrity", OK, f"{len(rows)} articles in {url}"),
            Finding("store", "schema", OK, f"version {current_version()}"),
        ],
        version,
        pages,
    )


DAY = 24 * 3600


def check_webhooks(url: str, now: float) -> list[Finding]:
    """The alerts' deliveries and the subscribers' sends given up in the last 24 hours, a
    warning per webhook with the latest error (a ``finews run`` whose webhooks all fail is
    otherwise healthy to every other check).  Nothing when none failed or the store cannot
    be read (:func:`check_store` says why)."""
    from sqlalchemy.exc import DBAPIError

    from finews.errors import StoreError
    from finews.store import Store, alertqueue, subscriptions

    try:
        store = Store.open(url, create=False)
    except StoreError:
        return []
    with store:
        try:
            failed = [("alerts", f) for f in alertqueue.failed_since(store, now - DAY)]
            failed += [("subscribers", f) for f in subscriptions.failed_since(store, now - DAY)]
        except DBAPIError:
            return []
    return [
        Finding(
            "webhook",
            f"{kind} {_redacted(f.webhook)}",
            WARN,
            f"{f.count} deliveries failed in the last 24 h (given up after the retries); "
            f"last error: {f.last_error[:200] or '?'}",
        )
        for kind, f in failed
    ]


_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", "::", ""})


def check_push_links(settings: Settings) -> list[Finding]:
    """A warning when alerts or subscribers push to webhooks while the links in their
    messages lead to this machine only (``site.base_url`` left at 127.0.0.1): opened on a
    phone, every link of every push is dead, and nothing said so (wave 10's walk)."""
    from urllib.parse import urlsplit

    pushing = bool(settings.alerts.webhooks) or any(
        s.webhooks for s in settings.subscribers.values()
    )
    host = urlsplit(settings.site.base_url).hostname or ""
    if not pushing or (host not in _LOCAL_HOSTS and not host.startswith("127.")):
        return []
    return [
        Finding(
            "settings",
            "site.base_url",
            WARN,
            f"pushes link to {settings.site.base_url}, which only this machine can open: "
            "set site.base_url (FINEWS_SITE_BASE_URL) to the address your readers reach "
            "the site at",
        )
    ]


def _redacted(key: str) -> str:
    """A webhook's ``FORMAT:URL`` as the logs name it (no token)."""
    from finews.run.alerts import key_label

    return key_label(key)


def check_site(site: Path, store_version: int | None, articles: set[str] | None) -> list[Finding]:
    """The built site's manifest against the store it should have been built from: every
    article page it lists must be an article of this store (else the site was built from
    another database), every page it lists must exist."""
    from finews.site.manifest import MANIFEST_DIR

    manifest = site / MANIFEST_DIR / "manifest.sqlite3"
    if not manifest.is_file():
        return [Finding("site", "manifest", WARN, f"no site built in {site} (run `finews build`)")]
    try:
        conn = sqlite3.connect(f"file:{manifest}?mode=ro", uri=True)
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta"))
            pages = [row[0] for row in conn.execute("SELECT path FROM pages")]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [Finding("site", "manifest", FAIL, f"{manifest}: {exc} (run `finews build --full`)")]
    found: list[Finding] = []
    if articles is not None and store_version is not None:
        listed = {p for p in pages if p.startswith("a/")}
        foreign = listed - articles
        unbuilt = articles - listed
        watermark = int(meta.get("watermark", "0") or 0)
        if foreign:
            found.append(
                Finding(
                    "site",
                    "built from",
                    FAIL,
                    f"{len(foreign)} article pages of {site} are not articles of this store, "
                    f"e.g. {sorted(foreign)[0]}: built from another --db? "
                    "(run `finews build --full`)",
                )
            )
        elif unbuilt or watermark < store_version:
            found.append(
                Finding(
                    "site",
                    "up to date",
                    WARN,
                    f"{len(unbuilt)} articles not built yet (run `finews build`)",
                )
            )
        else:
            found.append(Finding("site", "up to date", OK, f"{len(listed)} article pages"))
    missing = [p for p in pages if not (site / p).exists()]
    found.append(
        Finding(
            "site",
            "pages",
            FAIL if missing else OK,
            f"{len(missing)} of {len(pages)} pages missing, e.g. {missing[0]} "
            "(run `finews build --full`)"
            if missing
            else f"{len(pages)} pages present",
        )
    )
    return found


def source_urls(settings: Settings, feeds: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(source key, a URL it fetches from) for every enabled source and feed."""
    bases = {
        "eastmoney.fast": settings.eastmoney.list_base,
        "eastmoney.column": settings.eastmoney.list_base,
        "cls.telegraph": settings.cls.base,
        "ths.flash": settings.ths.base,
        "sina.zhibo": settings.sina.base,
        "wscn.live": settings.wscn.base,
        "jin10.flash": settings.jin10.base,
    }
    chosen = [(key, bases[key] + "/") for key in settings.sources.enabled if key in bases]
    return chosen + (feeds if settings.sources.feeds else [])


def check_sources(settings: Settings, targets: list[tuple[str, str]]) -> list[Finding]:
    """Whether each source answers at all (any HTTP status): one request each, at once,
    no retries, within ``http.timeout``."""
    import httpx

    from finews.fetch.http import apply_override, offline, short_url

    unresolved: list[str] = []

    def probe(target: tuple[str, str]) -> Finding:
        key, url = target
        real = apply_override(url, settings.upstream_override)
        try:
            with httpx.Client(timeout=settings.http.timeout, follow_redirects=False) as client:
                response = client.get(real, headers={"User-Agent": settings.http.user_agent})
        except httpx.HTTPError as exc:
            if offline(exc):
                unresolved.append(key)
            return Finding("source", key, FAIL, f"{short_url(real)}: {type(exc).__name__}: {exc}")
        return Finding(
            "source", key, OK, f"{short_url(real)} answers (HTTP {response.status_code})"
        )

    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
        found = list(pool.map(probe, targets))
    if len(unresolved) == len(found):
        # every one a name that does not resolve or no route: the machine, not the sources
        # (wave 13's walk: seven failures, said as "some sources unreachable" and one of them)
        found.insert(0, Finding("source", "network", FAIL, OFFLINE))
    return found


OFFLINE = (
    "no source could be reached: this machine looks offline (no host name resolves or no "
    "route); check the network, a proxy or upstream_override"
)


def exit_status(findings: list[Finding]) -> int:
    failed = {f.area for f in findings if f.state == FAIL}
    if failed - {"source"}:
        return 1
    return 4 if failed else 0
