"""The ``finews`` command line: a thin layer over the library.

Exit status (documented in docs/cli.md):
0 everything went through · 1 a fatal error (nothing or little done) ·
2 usage error · 3 some input items were skipped · 4 some source failed.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import html
import json
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from finews.config import (
    Settings,
    check_host,
    check_port,
    check_url,
    load_settings,
    unknown_variables,
)
from finews.errors import ConfigError, FinewsError, RequestError, StoreError

if TYPE_CHECKING:
    import socket
    from collections.abc import Iterator

    from rich.progress import Progress
    from rich.table import Table

    from finews.process.pipeline import Processor
    from finews.store import Store


EXIT_OK = 0
EXIT_FATAL = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3
EXIT_SOURCE_FAILED = 4

app = typer.Typer(
    name="finews",
    help="Aggregate Chinese financial news into a database, a site, feeds and a Jekyll export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Bring articles in from files.", no_args_is_help=True)
export_app = typer.Typer(
    help="Write the stored articles out in another format.", no_args_is_help=True
)
feeds_app = typer.Typer(
    help="Your own RSS, Atom and JSON Feed subscriptions (and OPML).", no_args_is_help=True
)
subscribers_app = typer.Typer(
    help="Subscribers of the settings: their watchlists, webhooks and pushes.",
    no_args_is_help=True,
)
app.add_typer(feeds_app, name="feeds")
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

# messages and `error:` lines are one line each when piped (docs/cli.md): no wrapping at 80
err = Console(stderr=True, soft_wrap=True, highlight=False, markup=False, emoji=False)
# no markup or emoji codes in what users and upstreams wrote (a title "[a]…", a port ":-1:"):
# the few styled lines say markup=True and escape what they interpolate


class _Output(Console):
    """Standard output whose closed pipe (``| head``) reaches :func:`run_cli` like any other
    failure, to be said in one line; Rich's own handling exits 1 without a word."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


# long paths and titles stay on one line, and tables are not squeezed to 80 columns, when piped
out = _Output(soft_wrap=True, width=None if sys.stdout.isatty() else 160, markup=False, emoji=False)


@dataclass
class Context:
    settings: Settings

    @property
    def stock_list(self) -> Path:
        """Where `finews stocks --refresh` installs a newer list (used when present)."""
        return self.settings.data_path / "a_shares.csv"

    def processor(self) -> Processor:
        """Stock tagging and the other per-article processing (docs/quality.md)."""
        from finews.process.pipeline import Processor

        return Processor.default(self.stock_list)

    def open_store(self, *, write: bool = True) -> Store:
        """The store; ``write=False`` for commands that only read it, which refuse a
        database that does not exist (a mistyped ``--db`` is said, not answered with an
        empty new database)."""
        from finews.store import Store  # SQLAlchemy is a quarter of a second to import

        url = self.settings.db_url
        data_dir = Path(self.settings.data_dir).expanduser()
        if not self.settings.db:
            # the default store, in data_dir: a mistake there is the data_dir's, not --db's
            # (wave 11's walk: FINEWS_DATA_DIR naming a file was blamed on --db)
            _data_dir_usable(data_dir)
        if not write and url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            if url != "sqlite:///:memory:" and not path.exists():
                if not self.settings.db:
                    raise StoreError(
                        f"no database at {path}, the default store of data_dir (FINEWS_DATA_DIR):"
                        " `finews fetch` or `finews import` creates it; or give --db"
                    )
                raise StoreError(
                    f"no database at {path} (check --db / FINEWS_DB; the default is "
                    f"{data_dir / 'finews.db'}; `finews fetch` or `finews import` creates one)"
                )
        return Store.open(url, create=write)


def _data_dir_usable(data_dir: Path) -> None:
    """Refuse, naming the setting, a data_dir that is a file or lies inside one."""
    for place in (data_dir, *data_dir.parents):
        if place.exists():
            if place.is_dir():
                return
            inside = "" if place == data_dir else f" (inside {place}, a file)"
            raise ConfigError(
                f"data_dir {data_dir} is not a folder{inside}: set FINEWS_DATA_DIR or "
                "data_dir in the config to a folder (a new one is made), or give --db"
            )


def _writable_folder(path: Path, option: str | None, setting: str = "site.out") -> Path:
    """A folder a command writes into (``--out``, ``--site``, ``--data``; ``option`` None:
    the ``setting``'s), refused in one line naming where it was given when it, or a folder
    above it, is a file — rather than the system's "File exists" from a ``mkdir`` deep
    inside the command."""
    for place in (path, *path.parents):
        if not place.exists():
            continue
        if place.is_dir():
            return path
        if place == path:
            what = "is a file, not a folder (give a folder: a new one is made; or move the file)"
        else:
            what = f"is inside {place}, which is a file, not a folder (give a path in a folder)"
        if option is None:
            raise ConfigError(f"{setting} {path} {what}")
        raise RequestError(f"{option} {path} {what}")
    return path


def _site_setting(settings: Settings) -> str:
    """The setting that placed the site folder: site.out, else data_dir (<data_dir>/site)."""
    return "site.out" if settings.site.out else "data_dir"


def _ctx(ctx: typer.Context) -> Context:
    obj = ctx.find_root().obj
    assert isinstance(obj, Context)
    return obj


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH|URL",
            help="Database: a file path or SQLAlchemy URL (or set FINEWS_DB).",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", metavar="FILE", help="Settings file, TOML (or set FINEWS_CONFIG)."
        ),
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logs.")] = 0,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            metavar="text|json",
            help="Logs as text lines (default) or one JSON object per line, for machines.",
        ),
    ] = "text",
) -> None:
    from finews.logs import configure_logging

    if log_format not in {"text", "json"}:
        raise typer.BadParameter(f"{log_format!r} is not text or json", param_hint="--log-format")
    configure_logging(logging.WARNING - 10 * min(verbose, 2), log_format)
    settings = load_settings(config, db=db)
    if settings.alerts.stocks or settings.subscribers:  # names → codes, typos refused
        from finews.run.watchlists import resolve

        settings = resolve(settings, settings.data_path / "a_shares.csv")
    ctx.obj = Context(settings)
    import os

    for warning in unknown_variables(os.environ):  # a typo is said; the command still runs
        err.print(f"warning: {warning}")


def _port(value: int | None) -> int | None:
    """``--port``: the settings file's rule (0..65535), checked before anything starts."""
    if value is None:
        return None
    try:
        return check_port(value, "--port")
    except ConfigError as exc:
        raise typer.BadParameter(str(exc).removeprefix("--port "), param_hint="--port") from None


def _host(value: str | None) -> str | None:
    """``--host``: an address or name, the settings file's rule."""
    if value is None:
        return None
    try:
        return check_host(value, "--host")
    except ConfigError as exc:
        raise typer.BadParameter(str(exc).removeprefix("--host "), param_hint="--host") from None


def _table(*columns: str, **options: Any) -> Table:
    from rich.table import Table

    return Table(*columns, **options)


def _progress(enabled: bool) -> Progress:
    # imported here, as the tables below: `finews build` shows neither (start-up time)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not enabled,
        transient=True,
    )


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


# -- import / export ---------------------------------------------------------


