"""Configuration in one place: a TOML file plus ``FINEWS_*`` variables.

Every setting is declared once, as a field of the frozen dataclasses below,
with its type, default and help text.  The loader reads the TOML file
(``FINEWS_CONFIG``, else ``$XDG_CONFIG_HOME/finews/config.toml`` if present),
then lets an environment variable named ``FINEWS_<SECTION>_<KEY>``
(``FINEWS_HTTP_TIMEOUT``) override each value, then validates.  Short aliases
exist for the settings users reach for most: ``FINEWS_DB`` and
``FINEWS_UPSTREAM_OVERRIDE``.  Nothing else in finews reads the environment, but for
``FINEWS_CONFIG`` (here) and ``FINEWS_CACHE`` (:data:`OTHER_VARIABLES`): any other
``FINEWS_*`` variable is a typo, which the command line warns about
(:func:`unknown_variables`) — as an unknown key in the file is an error.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from finews.errors import ConfigError

DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def _doc(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = field(default=10.0, metadata=_doc("seconds per request (connect, read)"))
    max_bytes: int = field(
        default=8 * 1024 * 1024, metadata=_doc("largest response body accepted, in bytes")
    )
    retries: int = field(default=3, metadata=_doc("retries on timeouts, resets, 5xx and 429"))
    backoff: float = field(default=1.0, metadata=_doc("first retry delay in seconds, doubled"))
    max_backoff: float = field(default=60.0, metadata=_doc("cap on one retry delay"))
    host_spacing: float = field(
        default=1.0, metadata=_doc("minimum seconds between two requests to one host")
    )
    concurrency: int = field(default=2, metadata=_doc("requests in flight at once"))
    user_agent: str = field(default=DESKTOP_UA, metadata=_doc("User-Agent header"))
    impersonate: str = field(
        default="",
        metadata=_doc(
            "browser TLS fingerprint to present (e.g. chrome) through curl_cffi: "
            "pip install 'finews[impersonate]'; empty = plain httpx"
        ),
    )
    impersonate_sources: tuple[str, ...] = field(
        default=(),
        metadata=_doc("source keys that use the fingerprint (empty: every source)"),
    )


@dataclass(frozen=True)
class ShapeSetting:
    """A request shape added in the settings (``[[sources.shapes]]``; issue #15)."""

    source: str
    name: str
    base: str
    path: str = ""
    """empty: the source's usual path"""
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    first: bool = False
    """tried before the built-in shapes (else after them)"""
    paging: bool = True


@dataclass(frozen=True)
class EastmoneySettings:
    fast_columns: tuple[int, ...] = field(
        default=(102,), metadata=_doc("7x24 fastColumn ids polled by eastmoney.fast")
    )
    news_columns: tuple[int, ...] = field(
        default=(344, 350, 353, 349, 407, 408),
        metadata=_doc("getNewsByColumns column ids polled by eastmoney.column"),
    )
    page_size: int = field(default=50, metadata=_doc("items asked for per list request"))
    fulltext: bool = field(default=True, metadata=_doc("fetch each new item's full text"))
    fulltext_retries: int = field(
        default=5, metadata=_doc("polling rounds that retry a missing full text")
    )
    list_base: str = field(
        default="https://np-listapi.eastmoney.com", metadata=_doc("list API base URL")
    )
    article_base: str = field(
        default="https://newsinfo.eastmoney.com", metadata=_doc("article JSON API base URL")
    )
    page_base: str = field(
        default="https://finance.eastmoney.com", metadata=_doc("article HTML page base URL")
    )


@dataclass(frozen=True)
class SourcesSettings:
    enabled: tuple[str, ...] = field(
        default=(
            "eastmoney.fast",
            "eastmoney.column",
            "cls.telegraph",
            "ths.flash",
            "sina.zhibo",
            "wscn.live",
            "jin10.flash",
        ),
        metadata=_doc("source keys polled by `finews fetch` / `finews run` with no arguments"),
    )
    feeds: bool = field(
        default=True, metadata=_doc("also poll the RSS/Atom/JSON feeds added with `finews feeds`")
    )
    feeds_private: bool = field(
        default=False,
        metadata=_doc("let user feeds reach private, loopback and link-local addresses"),
    )
    shapes: tuple[ShapeSetting, ...] = field(
        default=(),
        metadata=_doc(
            "request shapes of your own ([[sources.shapes]] tables: source, name, base, "
            "path, params, headers, first); FINEWS_SOURCES_SHAPES takes them as JSON"
        ),
    )


@dataclass(frozen=True)
class ClsSettings:
    base: str = field(default="https://www.cls.cn", metadata=_doc("财联社 API base URL"))
    app: str = field(default="CailianpressWeb", metadata=_doc("the signed `app` parameter"))
    sv: str = field(default="8.7.9", metadata=_doc("web version `sv` (changes with the site)"))
    category: str = field(default="", metadata=_doc("telegraph category: empty = all, red = 加红"))
    categories: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "categories polled together: red, announcement, watch, hk_us, fund, remind "
            "(empty: cls.category alone)"
        ),
    )
    page_size: int = field(default=20, metadata=_doc("items asked for per request"))


