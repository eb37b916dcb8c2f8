"""Processing of normalised articles: clean, stocks, dedup."""