@import_app.command("jekyll")
def import_jekyll_cmd(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Post files or folders of posts.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import posts of the original "金融消息" Jekyll site (every layout it used)."""
    from finews.jekyll.importer import find_posts, import_jekyll

    missing = [p for p in paths if not p.exists()]
    if missing:
        # before the store is opened: a mistyped path creates no database
        raise typer.BadParameter(
            f"{missing[0]}: no such file or folder", param_hint="PATHS"
        ) from None
    c = _ctx(ctx)
    with c.open_store() as store, _progress(err.is_terminal and not as_json) as bar:
        total = sum(1 for _ in find_posts(paths))
        task = bar.add_task("importing", total=total)
        report = import_jekyll(
            store, paths, progress=lambda n: bar.advance(task, n), process=c.processor()
        )
    if as_json:
        _emit_json(report.as_dict())
    else:
        counts = report.saved.counts
        out.print(
            f"{report.files} files: {counts['new']} new, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {len(report.recognised)} already stored "
            f"(exported by finews), {len(report.skipped)} skipped"
        )
        for path, reason in report.skipped:
            err.print(f"[yellow]skipped[/] {escape(f'{path}: {reason}')}", markup=True)
    if report.skipped:
        raise typer.Exit(EXIT_SKIPPED)


@export_app.command("json")
def export_json_cmd(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Argument(help="File to write, or - for standard output.")],
) -> None:
    """One JSON object per line per article: id, source, media, title, time, url,
    stocks with their origin, story (id, size, first report), importance."""
    from finews.outputs.files import replaced_when_complete

    c = _ctx(ctx)
    with c.open_store(write=False) as store:
        if str(out_file) == "-":
            for record in store.export_rows():
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        # the file appears when every line is written: an export stopped half-way leaves
        # the previous file (or none), not the first part of one
        with replaced_when_complete(out_file) as handle:
            written = 0
            for record in store.export_rows():
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += 1
    out.print(f"{written} articles written to {escape(str(out_file))}")


@export_app.command("jekyll")
def export_jekyll_cmd(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Argument(help="Folder of the Jekyll site.")],
    ascii_slugs: Annotated[
        bool | None,
        typer.Option("--ascii-slugs/--original-slugs", help="Clean ASCII category slugs."),
    ] = None,
    clean: Annotated[
        bool,
        typer.Option("--clean-body", help="Write the sanitised body, not the upstream HTML."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Write every stored article as a post in the original site's latest layout."""
    from finews.jekyll.export import export_jekyll
    from finews.jekyll.write import JekyllOptions

    c = _ctx(ctx)
    _writable_folder(out_dir, "the export folder")
    j = c.settings.jekyll
    options = JekyllOptions(
        site_url=j.site_url,
        share_link=j.share_link,
        ascii_slugs=j.ascii_slugs if ascii_slugs is None else ascii_slugs,
        clean_body=clean,
    )
    with c.open_store(write=False) as store, _progress(err.is_terminal and not as_json) as bar:
        task = bar.add_task("exporting", total=store.count())
        report = export_jekyll(store, out_dir, options, progress=lambda n: bar.advance(task, n))
    if as_json:
        _emit_json(report.as_dict())
    else:
        out.print(
            f"{report.posts} posts in {len(report.categories)} categories, "
            f"{report.written} files written to {out_dir}"
        )


# -- fetching ----------------------------------------------------------------


@app.command()
def fetch(
    ctx: typer.Context,
    sources: Annotated[
        list[str] | None,
        typer.Argument(help="Source keys (default: the enabled ones).", show_default=False),
    ] = None,
    backfill: Annotated[
        int, typer.Option("--backfill", min=0, help="Page back up to N items per source.")
    ] = 0,
    fulltext: Annotated[
        bool | None,
        typer.Option("--fulltext/--no-fulltext", help="Fetch each new item's full text."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """One polling round of the configured sources; a summary per source."""
    from finews.fetch import Fetcher
    from finews.ingest import fetch_round, policy_from_settings
    from finews.sources import build_sources
    from finews.store.feedlist import listed

    c = _ctx(ctx)
    if sources and not all(k.startswith("feed.") for k in sources):
        # the built-in ids are checked before the store is opened (created): an unknown one
        # is a usage error with no database left behind (wave 11's review)
        build_sources(c.settings, [k for k in sources if not k.startswith("feed.")], [])
    with (
        c.open_store() as store,
        Fetcher(policy_from_settings(c.settings)) as fetcher,
        _progress(err.is_terminal and not as_json) as bar,
    ):
        chosen = build_sources(c.settings, sources or [], listed(store))
        tasks = {s.key: bar.add_task(s.key, total=None) for s in chosen}
        reports = fetch_round(
            store,
            fetcher,
            chosen,
            backfill=backfill,
            fulltext=c.settings.eastmoney.fulltext if fulltext is None else fulltext,
            fulltext_retries=c.settings.eastmoney.fulltext_retries,
            on_items=lambda key, n: bar.advance(tasks[key], n),
            process=c.processor(),
        )
    if as_json:
        _emit_json({"sources": [r.as_dict() for r in reports]})
    else:
        table = _table("source", "new", "updated", "unchanged", "failed", "full text", "status")
        for r in reports:
            table.add_row(
                r.source,
                str(r.new),
                str(r.updated),
                str(r.unchanged),
                str(r.failed),
                f"{r.fulltext_fetched} ok, {r.fulltext_pending} pending",
                Text("ok") if r.ok else Text("FAILED", style="red"),
            )
        out.print(table)
        for r in reports:
            if not r.ok:
                err.print(f"[red]{r.source} failed:[/] {escape(str(r.error))}", markup=True)
            for problem in r.problems[:10]:
                err.print(f"[yellow]{r.source}:[/] {escape(str(problem))}", markup=True)
            if len(r.problems) > 10:
                err.print(f"{r.source}: … and {len(r.problems) - 10} more (see -v)")
    if reports and all(not r.ok for r in reports) and fetcher.network_down:
        h = c.settings.http
        _say(
            f"no source could be reached: this machine looks offline (each request was tried "
            f"{h.retries + 1} times with a {h.timeout:g} s timeout; check the network, a "
            "proxy or upstream_override)"
        )
    if any(not r.ok for r in reports):
        raise typer.Exit(EXIT_SOURCE_FAILED)
    if any(r.failed for r in reports):
        raise typer.Exit(EXIT_SKIPPED)


# -- publishing --------------------------------------------------------------


@app.command()
def build(
    ctx: typer.Context,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: <data_dir>/site).")
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Render every page again.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Render the static site (pages, feeds, sitemaps), incrementally by default."""
    from finews.site import SiteOptions, build_site

    c = _ctx(ctx)
    target = _writable_folder(
        out_dir or c.settings.site_path, "--out" if out_dir else None, _site_setting(c.settings)
    )
    options = SiteOptions.from_settings(c.settings)
    with c.open_store(write=False) as store, _interrupted_by_sigterm():
        report = build_site(store, target, options, full=full)
    if as_json:
        _emit_json({**report.as_dict(), "out": str(target)})
    else:
        kind = "full" if report.full else "incremental"
        out.print(
            f"{kind} build of {target}: {report.articles} article pages considered, "
            f"{report.rendered} pages rendered, {report.written} written, "
            f"{report.unchanged} unchanged, {report.deleted} removed in {report.seconds:.2f} s"
        )


# -- search ------------------------------------------------------------------

_MARK = re.compile(r"(<mark>.*?</mark>)")


_TAG = re.compile(r"<[^>]+>")


def _check_source_and_media(c: Context, source: str | None, media: str | None) -> None:
    """Raise RequestError (exit 2) for a source id or an outlet this store cannot have."""
    from finews.search import filters as reader_filters
    from finews.store.fulltext import Filters as StoreFilters

    with c.open_store(write=False) as store:
        reader_filters.checked(
            StoreFilters(source=source, media=media),
            sources=reader_filters.filter_sources(store, c.settings.sources.enabled),
            media=store.media(),
        )


def _known_stock(c: Context, stock: str) -> str:
    """The code of a stock a user names (600519, 茅台, sh600519, ６００５１９, 00700), or a
    usage error with the nearest stocks (`finews stocks`, `finews search --stock`: a filter
    on a stock that does not exist would answer "no articles found" and blame the words).
    The resolver every face uses (finews.search.filters.stock_code); a code no list has is
    known when the store has articles tagged with it (the store is opened only then)."""
    from finews.process.stocks import load_directory
    from finews.search.filters import stock_code

    def tagged(code: str) -> bool:
        with c.open_store(write=False) as store:
            return store.is_tagged(code)

    return stock_code(stock, load_directory(c.stock_list), tagged)


def _marked(fragment: str) -> Text:
    """A highlighted HTML fragment (escaped text and ``<mark>``) as Rich text."""
    text = Text()
    for piece in _MARK.split(fragment):
        if piece.startswith("<mark>"):
            text.append(html.unescape(piece[6:-7]), style="bold yellow")
        elif piece:
            text.append(html.unescape(piece))
    return text


@app.command(context_settings={"ignore_unknown_options": True})
def search(
    ctx: typer.Context,
    query: Annotated[list[str], typer.Argument(help="What to look for (words, a stock code …).")],
    source: Annotated[str | None, typer.Option(help="Only this source (eastmoney.fast …).")] = None,
    media: Annotated[str | None, typer.Option(help="Only this media (财联社 …).")] = None,
    stock: Annotated[str | None, typer.Option(help="Only articles tagged with this stock.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Not older than: 2026-08-01, '2026-08-01 09:30', 24h, 7d.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Older than this time.")] = None,
    important: Annotated[
        bool | None, typer.Option("--important/--any", help="Only important flashes.")
    ] = None,
    recent: Annotated[bool, typer.Option("--recent", help="Newest first, not best first.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many results.")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many results.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    local: Annotated[
        bool, typer.Option("--local", help="Search in this process, not through a running server.")
    ] = False,
) -> None:
    """Full-text search in Chinese (and English) over every stored article.

    A ``finews serve`` or ``finews run`` already up on the same database answers it (the
    same results, without this process loading the store: finews.web.rendezvous)."""
    # `-美联储`, `-ETF` leave a word out (docs/search.md): Click would take them for options,
    # so unknown options reach the query (this command has no short options); a word
    # with two dashes is a mistyped option, unless the user put `--` before the query
    if "--" not in sys.argv[1:]:
        for word in query:
            if word.startswith("--") and len(word) > 2:
                import difflib

                from typer._click.exceptions import NoSuchOption  # Typer's own Click

                options = [o for p in ctx.command.params for o in p.opts if o.startswith("--")]
                near = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
                # said as Click says it for every other command (it said "Invalid value for
                # QUERY: no such option", blaming the query: wave 13's walk)
                raise NoSuchOption(word, possibilities=near, ctx=ctx)
    text = " ".join(query)
    if not text.strip():
        raise typer.BadParameter("give a word to search for", ctx, param_hint="QUERY")
    if any(word.startswith("-") for word in text.split()) and _only_left_out(text):
        # only words to leave out: nothing to find (the search page says so; the command
        # said "no articles found": a trader's walk, wave 15)
        raise typer.BadParameter(
            f"{text.strip()!r} only says what to leave out: add a word to search for"
            f" (降息 {text.strip()})",
            ctx,
            param_hint="QUERY",
        )
    if since and until:
        from finews.search.service import parse_time

        if parse_time(since) >= parse_time(until):
            raise typer.BadParameter(f"--since {since} is not before --until {until}", ctx)
    c = _ctx(ctx)
    if stock:
        stock = _known_stock(c, stock)
    if source and not source.isascii():
        # --source 财联社: an outlet, not a source id — the rule of every face
        from finews.search.filters import resolve as resolve_filters
        from finews.store.fulltext import Filters as StoreFilters

        outlet = resolve_filters(StoreFilters(source=source, media=media))
        source, media = outlet.source, outlet.media
    if source or media:
        # an unknown source or outlet is a mistake to name, not "no articles found" (the
        # MCP tools' rule, finews.search.filters.checked; wave 10)
        _check_source_and_media(c, source, media)
    answer = None
    if not local:
        answer = _search_through_server(
            c.settings.db_url,
            text,
            limit=limit,
            offset=offset,
            filters={
                "source": source,
                "media": media,
                "stock": stock,
                "since": since,
                "until": until,
                "important": "true" if important else None,
                "sort": "recent" if recent else "relevance",
            },
        )
    if answer is None:
        from finews.search.service import Filters, parse_time
        from finews.search.service import search as run_search

        filters = Filters(
            source=source,
            media=media,
            stock=stock,
            since=parse_time(since) if since else None,
            until=parse_time(until) if until else None,
            important=important or None,
        )
        with c.open_store(write=False) as store:
            found = run_search(
                store, text, filters, limit=limit, offset=offset, recent_first=recent
            )
        answer = {"query": text, **found.as_dict()}
    if as_json:
        _emit_json(answer)
        return
    results = answer["results"]
    if not results:
        narrowed = [
            f"{name} {value}"
            for name, value in (
                ("--stock", stock),
                ("--source", source),
                ("--media", media),
                ("--since", since),
                ("--until", until),
                ("--important", "" if important else None),
            )
            if value is not None
        ]
        total = answer["total"]
        if offset and total:
            # 69 articles and --offset 100 (it said "no articles found past the first 100")
            counted = f"{total} article{'s' if total != 1 else ''}"
            err.print(f"only {counted}: --offset {offset} is past the last of them")
            return
        hint = f" with {', '.join(narrowed)} (try without)" if narrowed else ""
        if since and not total:
            from finews.search.filters import where_news_ends
            from finews.search.service import parse_time

            with c.open_store(write=False) as store:
                newest = store.newest()
            if newest is not None and newest < parse_time(since):
                # a store of older news: where it ends, as `stories` says (wave 15's walk)
                hint = f" with {', '.join(narrowed)} ({where_news_ends(newest, '--since')})"
        err.print(escape(f"no articles found{hint}"))
        return
    from finews.process.headline import strip_dateline

    for result in results:
        line = Text(f"{result['time'][:16].replace('T', ' ')}  ", style="dim")
        line.append(f"{result['media'] or result['source']}  ", style="dim")
        title = result["title"]
        snippet = result["snippet_html"]
        if title and _TAG.sub("", snippet).lstrip().startswith("【") and "】" in snippet:
            # the flash's text opens with its 【headline】, printed just above
            snippet = snippet[snippet.index("】") + 1 :].lstrip()
        plain = html.unescape(_TAG.sub("", snippet)).lstrip()
        if title and plain.startswith(strip_dateline(title.removesuffix("…"))):
            # an untitled flash's headline is its text's start: the text alone says it
            # (as the search page and the stream do), not the same words twice
            title = ""
        line.append_text(_marked(result["title_html"] if title else snippet))
        out.print(line)
        if title and snippet:
            out.print(Text("    ").append_text(_marked(snippet)))
    shown = f"{offset + 1}–{offset + len(results)}"
    relaxed = ""
    if answer["relaxed"]:
        relaxed = " with most of the words (all of them found too few" + (
            ": those come first)" if recent else ")"
        )
    err.print(f"{shown} of {answer['total']} articles{relaxed}")


def _only_left_out(text: str) -> bool:
    """Whether a query only says what to leave out (``-英伟达``, ``-"美联储 降息"``), read as
    the search reads it."""
    from finews.search.query import parse

    query = parse(text)
    return query.empty and bool(query.excluded)


# what `finews search --json` gives for each result, in this order (service.Result.as_dict)
_RESULT_KEYS = (
    "source", "id", "article", "story", "title", "time", "media", "url", "path", "stocks",
    "important", "cluster", "score", "title_html", "snippet_html",
)  # fmt: skip


def _search_through_server(
    db_url: str, text: str, *, limit: int, offset: int, filters: dict[str, str | None]
) -> dict[str, Any] | None:
    """The answer of a running server of this database, as the command gives it, or None
    (no server, or a request the JSON API does not take: more than 100 results …).
    ``filters`` are the API's parameters besides the query and the page."""
    if limit > 100 or offset > 10_000 or "" in filters.values():
        return None
    from finews.web import rendezvous

    def accept(answer: dict[str, Any]) -> dict[str, Any] | None:
        try:
            results = []
            for item in answer["results"]:
                result = {key: item[key] for key in _RESULT_KEYS}
                # a tag's move only where there is one (model.Stock.as_dict)
                result["stocks"] = [
                    {k: v for k, v in tag.items() if k != "move" or v is not None}
                    for tag in item["stocks"]
                ]
                results.append(result)
            return {
                "query": text,
                "total": answer["total"],
                "offset": answer["offset"],
                "relaxed": answer["relaxed"],
                "results": results,
            }
        except (KeyError, TypeError, AttributeError):
            return None  # not the answer this version expects: search here

    params = {"q": text, **filters, "limit": limit, "offset": offset}
    return rendezvous.ask_server(db_url, params, accept)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(
            callback=_host, help="Address to bind (default 127.0.0.1: this machine only)."
        ),
    ] = None,
    port: Annotated[
        int | None, typer.Option(callback=_port, help="Port, 1..65535 (default 8000).")
    ] = None,
    site_dir: Annotated[
        Path | None, typer.Option("--site", help="The built site (default: <data_dir>/site).")
    ] = None,
) -> None:
    """Serve the site with search, the JSON API and live updates (Ctrl-C stops)."""
    import uvicorn

    from finews.site import SiteOptions, build_site
    from finews.web import rendezvous
    from finews.web.app import ServeOptions, create_app, ending_streams_first, listen

    c = _ctx(ctx)
    s = c.settings
    target = site_dir or s.site_path
    bind = host or s.serve.host
    with c.open_store(write=False) as store:  # a database it cannot serve is said first
        # then a taken port, before a first build that can take a while; the socket is
        # kept (nobody takes the port meanwhile: a client waits until the site is served)
        sock = listen(bind, s.serve.port if port is None else port)
        try:
            if not (target / "index.html").exists():
                _writable_folder(target, "--site" if site_dir else None, _site_setting(s))
                err.print(f"no site in {target} yet: building it first")
                with _interrupted_by_sigterm():
                    served = _served_at(s, bind, sock.getsockname()[1])
                    build_site(store, target, SiteOptions.from_settings(served))
        except BaseException:
            sock.close()
            raise
    app_options = ServeOptions.from_settings(s, target)
    app_ = create_app(app_options)
    err.print(f"serving {target} on http://{bind}:{sock.getsockname()[1]}/ (Ctrl-C stops)")
    here = _served_at(s, bind, sock.getsockname()[1]).site.base_url
    built_for = _site_base_url(target)
    if built_for and here != s.site.base_url and _loopback(built_for) != _loopback(here):
        # a site `finews build` made keeps site.base_url: its feeds page and feeds named
        # port 8000 while this served on another, without a word (wave 12's walk)
        err.print(
            f"note: the site's feeds link to {built_for} (site.base_url when it was built); "
            f"for links to this address, set FINEWS_SITE_BASE_URL={here} and run "
            "finews build again"
        )
    server = uvicorn.Server(
        uvicorn.Config(
            app_,
            log_level="warning",
            log_config=None,  # uvicorn's lines in finews's format (finews.logs)
            proxy_headers=False,
            timeout_graceful_shutdown=3,
        )
    )
    ending_streams_first(server)
    announcement = rendezvous.Announcement(
        s.db_url, bind, sock.getsockname()[1], app_options.search_token
    )
    startup = server.startup

    async def announced_startup(sockets: Any = None) -> None:
        await startup(sockets=sockets)
        if server.started:
            announcement.write()  # for `finews search`, once it can answer

    server.startup = announced_startup  # type: ignore[method-assign]
    try:
        with _stopped_by_signal():
            server.run(sockets=[sock])
    finally:
        announcement.remove()
    err.print("stopped")


@contextlib.contextmanager
def _interrupted_by_sigterm() -> Iterator[None]:
    """SIGTERM (``kill``, a service stopped) unwinds as Ctrl-C does, as a
    KeyboardInterrupt, for as long as the block runs: a site build stopped so removes its
    staging folder (finews.outputs.files.Staging) instead of dying with it left behind.
    Only in the main thread (where signals are handled); the earlier handler comes back."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _stopped_by_signal() -> Iterator[None]:
    """Ctrl-C or SIGTERM is how a server is stopped, not an error.  uvicorn shuts down
    gracefully on either, then raises the signal again: both then unwind as
    KeyboardInterrupt, so every ``finally`` runs (the announcement is taken away) where
    SIGTERM's default would end the process on the spot."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        yield


@app.command()
def mcp(
    ctx: typer.Context,
    http: Annotated[bool, typer.Option("--http", help="Streamable HTTP instead of stdio.")] = False,
    host: Annotated[
        str | None,
        typer.Option(callback=_host, help="With --http: address to bind (default 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option(callback=_port, help="With --http: port (default 8765).")
    ] = None,
) -> None:
    """An MCP server for LLM agents: search, latest news, stocks, articles, stories,
    briefings (stdio by default; docs/mcp.md)."""
    from finews.agent.server import build_server, serve_http, serve_stdio
    from finews.agent.tools import Tools
    from finews.web.app import listen

    c = _ctx(ctx)
    s = c.settings
    http = http or host is not None or port is not None
    with c.open_store(write=False) as store:
        server = build_server(Tools(store, s))
        if not http:
            serve_stdio(server)
            return
        bind = host or s.mcp.host
        sock = listen(bind, s.mcp.port if port is None else port)
        where = f"http://{bind}:{sock.getsockname()[1]}{s.mcp.path}"
        guarded = " (bearer token required)" if s.mcp.token else ""
        err.print(f"MCP server on {where}{guarded} (Ctrl-C stops)")
        if not s.mcp.token and bind not in {"127.0.0.1", "::1", "localhost"}:
            err.print(
                f"warning: no mcp.token: anyone who can reach {bind} can read the store "
                "(set mcp.token or FINEWS_MCP_TOKEN)"
            )
        serve_http(server, s, sock, bind)


# -- user feeds ----------------------------------------------------------------


@feeds_app.command("add")
def feeds_add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The feed's URL (RSS, Atom or JSON Feed).")],
    title: Annotated[str, typer.Option(help="Shown as the media of its articles.")] = "",
) -> None:
    """Subscribe to a feed; `finews run` and `finews fetch` poll it as source feed.<id>."""
    from finews.store import feedlist

    try:
        check_url(url, "feed URL")
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="URL") from None
    with _ctx(ctx).open_store() as store:
        before = {f.url: f.title for f in feedlist.listed(store)}
        feed, new = feedlist.add(store, url, title, rename=True)
    if new:
        out.print(f"added {feed.key} {feed.url}")
        return
    old_title = before.get(feed.url, "")
    if feed.title != old_title:
        out.print(f"renamed {feed.key} {feed.url}: {old_title or '—'} → {feed.title}")
    else:
        out.print(f"already there: {feed.key} {feed.url}")


@feeds_app.command("remove")
def feeds_remove(
    ctx: typer.Context,
    feed: Annotated[str, typer.Argument(help="feed.<id>, <id> or the URL.")],
) -> None:
    """Unsubscribe (the articles already stored stay)."""
    from finews.store import feedlist

    with _ctx(ctx).open_store() as store:
        if not feedlist.remove(store, feed):
            raise typer.BadParameter(f"no feed {feed} (see `finews feeds list`)", param_hint="FEED")
    out.print(f"removed {feed}")


@feeds_app.command("list")
def feeds_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """The feeds you subscribed to."""
    from finews.store import feedlist

    with _ctx(ctx).open_store(write=False) as store:
        feeds = feedlist.listed(store)
    if as_json:
        _emit_json([{"key": f.key, "url": f.url, "title": f.title} for f in feeds])
        return
    table = _table("source", "title", "url")
    for f in feeds:
        table.add_row(f.key, f.title or "—", f.url)
    out.print(table)


@feeds_app.command("import")
def feeds_import(
    ctx: typer.Context,
    opml: Annotated[Path, typer.Argument(help="An OPML file (from another reader).")],
) -> None:
    """Subscribe to every feed of an OPML file (folders included)."""
    from finews.sources.feeds import read_opml_report
    from finews.store import feedlist

    found, skipped = read_opml_report(opml.read_bytes(), str(opml))
    unique: dict[str, str] = {}
    for url, title in found:
        key = feedlist.feed_url(url)
        if key in unique:
            # the same feed twice in one file: the first entry names it
            skipped.append((url, f"listed twice in the file (kept as {unique[key] or key})"))
        else:
            unique[key] = title
    with _ctx(ctx).open_store() as store:
        added = sum(feedlist.add(store, url, title)[1] for url, title in unique.items())
    out.print(
        f"{len(found) + len(skipped) - (len(found) - len(unique))} feeds in {opml}: "
        f"{added} added, {len(unique) - added} already there, {len(skipped)} skipped"
    )
    for url, reason in skipped:
        err.print(f"[yellow]skipped[/] {escape(url or '(empty)')}: {escape(reason)}", markup=True)
    if skipped:
        raise typer.Exit(EXIT_SKIPPED)


@feeds_app.command("export")
def feeds_export(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="OPML file to write, or - for stdout.")] = "-",
) -> None:
    """Your feeds as OPML 2.0, for another reader."""
    from finews.outputs.files import write_atomic
    from finews.sources.feeds import write_opml
    from finews.store import feedlist

    with _ctx(ctx).open_store(write=False) as store:
        text = write_opml([(f.url, f.title) for f in feedlist.listed(store)])
    if target == "-":
        sys.stdout.write(text)
    else:
        write_atomic(Path(target), text.encode("utf-8"))


