"""kill -9 ``finews run`` mid-work, several times (issue #8; bench/crash.py does 100)."""

from __future__ import annotations

from pathlib import Path

from crashrun import crash_cycles


def test_kill_9_at_random_moments_loses_and_doubles_nothing(tmp_path: Path) -> None:
    report = crash_cycles(tmp_path, cycles=4)
    assert report.problems == []
    assert report.cycles == 4
    assert report.articles[0] > 0
    assert report.articles == sorted(report.articles)  # never fewer after a crash
    assert report.links_checked > 0