@dataclass(frozen=True)
class ThsSettings:
    base: str = field(default="https://news.10jqka.com.cn", metadata=_doc("同花顺 7×24 base URL"))
    page_size: int = field(default=50, metadata=_doc("items asked for per request"))


@dataclass(frozen=True)
class SinaSettings:
    base: str = field(default="https://zhibo.sina.com.cn", metadata=_doc("新浪 7×24 base URL"))
    zhibo_id: int = field(default=152, metadata=_doc("channel: 152 财经, 151 政经, 155 市场 …"))
    page_size: int = field(default=20, metadata=_doc("items asked for per request"))


@dataclass(frozen=True)
class WscnSettings:
    base: str = field(
        default="https://api-one-wscn.awtmt.com", metadata=_doc("华尔街见闻 API base URL")
    )
    channel: str = field(default="global-channel", metadata=_doc("live channel"))
    channels: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "channels polled together: global-channel, a-stock-channel, us-stock-channel, "
            "hk-stock-channel, forex-channel, commodity-channel (empty: wscn.channel alone)"
        ),
    )
    page_size: int = field(default=50, metadata=_doc("items asked for per request (≤ 100)"))


@dataclass(frozen=True)
class Jin10Settings:
    base: str = field(
        default="https://flash-api.jin10.com", metadata=_doc("金十 flash API base URL")
    )
    app_id: str = field(
        default="bVBF4FyRTn5NJF5n", metadata=_doc("x-app-id header (taken from jin10.com's JS)")
    )
    version: str = field(default="1.0.0", metadata=_doc("x-version header"))


@dataclass(frozen=True)
class JekyllSettings:
    site_url: str = field(
        default="//finews.withounder.com", metadata=_doc("site root used in back-links")
    )
    share_link: str = field(
        default="http://finews.zning.xyz/html_News/NewsShare.html?infoCode={id}",
        metadata=_doc("share-link template of media-news posts; {id} is the upstream id"),
    )
    ascii_slugs: bool = field(
        default=False,
        metadata=_doc("clean ASCII category slugs (财联社 → cai-lian-she), not the original ones"),
    )


@dataclass(frozen=True)
class SiteSettings:
    title: str = field(default="金融消息", metadata=_doc("site title"))
    base_url: str = field(
        default="http://127.0.0.1:8000/",
        metadata=_doc(
            "absolute URL of the site root, used in feeds and sitemaps only; left at this "
            "default, `serve`, `run` and `demo` use the address they serve on"
        ),
    )
    out: str = field(default="", metadata=_doc("output folder (default: <data_dir>/site)"))
    page_size: int = field(default=50, metadata=_doc("articles per listing page"))
    feed_size: int = field(default=50, metadata=_doc("entries per feed"))
    templates: str = field(
        default="", metadata=_doc("folder of templates that override the packaged ones")
    )
    search_form: bool = field(
        default=True,
        metadata=_doc(
            "a search box in the page header: full-text search on `finews serve`; on a "
            "static host it leads to search/index.html, which filters the newest messages "
            "or the stock index"
        ),
    )


@dataclass(frozen=True)
class ServeSettings:
    host: str = field(
        default="127.0.0.1", metadata=_doc("address `finews serve` binds to (loopback only)")
    )
    port: int = field(default=8000, metadata=_doc("port `finews serve` listens on"))
    root_path: str = field(
        default="", metadata=_doc("path prefix when served behind a proxy, e.g. /news")
    )
    poll_interval: float = field(
        default=5.0,
        metadata=_doc(
            "seconds between looks for new articles when no commit notification comes "
            "(live updates are pushed at commit; this is the fallback)"
        ),
    )


@dataclass(frozen=True)
class RunSettings:
    interval: float = field(
        default=60.0, metadata=_doc("seconds before the first retry of a failed poll (doubled)")
    )
    min_interval: float = field(
        default=5.0, metadata=_doc("no source is polled more often than this (seconds)")
    )
    max_interval: float = field(
        default=600.0, metadata=_doc("no source waits longer than this between polls")
    )
    busy_interval: float = field(
        default=5.0,
        metadata=_doc(
            "seconds between polls of a source in market hours and right after a burst (its floor)"
        ),
    )
    day_interval: float = field(
        default=15.0,
        metadata=_doc("longest interval on weekdays 07:00-23:00 Beijing outside market hours"),
    )
    night_interval: float = field(
        default=60.0, metadata=_doc("longest interval at night and at weekends")
    )
    source_intervals: tuple[str, ...] = field(
        default=("eastmoney.column=60/120/600", "feed.*=60/300/900"),
        metadata=_doc("per source SOURCE=BUSY/DAY/NIGHT seconds (feed.* = every user feed)"),
    )
    global_sources: tuple[str, ...] = field(
        default=("wscn.live", "jin10.flash"),
        metadata=_doc("sources also busy in the US session (09:30-16:00 New York)"),
    )
    burst_items: int = field(
        default=3, metadata=_doc("new items in one poll that make a burst (polled at busy pace)")
    )
    burst_window: float = field(
        default=300.0, metadata=_doc("seconds a burst keeps its source at the busy interval")
    )
    light_page: int = field(
        default=10,
        metadata=_doc(
            "items asked for per list request by `finews run` and the workers (the full page "
            "size when a gap shows); 0: always the full page"
        ),
    )
    pace: str = field(
        default="market",
        metadata=_doc("market: the hours decide; busy, day or night: always that pace"),
    )
    max_backoff: float = field(
        default=900.0, metadata=_doc("longest wait after failed polls (it never gives up)")
    )
    jitter: float = field(
        default=0.1, metadata=_doc("up to this fraction added to every delay (never taken off)")
    )
    stale_after: float = field(
        default=3600.0,
        metadata=_doc("a source with nothing new for this long (seconds) is reported stale"),
    )
    stale_clock: str = field(
        default="wall",
        metadata=_doc(
            "what 'nothing new for this long' is measured against: `wall` (the clock) or "
            "`newest` (the newest item of any source: a replay such as `finews demo`)"
        ),
    )
    workers: int = field(default=4, metadata=_doc("sources polled at the same time"))
    serve: bool = field(default=True, metadata=_doc("serve the web app in `finews run`"))
    build: bool = field(default=True, metadata=_doc("rebuild the site after new articles"))
    build_delay: float = field(
        default=2.0, metadata=_doc("seconds to gather new articles before a site build")
    )


