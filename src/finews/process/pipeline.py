"""The processing every article gets before it is stored, fetched or imported.

Pure with respect to the store: an article in, an article out.  Clustering
needs the stored neighbours and runs inside the store's write transaction
(:mod:`finews.store.clusters`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from finews.model import Article
from finews.process.stocks import StockTagger, load_directory
from finews.process.text import em_credit

log = logging.getLogger(__name__)


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
            credit = em_credit(article.body_html)
            if credit is not None:
                article = replace(article, media=credit)
        try:
            return self.tagger.tag(article)
        except (ValueError, RecursionError) as exc:  # pathological input: keep what we have
            log.warning(
                "%s/%s: stock tagging skipped: %s", article.source, article.upstream_id, exc
            )
            return article
