"""Every parser of outside input, under generated input (issue #8).  A few hundred inputs
per target here; ``bench/fuzz.py`` runs 100,000 each."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from fuzz_targets import TARGETS


@pytest.mark.parametrize("name", list(TARGETS))
def test_parsers_survive_generated_input(name: str) -> None:
    strategy, target = TARGETS[name]

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def run(value: object) -> None:
        target(value)

    run()
