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


def test_regression_an_absurd_timestamp_is_a_skipped_item_not_a_crash() -> None:
    """Found by bench/fuzz.py: ``ctime`` 6.8e16 made the platform raise OSError (errno 75)
    from inside an adapter, which no item loop expected."""
    from finews.sources import cls
    from finews.sources.common import normalise_items

    page = normalise_items([{"id": 1, "ctime": 6.77680361916768e16}], cls.normalise, "cls")
    assert page.articles == () and "plausible" in page.skipped[0][1]
