"""Outputs: what finews publishes from the store (Jekyll export, site, feeds …)."""