# -- the always-on aggregator --------------------------------------------------


def _web_socket(settings: Settings, host: str | None, port: int | None) -> socket.socket | None:
    """The web app's listening socket of `finews run` and `finews demo`, bound before
    anything else: a taken port or a foreign address is said at once, before the first
    poll (whose retries would delay the message by many seconds) and before the first
    site build (which can take a while); kept, so nobody takes the port meanwhile."""
    if not settings.run.serve:
        return None
    from finews.web.app import listen

    return listen(host or settings.serve.host, settings.serve.port if port is None else port)


def _loopback(url: str) -> str:
    """``url`` with this machine's names for itself made one (localhost, 127.0.0.1, ::1)."""
    return re.sub(r"^http://(localhost|127\.0\.0\.1|\[::1\])(?=[:/])", "http://127.0.0.1", url)


def _site_base_url(site: Path) -> str | None:
    """The address a built site's feeds link to (its RSS feed's own address, less
    ``rss.xml``), or None."""
    try:
        head = (site / "rss.xml").read_text(encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return None
    found = re.search(r'<atom:link href="([^"]+)rss\.xml"', head)
    return html.unescape(found.group(1)) if found else None


def _served_at(settings: Settings, bind: str, port: int) -> Settings:
    """The settings of a site built to be served on ``bind:port``: its feeds and sitemap
    link to that address unless ``site.base_url`` says otherwise.  The default base URL
    names 127.0.0.1:8000, so `serve --port 8765` wrote feeds whose every link was dead
    (wave 8's walk).  A wildcard address (0.0.0.0) names no host a reader can use: the
    setting stays, and docs/web.md says to set it."""
    from dataclasses import replace

    from finews.config import SiteSettings

    if settings.site.base_url != SiteSettings().base_url or bind in {"0.0.0.0", "::", ""}:
        return settings
    host = f"[{bind}]" if ":" in bind else bind
    return replace(settings, site=replace(settings.site, base_url=f"http://{host}:{port}/"))


def _run(
    settings: Settings,
    host: str | None,
    port: int | None,
    banner: str,
    sock: socket.socket | None = None,
) -> None:
    """``sock``: the web app's socket when the caller bound it already (`finews demo`)."""
    from finews.run.runner import Runner

    if logging.getLogger().level > logging.INFO:
        logging.getLogger("finews.run").setLevel(logging.INFO)

    def ready(url: str) -> None:
        err.print(banner.format(url=url or "(web app off)"), highlight=False)
        from finews.check import check_push_links

        # once running (the store opened): a mistake in --db stays one error line
        for finding in check_push_links(settings):
            err.print(f"warning: {finding.detail}", highlight=False)

    if sock is None:
        sock = _web_socket(settings, host, port)
    if sock is not None:
        settings = _served_at(settings, host or settings.serve.host, sock.getsockname()[1])
    try:
        runner = Runner(settings, host=host, port=port, sock=sock, on_ready=ready)
    except BaseException:
        if sock is not None:
            sock.close()
        raise

    try:
        stats = runner.run()
    except KeyboardInterrupt:
        err.print("stopped at once (a second signal): uncommitted work was rolled back")
        sys.exit(130)
    err.print(
        f"stopped: {stats.polls} polls ({stats.failed_polls} failed), "
        f"{stats.new_articles} new articles, {stats.builds} site builds, "
        f"{stats.alerts_sent} alerts sent, {stats.alerts_failed} failed"
        + (
            f", {stats.pushes_sent} pushes sent, {stats.pushes_failed} failed"
            if settings.subscribers
            else ""
        )
    )


@app.command()
def run(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(
            callback=_host, help="Web app address (default 127.0.0.1: this machine only)."
        ),
    ] = None,
    port: Annotated[
        int | None, typer.Option(callback=_port, help="Web app port, 1..65535 (default 8000).")
    ] = None,
) -> None:
    """Poll every enabled source on its schedule, store, rebuild the site, send alerts and
    serve the web app — until Ctrl-C (docs/run.md)."""
    settings = _ctx(ctx).settings
    _run(
        settings,
        host,
        port,
        f"finews run: {len(settings.sources.enabled)} sources into {settings.db_url}; "
        "open {url} (Ctrl-C stops)",
    )


