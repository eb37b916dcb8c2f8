"""What a site build is asked for (:class:`SiteOptions`) and what it did (:class:`BuildReport`)."""

from __future__ import annotations

from dataclasses import dataclass

from finews.config import Settings


@dataclass(frozen=True)
class SiteOptions:
    title: str = "金融消息"
    base_url: str = "http://127.0.0.1:8000/"
    """Absolute URL of the site root, for feeds and sitemaps (pages link relatively)."""
    page_size: int = 50
    feed_size: int = 50
    home_per_section: int = 5
    home_newest: int = 30
    templates: str = ""
    """A folder whose templates override the packaged ones, file by file."""
    stock_size: int = 100
    """Articles on a stock's page."""
    stock_feed_size: int = 20
    """Entries in a stock's feeds (thousands of stocks: their feeds are most of the feed work)."""
    search_form: bool = True
    """A search box in the header, for sites served by ``finews serve`` (its ``/search``)."""
    workers: int = 0
    """Processes rendering article pages in a full build: 0 = one per core (up to 4)
    from 3,000 articles on, 1 = this process only."""
    briefing_times: tuple[str, str] = ("08:00", "15:30")
    """The ends of the morning and close briefings' periods (``briefing.*``, issue #14)."""
    briefing_per_group: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> SiteOptions:
        s = settings.site
        return cls(
            title=s.title,
            base_url=s.base_url,
            page_size=s.page_size,
            feed_size=s.feed_size,
            templates=s.templates,
            search_form=s.search_form,
            briefing_times=(settings.briefing.morning, settings.briefing.close),
            briefing_per_group=settings.briefing.per_group,
        )


@dataclass
class BuildReport:
    full: bool = False
    articles: int = 0
    rendered: int = 0
    written: int = 0
    unchanged: int = 0
    deleted: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(self).items()}
