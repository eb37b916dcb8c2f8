"""Sitemaps: one per day (its article pages and its day page: small to rewrite, the
50,000-URL limit per file is never near), one of the sections' pages (and 要闻's, and the
feeds' page), and the index."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from markupsafe import Markup
from sqlalchemy import Connection

from finews.site import paths
from finews.site.context import Build, Plan
from finews.site.escaping import escape_text, joined_lines
from finews.site.formats import iso_time
from finews.site.writer import Page
from finews.store.sitequeries import Item


class SitemapUrls(list[dict[str, str]]):
    """A sitemap's URLs (``loc``, ``lastmod``), and ``xml``: their ``<url>`` elements,
    joined (a day's sitemap has hundreds; one Jinja2 loop step each was most of it)."""

    xml: Markup = Markup("")

    @classmethod
    def of(cls, urls: Iterable[dict[str, str]]) -> SitemapUrls:
        result = cls(urls)
        e = escape_text
        result.xml = joined_lines(
            f"<url><loc>{e(u['loc'])}</loc>"
            + (f"<lastmod>{e(u['lastmod'])}</lastmod>" if u.get("lastmod") else "")
            + "</url>"
            for u in result
        )
        return result


def pages(b: Build, conn: Connection, plan: Plan) -> Iterator[Page]:
    for day in sorted(plan.sitemap_days):
        items = plan.days.get(day)
        if items:
            yield _day_sitemap(b, day, items)
    base = b.o.base_url.rstrip("/") + "/"
    maps = [{"loc": f"{base}sitemaps/{paths.day_name(d)}.xml"} for d, _ in plan.day_counts]
    maps.append({"loc": f"{base}sitemaps/sections.xml"})
    yield Page(
        "sitemap.xml",
        (tuple(m["loc"] for m in maps),),
        lambda: b.renderer.render("sitemap-index.xml", "", maps=maps),
    )
    section_urls = [{"loc": base + "index.html", "lastmod": ""}, {"loc": base + "c/index.html"}]
    for name, count, _ in sorted(plan.counts):
        slug = b.slugs[name]
        section_urls.append({"loc": f"{base}c/{slug}/index.html"})
        section_urls.extend(
            {"loc": f"{base}c/{slug}/p{k}.html"} for k in range(1, count // b.o.page_size)
        )
    section_urls.append({"loc": f"{base}important/index.html"})
    important_total = len(plan.important[1])
    section_urls.extend(
        {"loc": f"{base}important/p{k}.html"} for k in range(1, important_total // b.o.page_size)
    )
    section_urls.append({"loc": f"{base}feeds/index.html"})
    yield Page(
        "sitemaps/sections.xml",
        (tuple(u["loc"] for u in section_urls),),
        lambda: b.renderer.render("sitemap.xml", "", urls=SitemapUrls.of(section_urls)),
    )


def _day_sitemap(b: Build, day: int, items: list[Item]) -> Page:
    base = b.o.base_url.rstrip("/") + "/"
    name = paths.day_name(day)
    key = (";".join([f"{it.id}:{it.published_at}" for it in items]),)

    def render() -> str:
        urls = [
            {
                "loc": base + paths.article_path(it.source, it.upstream_id, it.published_at),
                "lastmod": iso_time(it.published_at),
            }
            for it in items
        ]
        urls.append({"loc": f"{base}d/{name}.html", "lastmod": ""})
        return b.renderer.render("sitemap.xml", "", urls=SitemapUrls.of(urls))

    return Page(f"sitemaps/{name}.xml", key, render)
