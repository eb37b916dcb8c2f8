"""Importers: bring articles from files into the store."""
