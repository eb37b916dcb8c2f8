"""finews: a self-hosted aggregator of Chinese financial news.

The pipeline is visible in the package layout:
sources → fetch → normalise → process → store → outputs.
"""

__version__ = "0.1.0"