@app.command()
def demo(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option(callback=_port, help="Web app port (0: any free port).")
    ] = 8000,
    data: Annotated[
        Path | None,
        typer.Option(help="Folder for the demo's database and site (default: a new temp folder)."),
    ] = None,
    interval: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds between two new items at the stand-in upstreams."),
    ] = 3.0,
) -> None:
    """finews without network access: bundled real flashes (财联社, 同花顺, 东方财富) replayed
    by local stand-in upstreams, new ones every few seconds, through the whole pipeline."""
    import dataclasses
    import tempfile

    from finews.demo.upstreams import Upstreams

    s = _ctx(ctx).settings
    if data is not None:
        _writable_folder(data, "--data")
    # the port first: a taken one is said before a folder is made or an upstream started
    sock = _web_socket(s, None, port)
    try:
        if data is not None:
            try:
                data.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # /proc/…, no permission: not "choose another --db"
                raise RequestError(
                    f"cannot create --data {data}: {exc.strerror or exc} (choose another folder)"
                ) from None
        folder = data or Path(tempfile.mkdtemp(prefix="finews-demo-"))
        upstreams = Upstreams(initial=40, interval=interval, one_clock=True)
        base = upstreams.start()
    except BaseException:
        if sock is not None:
            sock.close()
        raise
    settings = dataclasses.replace(
        s,
        db=f"sqlite:///{folder / 'finews.db'}",
        data_dir=str(folder),
        upstream_override=upstreams.override(base),
        sources=dataclasses.replace(
            s.sources, enabled=("cls.telegraph", "ths.flash", "eastmoney.fast"), feeds=False
        ),
        eastmoney=dataclasses.replace(s.eastmoney, fulltext=False),
        http=dataclasses.replace(s.http, host_spacing=0.0, retries=1),
        site=dataclasses.replace(s.site, out=str(folder / "site")),
        run=dataclasses.replace(
            s.run,
            interval=5.0,
            min_interval=2.0,
            max_interval=10.0,
            busy_interval=2.0,
            day_interval=5.0,
            night_interval=10.0,
            pace="busy",
            build_delay=0.5,
            # the replayed flashes are dated in the past: fresh is measured by their clock
            stale_clock="newest",
        ),
    )
    try:
        _run(
            settings,
            None,
            port,
            f"finews demo: stand-in upstreams at {base}, data in {folder}\n"
            "open {url} — new flashes arrive every few seconds (Ctrl-C stops)",
            sock,
        )
    finally:
        upstreams.stop()