@dataclass(frozen=True)
class WorkerSettings:
    redis: str = field(
        default="redis://127.0.0.1:6379/0",
        metadata=_doc("Redis URL: the task broker and the shared per-site request spacing"),
    )
    concurrency: int = field(default=4, metadata=_doc("tasks one `finews worker` runs at once"))
    poll_every: float = field(
        default=60.0,
        metadata=_doc(
            "no longer used: `finews scheduler` follows the market schedule of the [run] "
            "settings (#17); still read so that older files load"
        ),
    )
    visibility_timeout: float = field(
        default=600.0,
        metadata=_doc("seconds before a task taken by a worker that died is handed out again"),
    )
    egress: str = field(
        default="",
        metadata=_doc(
            "name of this worker's outgoing address: workers with the same name share "
            "per-site spacing (upstreams limit per address)"
        ),
    )


@dataclass(frozen=True)
class AlertSettings:
    keywords: tuple[str, ...] = field(
        default=(), metadata=_doc("words (and their aliases) that trigger an alert")
    )
    stocks: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "stocks (codes or names: 贵州茅台 is 600519.SH) whose tagged articles trigger an "
            "alert; an unknown one is an error"
        ),
    )
    important: bool = field(default=False, metadata=_doc("alert on every important article"))
    webhooks: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "FORMAT:URL, FORMAT = generic, dingtalk, feishu, wecom or telegram; the URL "
            "http(s) with a host and a port 1..65535 (checked when the settings are read)"
        ),
    )
    retries: int = field(default=8, metadata=_doc("attempts per alert before giving up"))
    timeout: float = field(default=10.0, metadata=_doc("seconds per webhook request"))
    per_story: bool = field(
        default=True,
        metadata=_doc("one alert per story and webhook (false: one per report, reprints too)"),
    )


@dataclass(frozen=True)
class SubscriberSettings:
    """One subscriber: a ``[subscribers.NAME]`` table of the settings file."""

    keywords: tuple[str, ...] = field(
        default=(), metadata=_doc("words that match (with search's aliases and synonyms)")
    )
    stocks: tuple[str, ...] = field(
        default=(),
        metadata=_doc("stocks (codes or names) whose tagged articles match; unknown: an error"),
    )
    important: bool = field(default=False, metadata=_doc("every important article matches"))
    important_only: bool = field(
        default=False, metadata=_doc("only important articles match (with the above)")
    )
    sources: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "only articles of these sources: ids such as cls.telegraph, jekyll or "
            "feed.KEY (empty: every source; an unknown id is an error)"
        ),
    )
    webhooks: tuple[str, ...] = field(default=(), metadata=_doc("FORMAT:URL, as alerts.webhooks"))
    quiet_hours: str = field(
        default="",
        metadata=_doc("HH:MM-HH:MM Beijing time with no pushes (held, sent after); empty: none"),
    )
    max_per_hour: int = field(
        default=0,
        metadata=_doc("pushes per hour at most; the rest go in one digest (0: no cap)"),
    )
    briefings: tuple[str, ...] = field(
        default=("morning", "close"),
        metadata=_doc("briefings pushed when their period ends (morning, close; empty: none)"),
    )


@dataclass(frozen=True)
class BriefingSettings:
    morning: str = field(
        default="08:00", metadata=_doc("end of the morning briefing's period (Beijing time, HH:MM)")
    )
    close: str = field(
        default="15:30", metadata=_doc("end of the close briefing's period (Beijing time, HH:MM)")
    )
    per_group: int = field(
        default=5, metadata=_doc("top stories per group (宏观, 市场, 公司, 海外)")
    )
    important: int = field(default=30, metadata=_doc("most important items listed"))
    stocks: int = field(default=10, metadata=_doc("most mentioned stocks listed"))
    summarizer: str = field(
        default="",
        metadata=_doc(
            "a command that reads the briefing's Markdown on stdin and prints a summary "
            "(empty: none; never run unless set)"
        ),
    )
    summarizer_timeout: float = field(
        default=120.0, metadata=_doc("seconds the summarizer may take before it is given up")
    )


