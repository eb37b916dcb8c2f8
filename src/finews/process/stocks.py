"""Which stocks an article is about, as normalised codes, each with its origin.

Origins, most trusted first:
``upstream`` the upstream's structured field (Eastmoney ``stockList``, 财联社
``stock_list`` …, set by the source adapters); ``marker`` Eastmoney's inline
markers in the body HTML (``data-code="600928|1|1"``, ``<span id="stock_1.600928">``);
``code`` a six-digit code in the text that is marked as one (``(600519)``,
``600519.SH``, ``SZ000001``); ``name`` a stock's name in the text, matched with
an Aho–Corasick automaton over every A-share name and the names the upstreams'
own tags use.

Care for names that are ordinary words (``ambiguous_names.txt``: ports,
places, media, 太阳能, 机器人 …): such a name counts only next to its code or
when an upstream tagged the stock.  Codes are never taken from bare numbers.
"""

from __future__ import annotations

import csv
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

import ahocorasick

from finews.errors import InputError
from finews.model import Article, StockTag
from finews.process.stockcodes import (
    a_share_exchange,
    from_eastmoney_marker,
    from_prefixed,
    is_share_code,
)
from finews.process.text import titled_text

log = logging.getLogger(__name__)

ORIGIN_RANK = {"upstream": 0, "marker": 1, "code": 2, "name": 3}

_MARKER = re.compile(r'data-code="(?P<code>[^"]+)"|id="(?:stock|quote)_(?P<em>\d+\.[0-9A-Za-z]+)"')
_CODE = re.compile(
    r"(?<![0-9A-Za-z])(?:(?P<pre>SH|SZ|BJ|sh|sz|bj)\s?(?P<c1>\d{6})"
    r"|(?P<c2>\d{6})\.(?P<post>SH|SZ|BJ|sh|sz|bj)"
    r"|[（(](?P<c3>\d{6})[）)]"
    r"|(?:代码|代碼)[:：]?\s*(?P<c4>\d{6}))(?![0-9])"
)
# A stock name directly followed by these is part of a longer word: 中国银行业协会, 银行间.
_BAD_NEXT = ("业", "间", "保险", "监督", "研究院", "研究所", "协会")
# ... and "<name>国际" said as a name of its own — followed by a sign, the text's end or a
# word that follows a company's name — is another company: its Hong Kong or overseas
# namesake or arm (中国黄金国际(02099.HK), 中信建投国际。, 南山铝业国际涨7%, 中信证券国际董事).
# Followed by another word it is the company's own business (比亚迪国际市场, 中国国航国际航线,
# 国泰海通国际化战略: the review of wave 15).
_NAMESAKE = re.compile(r"国际(?:$|[^\w]|有限|控股|集团|董事|公告|发布|涨|跌|和|与|为|等|、)")


def normalise_name(name: str) -> str:
    """Full-width letters to ASCII, no spaces: 万  科Ａ → 万科A."""
    return unicodedata.normalize("NFKC", name).replace(" ", "").replace("\u3000", "")


@dataclass(frozen=True, eq=False)
class StockDirectory:
    """Every known A-share: code → name, and every name (and alias) → code."""

    names: dict[str, str]
    """normalised name or alias → code"""
    display: dict[str, str]
    """code → its current name"""
    ambiguous: frozenset[str]

    @classmethod
    def from_rows(
        cls,
        listed: Iterable[tuple[str, str]],
        aliases: Iterable[tuple[str, str]] = (),
        ambiguous: Iterable[str] = (),
        display_only: Iterable[tuple[str, str]] = (),
    ) -> StockDirectory:
        """``display_only``: codes that get a name on their tags and pages but are never
        looked for by name in text (the Hong Kong and US securities: their Chinese names
        are too often someone else's — 苹果, 三星)."""
        names: dict[str, str] = {}
        display: dict[str, str] = {}
        for code, name in listed:
            clean = normalise_name(name)
            display[code] = clean
            names[clean] = code
            # the name without *ST / ST or a share-class letter, as the text often has it
            # (京东方A → 京东方); two-character leftovers (万科, 国华) are too ambiguous
            base = re.sub(r"^\*?ST|[AB]$", "", clean)
            if len(base) >= 3 and base not in names:
                names[base] = code
        for code, name in aliases:
            clean = normalise_name(name)
            if len(clean) >= 2 and clean not in names:
                names[clean] = code
                display.setdefault(code, clean)
        for code, name in display_only:
            display.setdefault(code, normalise_name(name))
        return cls(names, display, frozenset(normalise_name(a) for a in ambiguous))

    @property
    def automaton(self) -> ahocorasick.Automaton:
        """Built on first use and kept (the directory is immutable)."""
        cached: ahocorasick.Automaton | None = self.__dict__.get("_automaton")
        if cached is None:
            cached = ahocorasick.Automaton()
            for name, code in self.names.items():
                cached.add_word(name, (name, code))
            cached.make_automaton()
            object.__setattr__(self, "_automaton", cached)
        return cached


