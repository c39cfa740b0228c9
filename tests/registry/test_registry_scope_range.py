"""The code range the hot list queries use instead of the OR-form scope filter."""

import pytest

from common.scoping import in_scope
from services.registry.persons.region_facts import scope_range

CODES = ["61", "61.04", "61.04.16", "61.04.16.2007", "61.04.16.2008", "61.04.01.2011", "61.71"]


@pytest.mark.parametrize(
    ("scope", "within"),
    [
        ("", None),
        ("61.04", None),
        ("61.04", "61.04.16"),
        ("61.04.16.2007", "61.04"),
        ("", "61.04.16.2008"),
        ("61.04", "61.71"),
    ],
)
def test_range_selects_exactly_scope_and_region(scope, within):
    bounds = scope_range(scope, within)
    expected = {c for c in CODES if in_scope(scope, c) and (within is None or in_scope(within, c))}
    if bounds is None:
        assert expected == set()
        return
    low, high = bounds
    assert {c for c in CODES if low <= c < high} == expected
