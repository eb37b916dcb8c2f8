"""Daily briefings (issue #14): extractive, from the stored stories (:mod:`.compose`), for a
period (:mod:`.periods`), as Markdown, JSON or HTML (:mod:`.render`), with an optional
summarizer of the user's own (:mod:`.summarize`); :mod:`.service` puts them together."""
