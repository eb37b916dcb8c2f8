"""User text → an FTS5 query.  Pure.

What a user types is never FTS syntax: every word ends up inside a double-quoted FTS5
string (quotes doubled), so ``*``, ``OR``, ``NEAR``, brackets, colons and unbalanced
quotes are plain text and no input is an error.  The little syntax there is:

- words separated by spaces must all match;
- ``"…"`` keeps a phrase together; ``-word`` leaves out articles that have the word;
- a six-digit stock code (``600928``, ``600928.SH``, ``sh600928``) is the stock: its
  code and every name it goes by;
- any name of the alias table brings its aliases (英伟达 finds Nvidia and NVDA).

Words are cut the way the index was cut (:mod:`finews.search.segment`).  A run of
single characters (words jieba does not know, like 蔚来) becomes a phrase of those
characters, and a lone character a prefix, so that an unknown word still finds itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from finews.search import segment
from finews.search.aliases import AliasTable, default_aliases

_CODE = re.compile(r"^(?:(?:sh|sz|bj)(\d{6})|(\d{6})(?:\.(?:sh|sz|bj))?)$", re.I)
_CHUNKS = re.compile(r'(-?)"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class Term:
    """One thing that must (or must not) match: any of ``alternatives``."""

    alternatives: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    required: tuple[Term, ...]
    excluded: tuple[Term, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.required

    def highlight_terms(self) -> list[str]:
        """The strings to mark in a snippet, longest first."""
        seen = {
            alt.replace(" ", "") if _is_cjk_phrase(alt) else alt
            for term in self.required
            for alt in term.alternatives
        }
        return sorted(seen, key=lambda s: (-len(s), s))

    def tsquery(self) -> str | None:
        """The same query as a PostgreSQL ``tsquery`` literal (for ``CAST(:q AS tsquery)``),
        or None when there is nothing to look for.  Words are cut into the index's tokens
        (:func:`lexemes`); a phrase becomes ``<->``, a prefix ``:*``."""
        if self.empty:
            return None
        rendered = [_ts_render(t) for t in self.required]
        if any(r is None for r in rendered):
            return None  # a required term with nothing to match matches nothing
        expression = " & ".join(r for r in rendered if r)
        excluded = [r for r in (_ts_render(t) for t in self.excluded) if r]
        if excluded:
            expression = f"({expression}) & !({' | '.join(excluded)})"
        return expression

    def fts(self) -> str | None:
        """The FTS5 MATCH expression, or None when there is nothing to look for."""
        if self.empty:
            return None
        expression = " AND ".join(_render(t) for t in self.required)
        if self.excluded:
            expression = f"({expression}) NOT ({' OR '.join(_render(t) for t in self.excluded)})"
        return expression


_TOKEN = re.compile(r"[^\W_]+")


def lexemes(text: str) -> list[str]:
    """Text cut the way SQLite's ``unicode61`` tokenizer cuts it (runs of letters and
    digits; case folded, diacritics removed), so that both stores index and match the
    same tokens."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return _TOKEN.findall(unicodedata.normalize("NFC", plain))


def ts_quote(lexeme: str) -> str:
    """A lexeme as a quoted ``tsvector``/``tsquery`` literal."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _ts_alternative(text: str, prefix: bool) -> str | None:
    tokens = lexemes(text)
    if not tokens:
        return None
    parts = [ts_quote(t) for t in tokens]
    if prefix:
        parts[-1] += ":*"
    return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"


def _ts_render(term: Term) -> str | None:
    parts = [p for p in (_ts_alternative(a, term.prefix) for a in term.alternatives) if p]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"


def _is_cjk_phrase(text: str) -> bool:
    return " " in text and not text.isascii()


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _render(term: Term) -> str:
    parts = [_quote(a) + ("*" if term.prefix else "") for a in term.alternatives]
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _single_cjk(word: str) -> bool:
    return len(word) == 1 and not word.isascii()


def _terms_of(text: str, aliases: AliasTable, *, phrase: bool) -> list[Term]:
    code = _CODE.match(text)
    if code:
        return [Term(aliases.expand(code.group(1) or code.group(2)))]
    whole = aliases.expand(text)
    if len(whole) > 1:
        return [Term(whole)]
    words = segment.query_words(text)
    if not words:
        return []
    if phrase:
        return [Term((" ".join(words),))]
    terms: list[Term] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) == 1:
            terms.append(Term((run[0],), prefix=True))
        elif run:
            terms.append(Term((" ".join(run),)))
        run.clear()

    for word in words:
        if _single_cjk(word):
            run.append(word)
            continue
        flush()
        terms.append(Term(aliases.expand(word)))
    flush()
    return terms


def parse(text: str, aliases: AliasTable | None = None) -> Query:
    """Parse what a user typed.  Never raises."""
    table = aliases or default_aliases()
    required: list[Term] = []
    excluded: list[Term] = []
    for match in _CHUNKS.finditer(text[:500]):
        if match.group(3) is not None:
            chunk = match.group(3)
            negative = chunk.startswith("-") and len(chunk) > 1
            terms = _terms_of(chunk[1:] if negative else chunk, table, phrase=False)
        else:
            negative = bool(match.group(1))
            terms = _terms_of(match.group(2), table, phrase=True)
        (excluded if negative else required).extend(terms)
    # the same term twice adds nothing
    return Query(tuple(dict.fromkeys(required)), tuple(dict.fromkeys(excluded)))
