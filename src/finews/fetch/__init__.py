"""Fetching: polite, robust HTTP for the sources, and decoding of what comes back."""

from finews.fetch.decode import decode_json
from finews.fetch.http import Fetcher, FetchPolicy, Response

__all__ = ["FetchPolicy", "Fetcher", "Response", "decode_json"]
