"""Full-text search in Chinese (issue #6): segmentation, aliases, query parsing, snippets.

Pure: text in, text out.  The index itself lives in the store
(:mod:`finews.store.fulltext`), which calls :func:`segment.index_text`.
"""
