"""Names that mean the same thing to a reader: 英伟达 / Nvidia / NVDA, 央行 / 中国人民银行,
600928 / 西安银行.

Built from the packaged stock list (code, current name, former names, the name without
``ST`` or a share-class letter), the Hong Kong and US securities the upstreams tag
(``data/securities.csv``: code, ticker, Chinese name, curated short and English names —
Micron / 美光 / 美光科技 / MU), plus the curated ``data/search_aliases.txt``.  Groups that
share a name are merged (中国银行 is both a stock and a curated line; BABA.US and 09988.HK
are both 阿里巴巴).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from finews.process.stocks import StockDirectory, load_directory, load_securities


def fold(term: str) -> str:
    """The lookup key of a term: NFKC, lower case, no spaces."""
    return unicodedata.normalize("NFKC", term).lower().replace(" ", "").replace("\u3000", "")


@dataclass(frozen=True)
class AliasTable:
    groups: dict[str, tuple[str, ...]]
    """folded term → every name of its group (the term itself first)"""
    names: frozenset[str] = frozenset()
    """folded names of companies, stocks and institutions (not vocabulary): a query never
    splits them into their parts"""

    def expand(self, term: str) -> tuple[str, ...]:
        """The term and its aliases (just the term when it has none)."""
        group = self.groups.get(fold(term))
        if not group:
            return (term,)
        return (term, *(g for g in group if fold(g) != fold(term)))

    def words(self) -> Iterable[str]:
        """Every name in the table, for the segmenter's dictionary."""
        seen: set[str] = set()
        for group in self.groups.values():
            for name in group:
                if name not in seen:
                    seen.add(name)
                    yield name

    def to_json(self) -> str:
        """The table as JSON (the quick query dictionary keeps it: finews.search.quickseg)."""
        unique = dict.fromkeys(self.groups.values())
        return json.dumps(
            {"groups": [list(g) for g in unique], "names": sorted(self.names)},
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> AliasTable:
        data = json.loads(text)
        groups: dict[str, tuple[str, ...]] = {}
        for group in data["groups"]:
            members = tuple(group)
            for name in members:
                groups[fold(name)] = members
        return cls(groups, frozenset(data["names"]))

    @classmethod
    def from_groups(
        cls, groups: Iterable[Iterable[str]], vocabulary: Iterable[Iterable[str]] = ()
    ) -> AliasTable:
        """``groups`` are names, ``vocabulary`` synonym groups of ordinary words."""
        groups = [list(g) for g in groups]
        proper = frozenset(fold(n) for group in groups for n in group if n.strip())
        groups += [list(g) for g in vocabulary]
        parent: dict[str, str] = {}
        display: dict[str, str] = {}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for group in groups:
            names = [n.strip() for n in group if n.strip()]
            keys = [fold(n) for n in names]
            for name, key in zip(names, keys, strict=True):
                parent.setdefault(key, key)
                display.setdefault(key, name)
            for key in keys[1:]:
                parent[find(key)] = find(keys[0])
        members: dict[str, list[str]] = {}
        for key in parent:
            members.setdefault(find(key), []).append(display[key])
        table = {key: tuple(members[find(key)]) for key in parent}
        return cls({k: v for k, v in table.items() if len(v) > 1}, proper)


def stock_groups(directory: StockDirectory) -> list[list[str]]:
    """One group per stock: its code, current name and every other name it goes by."""
    by_code: dict[str, list[str]] = {}
    for code, name in directory.display.items():
        if code[-3:] not in {".SH", ".SZ", ".BJ"}:
            continue  # Hong Kong and US: security_groups
        by_code.setdefault(code, [code[:6], name])
    for name, code in directory.names.items():
        by_code.setdefault(code, [code[:6]]).append(name)
    return list(by_code.values())


_NO_TICKER = frozenset(
    {"ON", "NOW", "AS", "CAT", "DIS", "PL", "HON", "BX", "KC", "WB", "LI", "CHA", "RACE", "ALL"}
)
"""US tickers that are also common English words or names: kept out of the aliases (the
company's own names still find it)."""


def security_groups() -> list[list[str]]:
    """One group per Hong Kong or US security: its code (00700.HK, and 00700 alone; a Hong
    Kong code also as 0700.HK, 700.HK and HK00700), its
    ticker, its names as tagged (without the -W/-SW class suffix too), and the curated short
    and English names."""
    groups = []
    for security in load_securities():
        code, market = security.code.rsplit(".", 1)
        names = [security.code, *security.names]
        if market == "HK" or (len(code) >= 2 and code not in _NO_TICKER):
            names.append(code)
        if market == "HK" and code.isdigit():
            # 0700.HK, 700.HK and HK00700 as traders and quote sites write it (a walk, wave
            # 17: --stock took them, a query found nothing); a bare 700 stays a number
            number = int(code)
            names += [f"HK{code}", f"{number:04d}.HK", f"{number}.HK"]
        groups.append(names)
    return groups


def curated_groups(*files: str) -> list[list[str]]:
    """Groups of the curated files: ``search_aliases.txt`` (names of companies and
    institutions) by default, ``search_synonyms.txt`` (finance vocabulary)."""
    groups = []
    for name in files or ("search_aliases.txt",):
        text = (resources.files("finews") / "data" / name).read_text(encoding="utf-8")
        groups += [
            line.split("|")
            for line in (raw.strip() for raw in text.splitlines())
            if line and not line.startswith("#")
        ]
    return groups


@cache
def default_aliases() -> AliasTable:
    """The packaged table (the packaged stock list, not a user's newer one, so that the
    index and the queries always agree)."""
    return AliasTable.from_groups(
        [*stock_groups(load_directory()), *security_groups(), *curated_groups()],
        curated_groups("search_synonyms.txt"),
    )