@app.command()
def sources(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Each source's health: last success, last error, failures in a row, newest item, the
    request shape in use and since when, and field changes seen in its items; its polling
    interval now and its lag upstream → stored over the last hour (#17)."""
    import time

    from finews.run.health import report

    c = _ctx(ctx)
    from finews.store import freshness, upstream

    with c.open_store(write=False) as store:
        statuses = upstream.status(store)
        paces = freshness.schedules(store)
        lags = freshness.lags(store)
    health = report(
        statuses,
        list(c.settings.sources.enabled),
        time.time(),
        c.settings.run.stale_after,
        c.settings.run.stale_clock,
    )
    rows = [
        {
            **h.as_dict(),
            "interval": (paces.get(h.source) or {}).get("interval"),
            "phase": (paces.get(h.source) or {}).get("phase"),
            "lag_last_hour": lags.get(h.source),
        }
        for h in health
    ]
    if as_json:
        _emit_json(rows)
        return
    table = _table(
        "source",
        "health",
        "articles",
        "newest",
        "last success",
        "interval",
        "lag p50/p95 (1 h)",
        "shape",
        "why",
    )
    colours = {
        "ok": "green",
        "failing": "red",
        "stale": "yellow",
        "changed": "magenta",
        "unknown": "dim",
    }
    for h, d in zip(health, rows, strict=True):
        lag = d["lag_last_hour"]
        shape = "—"
        if h.shape:
            since = (d["shape_since"] or "")[:16].replace("T", " ")
            shape = f"{h.shape} (since {since})"
            if h.previous_shape:
                shape += f", was {h.previous_shape}"
        why = h.reason
        if h.locked:
            why += f"; {h.locked} locked (VIP) items skipped"
        table.add_row(
            h.source,
            Text(h.state, style=colours.get(h.state, "")),
            str(h.articles),
            (d["newest"] or "—")[:16].replace("T", " "),
            (d["last_success"] or "—")[:16].replace("T", " "),
            f"{d['interval']:g} s ({d['phase']})" if d["interval"] is not None else "—",
            f"{lag['p50']:.0f}/{lag['p95']:.0f} s ({lag['items']})" if lag else "—",
            shape,
            why,
        )
    out.print(table)
    for h in health:
        for w in h.as_dict()["warnings"]:
            first = (w["first_seen"] or "")[:16].replace("T", " ")
            words = f" {h.source}: field {w['field']!r} {w['change']} ({w['detail']}), "
            out.print(Text.assemble(("warning", "magenta"), words + f"first seen {first}"))


@app.command()
def calendar(
    ctx: typer.Context,
    date: Annotated[
        str | None,
        typer.Option("--date", help="A Beijing day, YYYY-MM-DD (default: the latest with data)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Economic-data releases of a day (金十): actual, forecast, previous, stars, 利多/利空."""
    from finews.store import calendar as calendar_store

    c = _ctx(ctx)
    with c.open_store(write=False) as store:
        try:
            events = calendar_store.events_on(store, date)
        except ValueError:
            raise RequestError(f"--date {date!r} is not a day (give YYYY-MM-DD)") from None
    if as_json:
        _emit_json({"date": date, "events": [e.as_dict() for e in events]})
        return
    if not events:
        out.print(f"no data releases{' on ' + date if date else ''}")
        return
    table = _table("time", "country", "release", "stars", "previous", "forecast", "actual", "影响")
    for e in events:
        d = e.as_dict()
        table.add_row(
            str(d["time"])[:16].replace("T", " "),
            e.country,
            e.name,
            "★" * e.star,
            e.previous and e.previous + e.unit,
            e.forecast and e.forecast + e.unit,
            e.actual + e.unit if e.actual else "未公布",
            e.affect,
        )
    out.print(table)


# -- beyond one machine (issue #9) ---------------------------------------------


def _celery(settings: Settings) -> Any:
    try:
        from finews.distributed.tasks import make_app
    except ImportError as exc:
        raise ConfigError(
            f"workers need the scale extra: pip install 'finews[scale]' ({exc})"
        ) from None
    return make_app(settings)


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Tasks at once (default: worker.concurrency).")
    ] = None,
    name: Annotated[
        str, typer.Option(help="Worker name, unique among the workers (default: pid@host).")
    ] = "",
    pool: Annotated[
        str, typer.Option(help="Celery pool: threads (default), prefork or solo.")
    ] = "threads",
) -> None:
    """A Celery worker: runs the polls and full-text fetches the scheduler queues, writing to
    the store (PostgreSQL for several machines) — docs/deployment.md."""
    import os
    import socket

    settings = _ctx(ctx).settings
    if pool not in {"threads", "prefork", "solo"}:
        raise typer.BadParameter(
            f"unknown pool {pool!r}: threads, prefork or solo", param_hint="--pool"
        )
    with _ctx(ctx).open_store():
        pass  # the store exists and is migrated before the first task
    app = _celery(settings)
    if pool != "prefork":  # threads share this process's context (prefork: per child)
        from finews.distributed.tasks import context

        context().warm_up()
    argv = [
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency or settings.worker.concurrency}",
        f"--pool={pool}",
        f"--hostname={name or f'finews-{os.getpid()}@{socket.gethostname()}'}",
        "--queues=finews.poll,finews.fulltext",
        "--without-gossip",
        "--without-mingle",
    ]
    app.worker_main(argv)


@app.command()
def scheduler(ctx: typer.Context) -> None:
    """Queues the polls of every enabled source (and user feed) for the workers, on the
    market schedule of `finews run` ([run] settings) — run exactly one."""
    import signal
    import threading

    from finews.store import feedlist

    c = _ctx(ctx)
    _celery(c.settings)  # the scale extra is there
    from finews.distributed import beat

    if logging.getLogger().level > logging.INFO:
        logging.getLogger("finews.distributed").setLevel(logging.INFO)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with c.open_store() as store:
        feeds = feedlist.listed(store, enabled_only=True) if c.settings.sources.feeds else []
        keys = [*c.settings.sources.enabled, *(f.key for f in feeds)]
        pace = c.settings.run.pace
        err.print(
            f"scheduler: {len(keys)} sources on the {pace} schedule via "
            f"{c.settings.worker.redis} (Ctrl-C stops)",
            highlight=False,
        )
        beat.run(c.settings, keys, store, stop)
    err.print("scheduler stopped")


# -- information -------------------------------------------------------------


@app.command()
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Articles per source and per media, with the oldest and newest times."""
    with _ctx(ctx).open_store(write=False) as store:
        data = store.stats()
    if as_json:
        _emit_json(data)
        return
    out.print(
        f"{data['articles']} articles in {data['stories']} stories, "
        f"{data['revisions']} earlier revisions"
    )
    if data["stories_outdated"]:
        err.print(
            f"{data['stories_outdated']} articles were grouped into stories by an older "
            "judgement: run `finews reprocess` to regroup them",
            soft_wrap=True,
        )
    for key in ("sources", "media"):
        table = _table(key, "articles", "oldest", "newest")
        for row in data[key]:
            table.add_row(row["name"] or "—", str(row["articles"]), row["oldest"], row["newest"])
        out.print(table)


@app.command()
def check(
    ctx: typer.Context,
    network: Annotated[
        bool,
        typer.Option("--network/--no-network", help="Also try each enabled source and feed."),
    ] = True,
    site_dir: Annotated[
        Path | None, typer.Option("--site", help="The built site (default: <data_dir>/site).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Check the store's integrity, the site against the store, the settings and each
    source; exit 0 healthy, 1 store, settings or site broken, 4 a source unreachable."""
    from finews import check as checks

    c = _ctx(ctx)
    findings = [checks.Finding("settings", "load", checks.OK, "valid")]
    # the links `finews run` would put in pushes: the address it serves on, unless set
    served = c.settings
    if served.run.serve:
        served = _served_at(served, served.serve.host, served.serve.port)
    findings += checks.check_push_links(served)
    store_found, version, pages = checks.check_store(c.settings.db_url)
    findings += store_found
    findings += checks.check_site(site_dir or c.settings.site_path, version, pages)
    if version is not None:
        import time

        findings += checks.check_webhooks(c.settings.db_url, time.time())
    if network:
        feeds: list[tuple[str, str]] = []
        if version is not None:
            from finews.store import feedlist

            with c.open_store(write=False) as store:
                feeds = [(f.key, f.url) for f in feedlist.listed(store, enabled_only=True)]
        findings += checks.check_sources(c.settings, checks.source_urls(c.settings, feeds))
    status = checks.exit_status(findings)
    verdict = {0: "healthy", 1: "broken", 4: "some sources unreachable"}[status]
    if status == 4 and any(f.detail == checks.OFFLINE for f in findings):
        verdict = "offline"
    if as_json:
        _emit_json({"verdict": verdict, "findings": [f.as_dict() for f in findings]})
    else:
        colours = {"ok": "green", "warn": "yellow", "fail": "red"}
        table = _table("area", "check", "state", "detail")
        for f in findings:
            table.add_row(f.area, f.name, Text(f.state, style=colours[f.state]), f.detail)
        out.print(table)
        warned = sum(1 for f in findings if f.state == checks.WARN)
        said = f" ({warned} warning{'s' if warned > 1 else ''})" if warned else ""
        out.print(f"verdict: {verdict}{said}")
    if status:
        first = next(f for f in findings if f.state == checks.FAIL)
        _say(f"check: {verdict}: {first.area} {first.name}: {first.detail}")
        raise typer.Exit(status)


@app.command()
def stocks(
    ctx: typer.Context,
    code: Annotated[
        str | None, typer.Argument(help="A stock: 600519, 600519.SH or a name.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Articles to list.")] = 30,
    refresh: Annotated[
        Path | None,
        typer.Option("--refresh", help="Install a newer A-share list (CSV: ts_code,name,…)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """An article timeline for one stock (newest first), or refresh the stock list."""
    import shutil

    from finews.process.stocks import (
        check_stock_list,
        load_directory,
    )

    c = _ctx(ctx)
    if refresh is not None:
        check_stock_list(refresh)  # a CSV of stocks, before it replaces anything
        directory = load_directory(refresh)
        target = c.stock_list
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(refresh, target)
        out.print(f"{len(directory.display)} stocks installed in {target}; run `finews reprocess`")
        return
    if not code:
        raise typer.BadParameter("name a stock, or use --refresh FILE")
    resolved = _known_stock(c, code)
    with c.open_store(write=False) as store:
        timeline = store.stock_timeline(resolved, limit)
    name = load_directory(c.stock_list).display.get(resolved, "")
    if as_json:
        _emit_json(
            {
                "code": resolved,
                "name": name,
                "articles": [
                    {
                        "time": a.published_beijing.isoformat(),
                        "title": a.title,
                        "media": a.media,
                        "source": a.source,
                        "url": a.url,
                        "origin": origin,
                    }
                    for a, origin in timeline
                ],
            }
        )
        return
    if not timeline:
        # Hong Kong and US securities are seldom tagged upstream (英伟达 in many headlines,
        # NVDA.US on few flashes): say so, and where the articles are (wave 10)
        said = f"{resolved} ({name})" if name else resolved
        hint = f"search the text: finews search {name or resolved}"
        err.print(escape(f"no article is tagged with {said}; {hint}"))
        return
    table = _table("time (UTC+8)", "title", "media", "tag from", title=f"{resolved} {name}")
    for a, origin in timeline:
        table.add_row(a.published_beijing.strftime("%Y-%m-%d %H:%M"), a.title, a.media, origin)
    out.print(table)


@app.command()
def stories(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option(help="Stories with a report since: 24h, 7d, 2026-08-01 09:30.")
    ] = "24h",
    until: Annotated[str | None, typer.Option(help="… and before this time.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many stories.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """The period's stories, most widely reported first, each with its reports: which
    outlet was first and how much later the others followed (晚 12 分钟, as the story page)."""
    import time
    from datetime import datetime

    from finews.model import BEIJING
    from finews.search.service import parse_time
    from finews.site.stories import lag_label, story_path

    start = parse_time(since)
    end = parse_time(until) if until else int(time.time()) + 1
    if until and start >= end:  # as `finews search` says it (wave 11's walk: an empty
        # period answered "no stories", and suggested the --since given)
        source = ctx.get_parameter_source("since")  # typer's own click: compared by name
        given = source is None or source.name != "DEFAULT"
        said = f"--since {since}" if given else f"--since (by default {since})"
        raise typer.BadParameter(f"{said} is not before --until {until}", ctx)
    with _ctx(ctx).open_store(write=False) as store:
        found = store.stories(start, end, limit)
        newest = None if found else store.newest()
    if as_json:
        # the story's page of the site, as search results carry theirs (wave 9's walk)
        # (a story told once has no page: null)
        _emit_json(
            {
                "stories": [
                    {**s.as_dict(), "path": story_path(s.id) if len(s.reports) > 1 else None}
                    for s in found
                ]
            }
        )
        return
    if not found:
        from finews.search.filters import where_news_ends

        hint = ""
        if newest is not None and newest < start:
            # a store of older news (an import, a copy): say where its news ends (the MCP
            # tools' empty answers say it in the same words) — not for a period before the
            # store's news begins, where the hint led backwards (wave 13's review)
            hint = f" ({where_news_ends(newest, '--since')})"
        err.print(f"no stories in that period{hint}")
        return
    for s in found:
        first = s.first
        head = Text(f"{len(s.reports)} 篇 · {s.outlets} 家  ", style="bold")
        head.append(first.title, style="bold red" if s.important else "bold")
        out.print(head)
        for r in s.reports:
            when = datetime.fromtimestamp(r.published_at, BEIJING).strftime("%m-%d %H:%M")
            # the story page's words (晚 6 小时 20 分钟), not "+380 分钟" (wave 9's walk)
            lag = "首发" if r is first else lag_label(first.published_at, r.published_at)
            out.print(Text(f"    {when}  {r.media}  {lag}  ", style="dim").append(r.title))
    if len(found) == limit:  # the list may be cut: say so (wave 13's walk)
        err.print(f"the {limit} hottest stories of the period (--limit N for more)")


@app.command()
def briefing(
    ctx: typer.Context,
    day: Annotated[
        str | None,
        typer.Option("--date", metavar="YYYY-MM-DD", help="The day (default: the latest session)."),
    ] = None,
    session: Annotated[
        str | None,
        typer.Option(
            metavar="morning|close|day",
            help="morning: the previous trading day's 15:30 to 08:00; close: 08:00 to 15:30 "
            "(trading days only); day: the whole day.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="Print as Markdown (the default).")
    ] = False,
    as_html: Annotated[bool, typer.Option("--html", help="Print a whole HTML page.")] = False,
    summary: Annotated[
        bool,
        typer.Option(
            "--summary/--no-summary", help="Run briefing.summarizer when one is set (default)."
        ),
    ] = True,
) -> None:
    """An extractive daily briefing: the period's top stories by group (宏观 市场 公司 海外),
    the important items and the most mentioned stocks, with links; no model, no network."""
    import time

    from finews.briefing import periods
    from finews.briefing.service import empty_note, make

    if as_json + as_markdown + as_html > 1:
        from typer._click.exceptions import UsageError  # a conflict, not a bad value

        raise UsageError("--json, --markdown and --html are one or another: give one", ctx)
    if session is not None and session not in periods.SESSIONS:
        raise typer.BadParameter(
            f"{session!r} is not one of {', '.join(periods.SESSIONS)}", param_hint="--session"
        )
    when = periods.parse_day(day) if day else None
    c = _ctx(ctx)
    with c.open_store(write=False) as store:
        made = make(store, c.settings, when, session, now=time.time(), summarized=summary)
        # a store of older news: where it ends and what to ask for, as the MCP resource says
        note = empty_note(store, made, "试 --date {day:%Y-%m-%d} --session day")
    if as_json:
        _emit_json(made.as_dict())
    elif as_html:
        sys.stdout.write(made.html())
    else:
        sys.stdout.write(made.markdown(note))


@subscribers_app.command("list")
def subscribers_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """The subscribers of the settings: what each watches, where it is pushed, its quiet
    hours and cap, and what its webhooks were sent in the last 24 hours."""
    import time

    from finews.run.alerts import Webhook

    c = _ctx(ctx)
    s = c.settings
    since = time.time() - 86_400
    from finews.store import subscriptions

    with c.open_store(write=False) as store:  # a mistyped or damaged --db is said
        sends = subscriptions.activity(store, since)
    quiet = {"sent": 0, "failed": 0, "pending": 0, "last_sent_at": None}
    rows: list[dict[str, Any]] = []
    for name, sub in sorted(s.subscribers.items()):
        watches = [
            *(f"关键词 {k}" for k in sub.keywords),
            *(f"股票 {code}" for code in sub.stocks),
            *(["重要消息"] if sub.important or sub.important_only else []),
        ]
        rows.append(
            {
                "name": name,
                "watches": watches,
                "sources": list(sub.sources),
                "webhooks": [Webhook(*w.split(":", 1)).label for w in sub.webhooks],
                "quiet_hours": sub.quiet_hours,
                "max_per_hour": sub.max_per_hour,
                "briefings": list(sub.briefings),
                "last_24h": sends.get(name, quiet),
            }
        )
    if as_json:
        _emit_json(rows)
        return
    if not rows:
        err.print("no subscribers: add a [subscribers.NAME] table to the settings (docs/run.md)")
        return
    table = _table("subscriber", "watches", "webhooks", "quiet · cap", "last 24 h")
    for row in rows:
        done = row["last_24h"]
        last = done["last_sent_at"]
        table.add_row(
            row["name"],
            "\n".join(row["watches"]) or "—",
            "\n".join(row["webhooks"]) or "—",
            f"{row['quiet_hours'] or '—'} · {row['max_per_hour'] or '∞'}/h",
            f"{done['sent']} sent, {done['failed']} failed, {done['pending']} pending"
            + (f"\nlast {datetime_iso(last)[5:16].replace('T', ' ')}" if last else ""),
        )
    out.print(table)


@subscribers_app.command("test")
def subscribers_test(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A subscriber of the settings ([subscribers.NAME]).")],
    since: Annotated[
        str, typer.Option(help="Replay from: 24h (default), 7d, 2026-08-01 09:30.")
    ] = "24h",
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """What the subscriber's webhooks would have been sent: the stored articles of the last
    24 hours replayed through its watchlist, quiet hours, cap and briefings (nothing sent)."""
    import time

    from finews.run.subscribers import Subscriber, simulate
    from finews.search.service import Filters, parse_time

    c = _ctx(ctx)
    s = c.settings
    if name not in s.subscribers:
        known = ", ".join(sorted(s.subscribers)) or "none: add a [subscribers.NAME] table"
        raise RequestError(f"no subscriber {name!r} in the settings (subscribers: {known})")
    sub = Subscriber.from_settings(name, s.subscribers[name])
    now = time.time()
    start = parse_time(since, now=now)
    with c.open_store(write=False) as store:
        rows = store.list_articles(Filters(since=start), limit=1_000_000)
        planned = simulate(
            sub, [(a, cluster) for _, a, cluster in rows], start, now,
            s.briefing.morning, s.briefing.close,
        )  # fmt: skip
    base = s.site.base_url.rstrip("/") + "/"

    def link(a: Any) -> str:
        from finews.site import paths

        return base + paths.article_path(a.source, a.upstream_id, int(a.published.timestamp()))

    kinds = {k: sum(1 for p in planned if p.kind == k) for k in ("item", "digest", "briefing")}
    if as_json:
        _emit_json(
            {
                "subscriber": name,
                "since": datetime_iso(start),
                "until": datetime_iso(now),
                "pushes": len(planned),
                "by_kind": kinds,
                "stories": sum(len(p.items) for p in planned),
                "sent": [p.as_dict(link) for p in planned],
            }
        )
        return
    for p in planned:
        when = datetime_iso(p.at)[5:16].replace("T", " ")
        label = {"item": "消息", "digest": "汇总", "briefing": "简报"}[p.kind]
        out.print(Text(f"{when}  {label}  ", style="bold").append(p.title))
        if p.kind == "digest":
            for article, _ in p.items:
                line = Text(f"        {article.published_beijing:%H:%M}  ")
                out.print(line.append(article.title))
    err.print(
        f"{name}: {len(planned)} pushes ({kinds['item']} single, {kinds['digest']} digests, "
        f"{kinds['briefing']} briefings) for {sum(len(p.items) for p in planned)} stories"
    )


def datetime_iso(stamp: float) -> str:
    from datetime import datetime

    from finews.model import BEIJING

    return datetime.fromtimestamp(stamp, BEIJING).isoformat(timespec="seconds")


@app.command()
def reprocess(
    ctx: typer.Context,
    reindex: Annotated[
        bool,
        typer.Option(
            "--reindex",
            help="Also write every article's search index again: after an upgrade that "
            "added names or words to the search dictionary (docs/search.md).",
        ),
    ] = False,
) -> None:
    """Run stock tagging, story grouping and body cleaning again over every stored
    article."""
    c = _ctx(ctx)
    process = c.processor()
    with c.open_store() as store, _progress(err.is_terminal) as bar:
        task = bar.add_task("reprocessing", total=store.count())
        changed = store.reprocess(process, progress=lambda n: bar.advance(task, n), reindex=reindex)
    again = "; search index written again" if reindex else ""
    out.print(f"stocks changed on {changed} articles; stories regrouped{again}")


@app.command("config")
def config_cmd(
    ctx: typer.Context,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the settings reference as Markdown.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    show_secrets: Annotated[
        bool,
        typer.Option(
            "--show-secrets", help="Print tokens, passwords and webhook addresses in full."
        ),
    ] = False,
) -> None:
    """Show the effective settings (file, environment and flags applied); secrets hidden
    unless asked for."""
    from dataclasses import asdict

    from finews.config import describe_settings

    if markdown:
        sys.stdout.write(settings_reference(describe_settings()))
        return
    data = asdict(_ctx(ctx).settings)
    data["db_url"] = _ctx(ctx).settings.db_url
    if not show_secrets:
        data = _secrets_hidden(data)
    if as_json:
        _emit_json(data)
    else:
        out.print_json(data=data)


HIDDEN = "(hidden: --show-secrets)"


_SECRET_NAME = re.compile(r"pass|pwd|token|secret|key|auth|cookie|sig|session|cred", re.I)
"""A parameter, header or option name whose value is a credential."""
_SECRET_OPTION = re.compile(
    r"^(-{1,2}[\w-]*(?:pass|pwd|token|secret|key|auth|cred)[\w-]*)(=.*)?$", re.I
)


def _secrets_hidden(data: dict[str, Any]) -> dict[str, Any]:
    """The settings as ``finews config`` prints them by default: what would let someone
    else use the reader's services hidden (wave 13's walk: the MCP token was printed in
    clear, and settings are pasted into bug reports).  Everywhere in the tree, a URL's
    password and the values of query parameters named like a credential (``password=``,
    ``access_token=``); every webhook address past its host (a DingTalk, Feishu or WeCom
    hook's token is in its path or query, a Telegram bot's in its path); the MCP token; a
    request shape's headers (``Authorization``, ``Cookie``) and its credential-named
    parameters; the summarizer command's options named like a credential and the value
    after them (``--key sk-…``)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    def url(value: str) -> str:
        try:
            parts = urlsplit(value)
        except ValueError:
            return value
        if not parts.scheme or "://" not in value:
            return value
        netloc = parts.netloc
        if parts.password:
            netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
        query = parts.query
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_NAME.search(k) for k, _ in pairs):  # else as it was written
            query = urlencode(
                [(k, "***" if _SECRET_NAME.search(k) else v) for k, v in pairs], safe="*"
            )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return url(value)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        return value

    def hook(spec: str) -> str:
        kind, _, address = spec.partition(":")
        scheme, sep, rest = address.partition("://")
        host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
        return f"{kind}:{scheme}{sep}{host}/{HIDDEN}" if sep else f"{kind}:{HIDDEN}"

    def command(line: str) -> str:
        words = line.split()
        shown: list[str] = []
        hide_next = False
        for word in words:
            option = _SECRET_OPTION.match(word)
            if hide_next:
                shown.append("***")
                hide_next = False
            elif option and option.group(2):
                shown.append(f"{option.group(1)}=***")
            elif option:
                shown.append(word)
                hide_next = True
            else:
                shown.append(url(word))
        return " ".join(shown)

    shown = walk(copy.deepcopy(data))
    if shown["mcp"].get("token"):
        shown["mcp"]["token"] = HIDDEN
    shown["alerts"]["webhooks"] = [hook(h) for h in data["alerts"]["webhooks"]]
    for name, subscriber in shown["subscribers"].items():
        subscriber["webhooks"] = [hook(h) for h in data["subscribers"][name]["webhooks"]]
    for shape in shown["sources"]["shapes"]:
        shape["headers"] = {k: HIDDEN for k in shape["headers"]}
        shape["params"] = {
            k: HIDDEN if _SECRET_NAME.search(k) else v for k, v in shape["params"].items()
        }
    shown["briefing"]["summarizer"] = command(data["briefing"]["summarizer"])
    return dict(shown)


def settings_reference(rows: list[tuple[str, str, str, str]]) -> str:
    lines = [
        "| setting | environment variable | default | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for dotted, env_name, default, help_text in rows:
        shown = default.replace("|", "\\|")
        if len(shown) > 60:
            shown = shown[:57] + "…"
        lines.append(f"| `{dotted}` | `{env_name}` | `{shown}` | {help_text} |")
    return "\n".join(lines) + "\n"


def _say(message: str) -> None:
    """One line on standard error: ``error: <what> (<what to do>)``."""
    line = " ".join(message.split())
    with contextlib.suppress(OSError):  # standard error gone too: the exit status is left
        err.print(f"[red]error:[/] {escape(line)}", markup=True)


def _silence_stdout() -> None:
    """After the reader of standard output went away (``| head``), point it at
    /dev/null so that the interpreter's last flush does not print a second complaint."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


_TICKS = re.compile(r"``?([^`]+?)``?")


def _tidy_text(text: str | None) -> str | None:
    """Help as a person reads it: a docstring's paragraph on one line (Typer keeps the
    source's line breaks, mid-sentence), ``code`` without its backticks, and ``[run]``,
    ``[subscribers.NAME]`` shown as written: Typer reads help as Rich markup, where
    they are tags, and drops them."""
    if not text:
        return text
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    return escape(_TICKS.sub(r"\1", "\n\n".join(paragraphs)))


def _tidy_help(command: Any) -> None:
    """Names instead of Typer's ``<str>`` / ``{query}`` placeholders, one-line paragraphs,
    for every command and option (walked, so new commands get it too)."""
    command.help = _tidy_text(command.help)
    command.short_help = _tidy_text(getattr(command, "short_help", None))
    for param in command.params:
        if param.param_type_name == "option":
            param.help = _tidy_text(param.help)
            if getattr(param, "count", False):
                param.metavar = ""  # -v -v: no value to name
            elif param.metavar is None and not getattr(param, "is_flag", False) and param.name:
                param.metavar = param.name.upper()
        elif param.name:  # an argument: NAME, NAME... or [NAME] in the usage line
            param.help = _tidy_text(getattr(param, "help", None))
            name = param.name.upper() + ("..." if param.nargs != 1 else "")
            shown = name if param.required else f"[{name}]"
            param.make_metavar = lambda *_a, _shown=shown, **_k: _shown
            param.type = copy.copy(param.type)
            param.type.get_metavar = lambda *_a, **_k: ""
    for child in getattr(command, "commands", {}).values():
        _tidy_help(child)


def run_cli(args: list[str] | None = None) -> int:
    """Run one command line and return its exit status; every failure a user can cause
    (bad flags, settings, paths, databases, a closed pipe) is one ``error:`` line here.

    Click's own ``main`` is not used: it prints usage errors as a multi-line box and
    turns a closed standard output into a silent exit 1.  Programming errors
    (``TypeError``, ``KeyError`` …) are deliberately not caught: they stay loud."""
    # Typer 0.28 carries its own copy of Click (docs/design.md): its exceptions live there
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    command = typer.main.get_command(app)
    _tidy_help(command)
    argv = sys.argv[1:] if args is None else list(args)
    try:
        try:
            with command.make_context("finews", argv) as ctx:
                command.invoke(ctx)
            return EXIT_OK
        except typer.Exit as exc:
            return int(exc.exit_code)
    except NoArgsIsHelpError as exc:
        exc.show()
        return EXIT_USAGE
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "finews"
        message = exc.format_message()
        _say(message if message.endswith(")") else f"{message} (see `{where} --help`)")
        return EXIT_USAGE
    except ClickException as exc:
        _say(exc.format_message())
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        _say("interrupted (nothing half-written: every write is one transaction)")
        return 130
    except RequestError as exc:
        _say(str(exc))
        return EXIT_USAGE
    except FinewsError as exc:
        _say(str(exc))
        return EXIT_FATAL
    except BrokenPipeError:
        _silence_stdout()
        _say("standard output was closed before everything was written (output cut short)")
        return EXIT_FATAL
    except OSError as exc:
        what = exc.strerror or str(exc)
        where = f": {exc.filename}" if exc.filename else ""
        _say(f"{what}{where} (check the path, its permissions and free space)")
        return EXIT_FATAL
    except Exception as exc:
        said = _database_error(exc)
        if said is None:
            raise
        _say(said)
        return EXIT_FATAL


def _database_error(exc: Exception) -> str | None:
    """A database's error as one line, or None for any other exception.

    SQLAlchemy is looked at only when it was loaded: a command that never opened a store
    (``finews search`` answered by a running server) does not pay its import to say so."""
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    if isinstance(exc, DBAPIError):
        from finews.store.engine import explain_db_error

        return f"database: {explain_db_error(exc)}"
    if isinstance(exc, SQLAlchemyError):
        return f"database: {exc} (run `finews check`)"
    return None


def main() -> None:
    """Console entry point: user-facing errors become one line and an exit status."""
    try:
        status = run_cli()
    finally:
        # The command is done and the process ends: what is left is freed as the
        # interpreter shuts down, which also runs the cycle collector over everything
        # still alive — 0.15–0.2 s after a site build, for nothing.  Frozen objects are
        # not collected (they are still freed).
        gc.freeze()
    try:
        sys.stdout.flush()
    except OSError:
        _silence_stdout()
        if status == EXIT_OK:
            _say("standard output was closed before everything was written (output cut short)")
            status = EXIT_FATAL
    sys.exit(status)