@dataclass(frozen=True)
class McpSettings:
    host: str = field(
        default="127.0.0.1",
        metadata=_doc("address `finews mcp --http` binds to (127.0.0.1: this machine only)"),
    )
    port: int = field(default=8765, metadata=_doc("port `finews mcp --http` listens on"))
    path: str = field(default="/mcp", metadata=_doc("the Streamable HTTP endpoint's path"))
    token: str = field(
        default="",
        metadata=_doc(
            "bearer token every HTTP request must carry (empty: none asked; stdio never asks)"
        ),
    )
    max_results: int = field(
        default=50, metadata=_doc("most items one tool call returns (the rest: truncated)")
    )
    max_chars: int = field(
        default=20000, metadata=_doc("most characters of one article's text get_article returns")
    )


@dataclass(frozen=True)
class Settings:
    db: str = field(default="", metadata=_doc("database: a file path or an SQLAlchemy URL"))
    data_dir: str = field(default="", metadata=_doc("folder for the database and the site"))
    upstream_override: Mapping[str, str] = field(
        default_factory=dict,
        metadata=_doc("host=base URL pairs that redirect requests for a host"),
    )
    http: HttpSettings = field(default_factory=HttpSettings)
    sources: SourcesSettings = field(default_factory=SourcesSettings)
    eastmoney: EastmoneySettings = field(default_factory=EastmoneySettings)
    cls: ClsSettings = field(default_factory=ClsSettings)
    ths: ThsSettings = field(default_factory=ThsSettings)
    sina: SinaSettings = field(default_factory=SinaSettings)
    wscn: WscnSettings = field(default_factory=WscnSettings)
    jin10: Jin10Settings = field(default_factory=Jin10Settings)
    jekyll: JekyllSettings = field(default_factory=JekyllSettings)
    site: SiteSettings = field(default_factory=SiteSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    run: RunSettings = field(default_factory=RunSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    mcp: McpSettings = field(default_factory=McpSettings)
    briefing: BriefingSettings = field(default_factory=BriefingSettings)
    subscribers: Mapping[str, SubscriberSettings] = field(
        default_factory=dict,
        metadata=_doc("named subscribers: [subscribers.NAME] tables (settings file only)"),
    )
    worker: WorkerSettings = field(default_factory=WorkerSettings)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def site_path(self) -> Path:
        """Where the static site is built and served from by default."""
        return Path(self.site.out or self.data_path / "site")

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL of the store (a bare path means SQLite)."""
        target = self.db or str(self.data_path / "finews.db")
        if "://" in target:
            return target
        return "sqlite:///" + str(Path(target).expanduser().resolve())


ALIASES = {"FINEWS_DB": "db", "FINEWS_UPSTREAM_OVERRIDE": "upstream_override"}

OTHER_VARIABLES = {
    "FINEWS_CONFIG": "the settings file (as --config)",
    "FINEWS_CACHE": "the cache folder of the search dictionary (finews.search.quickseg)",
}
"""``FINEWS_*`` variables that are read but are not settings: never "unknown"."""


def _nearest(word: str, candidates: Iterable[str], prefix: str = "") -> list[str]:
    """The candidates a typo most likely meant: difflib's closest (ratio 0.75 or more),
    up to two and only those about as close as the best.  ``prefix`` (``FINEWS_``), which
    every candidate shares, is left out of the comparison: it would make any two names
    look alike."""
    import difflib

    def ratio(candidate: str) -> float:
        return difflib.SequenceMatcher(
            None, word.removeprefix(prefix), candidate.removeprefix(prefix)
        ).ratio()

    pool = list(candidates)
    scored = sorted(((ratio(c), c) for c in pool), key=lambda rc: (-rc[0], rc[1]))
    close = [(r, c) for r, c in scored if r >= 0.75]
    if close:
        return [c for r, c in close[:2] if r >= close[0][0] - 0.05]
    # a key without its section (PORT, meant as SERVE_PORT): the settings of that name, if few
    tail = "_" + word.removeprefix(prefix)
    named = sorted(c for c in pool if c.endswith(tail))
    return named if len(named) <= 2 else []


def setting_variables() -> set[str]:
    """Every ``FINEWS_*`` variable finews reads: one per setting, the aliases and the few
    that are not settings (:data:`OTHER_VARIABLES`)."""
    names = {name for _, name, _, _ in describe_settings() if name.startswith("FINEWS_")}
    return names | set(ALIASES) | set(OTHER_VARIABLES)


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """A warning for each ``FINEWS_*`` variable that no setting reads (a typo such as
    ``FINEWS_SITE_TITEL`` would otherwise be ignored without a word), naming the nearest
    known ones.  Not an error: an older or newer finews's variable left in a shell or a
    service file must not stop this one."""
    known = setting_variables()
    warnings = []
    for name in sorted(env):
        if not name.startswith("FINEWS_") or name in known:
            continue
        near = _nearest(name, known, "FINEWS_")
        hint = (
            f"did you mean {' or '.join(near)}?"
            if near
            else "ignored; `finews config --markdown` lists the settings"
        )
        warnings.append(f"{name} is not a finews setting ({hint})")
    return warnings


def default_config_path(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "finews" / "config.toml"


def default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "finews"


def check_port(value: int, name: str = "port") -> int:
    """A TCP port a server can listen on; 0 lets the system choose (tests, the demo).
    The same rule for the settings file and ``--port``: 70000 is not silently 4464."""
    if not 0 <= value <= 65535:
        raise ConfigError(f"{name} {value} is out of range (give 1..65535, or 0 for any free port)")
    return value


_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$"
)


def check_host(value: str, name: str = "host") -> str:
    """An address to bind: an IPv4 or IPv6 literal, or a host name.  Something shaped like
    an IPv4 address must be one (999.1.1.1 is a typo, not a name to look up)."""
    text = value.strip()
    looks_numeric = bool(text) and all(c.isdigit() or c == "." for c in text)
    if ":" in text or looks_numeric:
        try:
            ipaddress.ip_address(text.strip("[]"))
        except ValueError:
            raise ConfigError(
                f"{name} {value!r} is not an IP address (e.g. 127.0.0.1, 0.0.0.0 or ::1)"
            ) from None
        return text.strip("[]")
    if not _HOSTNAME.match(text):
        raise ConfigError(f"{name} {value!r} is not a host name or address (e.g. 127.0.0.1)")
    return text


def check_clock(value: str, name: str) -> tuple[int, int]:
    """A time of day, ``HH:MM`` (24 hours): the hour and the minute."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ConfigError(f"{name} {value!r} is not a time of day as HH:MM (e.g. 08:00)")
    return int(match.group(1)), int(match.group(2))


def quiet_hours(value: str, name: str) -> tuple[int, int]:
    """``22:30-07:00`` → (start, end) in minutes of the day; the span may cross midnight."""
    start, sep, end = value.partition("-")
    if not sep:
        raise ConfigError(f"{name} {value!r} is not HH:MM-HH:MM (e.g. 22:00-07:00)")
    h1, m1 = check_clock(start, name)
    h2, m2 = check_clock(end, name)
    if (h1, m1) == (h2, m2):
        raise ConfigError(f"{name} {value!r} is empty: start and end are the same")
    return h1 * 60 + m1, h2 * 60 + m2


def check_url(value: str, name: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """An absolute URL with one of ``schemes`` and a host: an ``ftp://`` base is refused
    where it is given, not when the first request fails naming another URL."""
    parsed = urlsplit(value)
    if parsed.scheme.lower() not in schemes or not parsed.hostname:
        wanted = "http(s)" if schemes == ("http", "https") else "/".join(schemes)
        raise ConfigError(f"{name} {value!r} is not an {wanted} URL with a host")
    try:
        parsed.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise ConfigError(f"{name} {value!r} has a port out of range (1..65535)") from None
    return value


WEBHOOK_FORMATS = ("generic", "dingtalk", "feishu", "wecom", "telegram")


def check_webhook(spec: str, name: str) -> tuple[str, str]:
    """``FORMAT:URL`` → (format, URL), or one error naming the setting (wave 10).  Here,
    in the settings' validation, so that every command refuses what ``finews run`` would
    refuse (``finews check`` said "healthy" for a webhook ``run`` would not start with),
    and an address httpx cannot send to (a port of 99999) never reaches the sender, where
    it stopped every webhook's alerts."""
    kind, sep, url = spec.strip().partition(":")
    if not sep or kind not in WEBHOOK_FORMATS:
        raise ConfigError(
            f"{name}: {spec!r} is not FORMAT:URL with FORMAT one of {', '.join(WEBHOOK_FORMATS)}"
        )
    parsed = urlsplit(url)
    if parsed.scheme.lower() not in {"http", "https"} or not url.lower().startswith(
        ("http://", "https://")
    ):
        raise ConfigError(f"{name}: {spec!r}: the URL must start with http:// or https://")
    if not parsed.hostname:
        raise ConfigError(f"{name}: {spec!r}: the URL has no host")
    if any(ch.isspace() for ch in url):
        raise ConfigError(f"{name}: {spec!r}: the URL has a space in it")
    try:
        port = parsed.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(f"{name}: {spec!r}: the port must be a number 1..65535")
    import httpx  # what the sender will make of it

    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"{name}: {spec!r}: {exc}") from None
    return kind, url


def parse_override(text: str) -> dict[str, str]:
    """``host=http://base,host2=http://base2`` → a mapping; bases lose a trailing ``/``."""
    result: dict[str, str] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        host, sep, base = part.partition("=")
        if not sep or not host.strip() or "://" not in base:
            raise ConfigError(f"upstream override {part!r} is not host=scheme://base")
        check_url(base.strip(), f"upstream override for {host.strip()}")
        result[host.strip().lower()] = base.strip().rstrip("/")
    return result


CLS_CATEGORIES = ("red", "announcement", "watch", "hk_us", "fund", "remind")


def parse_shapes(value: Any, name: str = "sources.shapes") -> tuple[ShapeSetting, ...]:
    """``[[sources.shapes]]`` tables (or the same as a JSON list in an environment
    variable) → shapes, each checked: a typo is one line naming the table, not a request
    that fails later."""
    import json

    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError as exc:
            raise ConfigError(f"setting {name}: not a JSON list of tables ({exc.msg})") from None
    if not isinstance(value, list):
        raise ConfigError(f"setting {name}: give a list of tables ([[sources.shapes]])")
    shapes: list[ShapeSetting] = []
    for position, table in enumerate(value, 1):
        where = f"{name} #{position}"
        if not isinstance(table, Mapping):
            raise ConfigError(f"setting {where}: not a table")
        known = {f.name for f in fields(ShapeSetting)}
        unknown = set(table) - known
        if unknown:
            near = sorted({n for u in unknown for n in _nearest(u, known)})
            hint = f" (did you mean {' or '.join(near)}?)" if near else ""
            raise ConfigError(f"setting {where}: unknown key(s) {', '.join(sorted(unknown))}{hint}")
        for key in ("source", "name", "base"):
            if not isinstance(table.get(key), str) or not table[key].strip():
                raise ConfigError(f"setting {where}: {key} is required (text)")
        for key in ("params", "headers"):
            sub = table.get(key, {})
            if not isinstance(sub, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str | int | float) for k, v in sub.items()
            ):
                raise ConfigError(f"setting {where}: {key} must be a table of text values")
        check_url(table["base"], f"{where} base")
        shapes.append(
            ShapeSetting(
                source=table["source"].strip(),
                name=table["name"].strip(),
                base=table["base"].strip().rstrip("/"),
                path=str(table.get("path") or ""),
                params={k: str(v) for k, v in table.get("params", {}).items()},
                headers={k: str(v) for k, v in table.get("headers", {}).items()},
                first=_coerce(table.get("first", False), bool, f"{where} first"),
                paging=_coerce(table.get("paging", True), bool, f"{where} paging"),
            )
        )
    return tuple(shapes)


_KIND_WORDS = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}


