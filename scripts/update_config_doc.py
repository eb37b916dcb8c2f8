"""Regenerate the settings table at the end of docs/configuration.md (`make docs`)."""

from __future__ import annotations

from pathlib import Path

from finews.cli import settings_reference
from finews.config import describe_settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
MARKER = "| setting |"

text = DOC.read_text(encoding="utf-8")
DOC.write_text(text.split(MARKER)[0] + settings_reference(describe_settings()), encoding="utf-8")
print(f"updated {DOC}")
