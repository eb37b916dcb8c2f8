"""File formats finews reads and writes (the original site's Jekyll posts)."""