def _kind_words(kind: Any) -> str:
    """How a type reads in a message: 'a whole number', not ``<class 'int'>``."""
    if kind in _KIND_WORDS:
        return _KIND_WORDS[kind]
    if typing.get_origin(kind) is tuple:
        plural = {int: "whole numbers", float: "numbers", str: "words"}
        return "a list of " + plural.get(typing.get_args(kind)[0], "values")
    return "host=URL pairs"


def _coerce(value: Any, kind: Any, name: str) -> Any:
    """Turn a TOML or environment value into the declared type, or say why not."""
    origin = typing.get_origin(kind)
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(value)
        if kind is int:
            # 1.5 is not silently 1 (wave 10): a float is taken only when it is whole
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if kind is float:
            return float(value)
        if kind is str:
            if not isinstance(value, str | int | float):
                raise ValueError(value)
            return str(value)
        if origin is tuple and typing.get_args(kind)[0] is ShapeSetting:
            return parse_shapes(value, name)
        if origin is tuple:
            (item_kind, _) = typing.get_args(kind)
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(
                _coerce(i.strip() if isinstance(i, str) else i, item_kind, name)
                for i in items
                if not (isinstance(i, str) and not i.strip())
            )
        if origin is Mapping or kind is Mapping:
            if isinstance(value, str):
                return parse_override(value)
            if isinstance(value, Mapping):
                return parse_override(",".join(f"{k}={v}" for k, v in value.items()))
            raise ValueError(value)
    except ConfigError:
        raise
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name}: {value!r} is not {_kind_words(kind)}") from None
    raise ConfigError(f"setting {name}: unsupported type {kind}")