def _read_csv(text: str, code_col: str, name_col: str) -> list[tuple[str, str]]:
    return [
        (r[code_col], r[name_col]) for r in csv.DictReader(text.splitlines()) if r.get(name_col)
    ]


_TS_CODE = re.compile(r"^\d{6}\.(?:SH|SZ|BJ)$")


def check_stock_list(path: Path) -> int:
    """How many stocks a CSV meant to replace the stock list holds; an :class:`InputError`
    when it is not one (no ``ts_code`` and ``name`` columns, no row with a code like
    ``600519.SH``, not UTF-8): ``stocks --refresh`` must not install any text file."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text (a CSV with columns ts_code,name,…)", where) from None
    reader = csv.DictReader(text.splitlines())
    if not {"ts_code", "name"} <= set(reader.fieldnames or []):
        raise InputError("no ts_code and name columns (a CSV with columns ts_code,name,…)", where)
    rows = [r for r in reader if _TS_CODE.match(r.get("ts_code") or "") and r.get("name")]
    if not rows:
        raise InputError("no row with a code like 600519.SH and a name", where)
    return len(rows)


@dataclass(frozen=True)
class Security:
    """A Hong Kong or US security of ``data/securities.csv``."""

    code: str
    """00700.HK, MU.US"""
    name: str
    """its name as the upstreams tag it (腾讯控股, 美光科技)"""
    names: tuple[str, ...]
    """every name a reader may use: the tagged one, without its share-class suffix,
    the curated short Chinese and English names"""


_CLASS_SUFFIX = re.compile(r"-(?:W|SW|S|B|R|P|WR|U)$")


@cache
def load_securities() -> tuple[Security, ...]:
    """The packaged securities master (scripts/securities.py refreshes it)."""
    text = (resources.files("finews") / "data" / "securities.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    out = []
    for row in rows:
        name = normalise_name(row["name"])
        names = [name, _CLASS_SUFFIX.sub("", name)]
        for column in ("short", "english"):
            names += [n.strip() for n in (row.get(column) or "").split("|") if n.strip()]
        out.append(Security(row["code"], name, tuple(dict.fromkeys(n for n in names if n))))
    return tuple(out)


def load_directory(override: Path | None = None) -> StockDirectory:
    """The packaged stock list (or ``override``, a newer CSV), its aliases and the
    ambiguous names.

    Read once a process for each state of ``override`` (its file, time and size): the directory
    is immutable, and every processor, filter and page of the process can share it
    (reading the 5,000-row list and its aliases took ~0.1 s each time); a list installed by
    ``finews stocks --refresh`` while ``serve`` is up is read again by its filters (``run``
    and the workers tag with the list they started with, as before)."""
    stamp: tuple[int, int, int] | None = None
    if override is not None:
        try:
            stat = override.stat()
            stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            pass
    return _read_directory(None if override is None else str(override), stamp)


@lru_cache(maxsize=4)
def _read_directory(where: str | None, _stamp: tuple[int, int, int] | None) -> StockDirectory:
    override = None if where is None else Path(where)
    data = resources.files("finews") / "data"
    listed_text = (data / "a_shares.csv").read_text(encoding="utf-8")
    if override is not None and override.exists():
        # a list installed by `stocks --refresh` was checked then; one damaged or replaced
        # since would leave every article untagged: the packaged list instead, and say so
        try:
            check_stock_list(override)
            listed_text = override.read_text(encoding="utf-8")
        except (InputError, OSError) as exc:
            log.warning("the installed stock list is not usable, the packaged one is: %s", exc)
    aliases = _read_csv((data / "stock_aliases.csv").read_text(encoding="utf-8"), "ts_code", "name")
    ambiguous = [
        line.strip()
        for line in (data / "ambiguous_names.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return StockDirectory.from_rows(
        _read_csv(listed_text, "ts_code", "name"),
        aliases,
        ambiguous,
        [(s.code, s.name) for s in load_securities()],
    )


def marker_codes(body_html: str) -> list[str]:
    found: list[str] = []
    for match in _MARKER.finditer(body_html):
        value = match.group("code") or ""
        if match.group("em"):
            market, _, symbol = match.group("em").partition(".")
            value = f"{symbol}|{market}"
        code = from_eastmoney_marker(value.replace("K ", ""))
        if code:
            found.append(code)
    return found


def text_codes(text: str, directory: StockDirectory) -> list[str]:
    found = []
    for match in _CODE.finditer(text):
        symbol = match.group("c1") or match.group("c2") or match.group("c3") or match.group("c4")
        exchange = (match.group("pre") or match.group("post") or "").upper()
        guessed = a_share_exchange(symbol)
        if guessed is None or (exchange and exchange != guessed):
            continue
        code = f"{symbol}.{guessed}"
        if code in directory.display:
            found.append(code)
    return found


def text_names(text: str, directory: StockDirectory, confirmed: set[str]) -> list[tuple[str, str]]:
    """(code, name) of names found in the text, leftmost-longest, with the context rules."""
    found: list[tuple[str, str]] = []
    for end, (name, code) in directory.automaton.iter_long(text):
        following = text[end + 1 : end + 4]
        if following.startswith(_BAD_NEXT):
            continue
        if _NAMESAKE.match(text, end + 1):
            continue
        if name in directory.ambiguous and code not in confirmed:
            near = text[end + 1 : end + 12]
            if code.split(".")[0] not in near:
                continue
        found.append((code, name))
    return found


@dataclass(frozen=True)
class StockTagger:
    directory: StockDirectory

    def tag(self, article: Article) -> Article:
        """The article with every stock it is about, each once, most trusted origin first."""
        tags: dict[str, StockTag] = {}

        def add(code: str, name: str, origin: str, move: float | None = None) -> None:
            current = tags.get(code)
            if current is None or ORIGIN_RANK[origin] < ORIGIN_RANK[current.origin]:
                # the upstream's move travels with its tag (财联社 RiseRange, issue #15)
                kept = move if move is not None else (current.move if current else None)
                display = name or self.directory.display.get(code, "")
                tags[code] = StockTag(code, display, origin, kept)
            elif not current.name and name:
                tags[code] = replace(current, name=name)

        for tag in article.stocks:
            name = tag.name or self.directory.display.get(tag.code, "")
            if not name and not is_share_code(tag.code):
                continue  # a fund or bond tagged by theme (and stored before wave 13)
            add(tag.code, name, tag.origin, tag.move)
        for code in marker_codes(article.body_html):
            add(code, "", "marker")
        text = titled_text(article)
        codes = text_codes(text, self.directory)
        for code in codes:
            add(code, "", "code")
        confirmed = set(tags) | set(codes)
        for code, name in text_names(text, self.directory, confirmed):
            add(code, self.directory.display.get(code, name), "name")
        ordered = tuple(sorted(tags.values(), key=lambda t: (ORIGIN_RANK[t.origin], t.code)))
        if ordered == article.stocks:
            return article
        return replace(article, stocks=ordered)


def similar_stocks(query: str, display: dict[str, str], limit: int = 5) -> list[str]:
    """Stocks whose name starts with (else contains) what was typed: 宁德 → 宁德时代."""
    typed = normalise_name(query.strip())
    if not typed:
        return []
    named = sorted(display.items())
    starts = [f"{n} {c}" for c, n in named if normalise_name(n).startswith(typed)]
    within = [f"{n} {c}" for c, n in named if typed in normalise_name(n)]
    return list(dict.fromkeys([*starts, *within]))[:limit]


def resolve_stock(query: str, names: dict[str, str], display: dict[str, str]) -> str | None:
    """600519 / 600519.SH / sh600519 / 贵州茅台 → 600519.SH."""
    text = query.strip()
    if text.upper() in display:
        return text.upper()
    if text.isdigit() and len(text) == 6 and a_share_exchange(text):
        return f"{text}.{a_share_exchange(text)}"
    prefixed = from_prefixed(text)
    if prefixed:
        return prefixed
    return names.get(normalise_name(text))
