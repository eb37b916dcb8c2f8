"""The processing every article gets before it is stored, fetched or imported.

Pure with respect to the store: an article in, an article out.  Clustering
needs the stored neighbours and runs inside the store's write transaction
(:mod:`finews.store.clusters`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path

from finews.model import Article
from finews.process.stocks import StockTagger, load_directory
from finews.process.text import strip_tags

log = logging.getLogger(__name__)

_EM_MEDIA = re.compile(r'<p class="em_media">（文章来源：(?P<media>.*?)）</p>', re.S)


@dataclass(frozen=True)
class Processor:
    tagger: StockTagger

    @classmethod
    def default(cls, stock_list: Path | None = None) -> Processor:
        return cls(StockTagger(load_directory(stock_list)))

    def __call__(self, article: Article) -> Article:
        """Tag the stocks; take the media from Eastmoney's credit line when missing.

        Never raises for odd content: what cannot be understood is left as it
        came (and logged), the article is still stored.
        """
        if not article.media:
            credit = _EM_MEDIA.search(article.body_html)
            if credit:
                article = replace(article, media=strip_tags(credit.group("media")).strip())
        try:
            return self.tagger.tag(article)
        except (ValueError, RecursionError) as exc:  # pathological input: keep what we have
            log.warning(
                "%s/%s: stock tagging skipped: %s", article.source, article.upstream_id, exc
            )
            return article