def _build(
    cls: type[Any], table: Mapping[str, Any], env: Mapping[str, str], prefix: str, origin: str = ""
) -> Any:
    """``origin``: where ``table`` was read (``config file PATH: ``), for its mistakes."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = set(table) - known
    if unknown:
        names = ", ".join(sorted(prefix + u for u in unknown))
        near = sorted({prefix + n for u in unknown for n in _nearest(u, known)})
        hint = f" (did you mean {' or '.join(near)}?)" if near else ""
        raise ConfigError(f"{origin}unknown setting(s) {names}{hint}")
    values: dict[str, Any] = {}
    for f in fields(cls):
        kind = hints[f.name]
        dotted = prefix + f.name
        if is_dataclass(kind):
            sub = table.get(f.name, {})
            if not isinstance(sub, Mapping):
                raise ConfigError(f"setting {dotted} must be a table")
            values[f.name] = _build(kind, sub, env, dotted + ".", origin)  # type: ignore[arg-type]
            continue
        item = _table_of(kind)
        if item is not None:  # named tables: [subscribers.alice], from the file only
            named = table.get(f.name, {})
            if not isinstance(named, Mapping) or not all(
                isinstance(v, Mapping) for v in named.values()
            ):
                raise ConfigError(f"setting {dotted} must be tables: [{dotted}.NAME]")
            for name in named:
                if not _NAME.fullmatch(name):
                    raise ConfigError(
                        f"setting {dotted}.{name}: a name is letters, digits, - and _"
                    )
            values[f.name] = {
                name: _build(item, sub, {}, f"{dotted}.{name}.", origin)
                for name, sub in named.items()
            }
            continue
        env_name = "FINEWS_" + dotted.replace(".", "_").upper()
        if env_name in env:
            values[f.name] = _coerce(env[env_name], kind, dotted)
        elif f.name in table:
            values[f.name] = _coerce(table[f.name], kind, dotted)
    return cls(**values)


_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _table_of(kind: Any) -> type[Any] | None:
    """The dataclass of a ``Mapping[str, <dataclass>]`` setting (named tables), else None."""
    if typing.get_origin(kind) is not Mapping:
        return None
    value = typing.get_args(kind)[1]
    return value if is_dataclass(value) else None  # type: ignore[return-value]


def load_settings(
    config_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Read the settings: file, then environment, then explicit overrides (CLI flags)."""
    env = dict(os.environ if env is None else env)
    for alias, key in ALIASES.items():
        if alias in env:
            env["FINEWS_" + key.upper()] = env[alias]
    path: Path | None
    if config_file is not None:
        path = Path(config_file)
    elif env.get("FINEWS_CONFIG"):
        path = Path(env["FINEWS_CONFIG"])
    else:
        path = default_config_path(env)
        if not path.exists():
            path = None
    table: dict[str, Any] = {}
    if path is not None:
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"config file {path} does not exist (check --config / FINEWS_CONFIG)"
            ) from None
        except IsADirectoryError:
            raise ConfigError(
                f"config file {path} is a folder (give the TOML file, e.g. {path}/config.toml)"
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"cannot read config file {path}: {exc.strerror or exc} (check its permissions)"
            ) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path}: {exc}") from None
    origin = f"config file {path}: " if path is not None else ""
    settings: Settings = _build(Settings, table, env, "", origin)
    if not settings.data_dir:
        settings = replace(settings, data_dir=str(default_data_dir(env)))
    clean = {k: v for k, v in overrides.items() if v is not None}
    if clean:
        settings = replace(settings, **clean)
    _validate(settings)
    return settings


def parse_source_interval(spec: str) -> tuple[str, list[float]]:
    """``"eastmoney.column=60/120/600"`` → ("eastmoney.column", [60, 120, 600]): one to
    three positive numbers of seconds (busy, day, night).  Raises ValueError."""
    key, sep, values = spec.partition("=")
    parts = [p.strip() for p in values.split("/")] if sep else []
    if not key.strip() or not 1 <= len(parts) <= 3 or not all(parts):
        raise ValueError(f"{spec!r} is not SOURCE=BUSY[/DAY[/NIGHT]] (seconds)")
    numbers = [float(p) for p in parts]
    if not all(0 < n < float("inf") for n in numbers):  # nan fails this too
        raise ValueError(f"{spec!r}: intervals must be positive numbers of seconds")
    return key.strip(), numbers


def _validate(s: Settings) -> None:
    """Ranges and shapes of every setting: out of range is an error naming the setting
    (docs/configuration.md), never a silent default.  URLs, hosts and ports go through the
    same checks as the command line's flags (:func:`check_url`, :func:`check_host`,
    :func:`check_port`)."""
    r = s.run
    checks = [
        (s.http.timeout > 0, "http.timeout must be positive"),
        (s.http.max_bytes >= 1024, "http.max_bytes must be at least 1024"),
        (s.http.retries >= 0, "http.retries must not be negative"),
        (s.http.backoff >= 0, "http.backoff must not be negative"),
        (s.http.max_backoff >= 0, "http.max_backoff must not be negative"),
        (s.http.host_spacing >= 0, "http.host_spacing must not be negative"),
        (s.http.concurrency >= 1, "http.concurrency must be at least 1"),
        (1 <= s.eastmoney.page_size <= 200, "eastmoney.page_size must be 1..200"),
        (s.eastmoney.fulltext_retries >= 0, "eastmoney.fulltext_retries must not be negative"),
        (1 <= s.cls.page_size <= 200, "cls.page_size must be 1..200"),
        (1 <= s.ths.page_size <= 200, "ths.page_size must be 1..200"),
        (1 <= s.sina.page_size <= 200, "sina.page_size must be 1..200"),
        (1 <= s.wscn.page_size <= 100, "wscn.page_size must be 1..100"),
        (
            all(c in CLS_CATEGORIES for c in s.cls.categories),
            "cls.categories: each must be one of " + ", ".join(CLS_CATEGORIES),
        ),
        (
            not s.http.impersonate or s.http.impersonate.replace("_", "").isalnum(),
            "http.impersonate must be a browser name such as chrome (empty: off)",
        ),
        ("{id}" in s.jekyll.share_link, "jekyll.share_link must contain {id}"),
        (s.site.page_size >= 1, "site.page_size must be at least 1"),
        (s.site.feed_size >= 1, "site.feed_size must be at least 1"),
        (
            0 < r.min_interval <= r.interval <= r.max_interval,
            "run: need 0 < min_interval <= interval <= max_interval",
        ),
        (
            0 < r.busy_interval <= r.day_interval <= r.night_interval,
            "run: need 0 < busy_interval <= day_interval <= night_interval",
        ),
        (r.burst_items >= 1, "run.burst_items must be at least 1"),
        (r.light_page >= 0, "run.light_page must not be negative"),
        (r.burst_window >= 0, "run.burst_window must not be negative"),
        (
            r.pace in {"market", "busy", "day", "night"},
            "run.pace must be market, busy, day or night",
        ),
        (r.max_backoff > 0, "run.max_backoff must be positive"),
        (0 <= r.jitter < 1, "run.jitter must be in [0, 1)"),
        (r.stale_after > 0, "run.stale_after must be positive (seconds)"),
        (r.stale_clock in {"wall", "newest"}, "run.stale_clock must be wall or newest"),
        (r.workers >= 1, "run.workers must be at least 1"),
        (r.build_delay >= 0, "run.build_delay must not be negative"),
        (s.alerts.retries >= 1, "alerts.retries must be at least 1"),
        (s.alerts.timeout > 0, "alerts.timeout must be positive"),
        (s.worker.concurrency >= 1, "worker.concurrency must be at least 1"),
        (s.worker.poll_every > 0, "worker.poll_every must be positive"),
        (s.worker.visibility_timeout > 0, "worker.visibility_timeout must be positive"),
        (s.serve.poll_interval > 0, "serve.poll_interval must be positive"),
        (s.mcp.path.startswith("/"), "mcp.path must start with /"),
        (1 <= s.mcp.max_results <= 1000, "mcp.max_results must be 1..1000"),
        (s.mcp.max_chars >= 500, "mcp.max_chars must be at least 500"),
        (1 <= s.briefing.per_group <= 100, "briefing.per_group must be 1..100"),
        (s.briefing.important >= 0, "briefing.important must not be negative"),
        (s.briefing.stocks >= 0, "briefing.stocks must not be negative"),
        (s.briefing.summarizer_timeout > 0, "briefing.summarizer_timeout must be positive"),
        (
            not s.serve.root_path or s.serve.root_path.startswith("/"),
            "serve.root_path must start with /",
        ),
    ]
    for spec in r.source_intervals:
        try:
            parse_source_interval(spec)
        except ValueError as exc:
            checks.append((False, f"run.source_intervals: {exc}"))
    for ok, message in checks:
        if not ok:
            raise ConfigError(f"{message} (fix it in the settings file or FINEWS_* variable)")
    check_port(s.serve.port, "serve.port")
    check_host(s.serve.host, "serve.host")
    check_port(s.mcp.port, "mcp.port")
    for name in ("morning", "close"):
        check_clock(getattr(s.briefing, name), f"briefing.{name}")
    for name, sub in s.subscribers.items():
        where = f"subscribers.{name}"
        if sub.quiet_hours:
            quiet_hours(sub.quiet_hours, f"{where}.quiet_hours")
        if sub.max_per_hour < 0:
            raise ConfigError(f"{where}.max_per_hour must not be negative (0: no cap)")
        for session in sub.briefings:
            if session not in {"morning", "close"}:
                raise ConfigError(f"{where}.briefings: {session!r} is not morning or close")
        if not sub.webhooks:
            raise ConfigError(f'{where}: no webhooks (give webhooks = ["generic:https://…"])')
        for spec in sub.webhooks:
            check_webhook(spec, f"{where}.webhooks")
    for spec in s.alerts.webhooks:
        check_webhook(spec, "alerts.webhooks")
    check_host(s.mcp.host, "mcp.host")
    check_url(s.site.base_url, "site.base_url")
    if not s.worker.redis.startswith("unix://"):
        check_url(s.worker.redis, "worker.redis", ("redis", "rediss"))
    for section, key in [
        (s.eastmoney, "list_base"),
        (s.eastmoney, "article_base"),
        (s.eastmoney, "page_base"),
        (s.cls, "base"),
        (s.ths, "base"),
        (s.sina, "base"),
        (s.wscn, "base"),
        (s.jin10, "base"),
    ]:
        name = f"{type(section).__name__.removesuffix('Settings').lower()}.{key}"
        check_url(getattr(section, key), name)


def describe_settings() -> list[tuple[str, str, str, str]]:
    """(dotted name, environment variable, default, help) for every setting; used by docs."""
    rows: list[tuple[str, str, str, str]] = []

    def walk(cls: type[Any], prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            kind = hints[f.name]
            dotted = prefix + f.name
            if is_dataclass(kind):
                walk(kind, dotted + ".")  # type: ignore[arg-type]
                continue
            item = _table_of(kind)
            if item is not None:
                rows.append((dotted, "(file only)", "{}", f.metadata.get("help", "")))
                for g in fields(item):
                    rows.append(
                        (
                            f"{dotted}.NAME.{g.name}",
                            "(file only)",
                            repr(g.default),
                            g.metadata["help"],
                        )
                    )
                continue
            default: Any = f.default
            if callable(f.default_factory):
                default = f.default_factory()
            env_name = "FINEWS_" + dotted.replace(".", "_").upper()
            rows.append((dotted, env_name, repr(default), f.metadata.get("help", "")))

    walk(Settings, "")
    return rows
