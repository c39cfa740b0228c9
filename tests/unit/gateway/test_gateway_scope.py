"""Region-scope rules on Kemendagri codes."""

import csv

import pytest

from common.reference_data import reference_data_dir
from gateway.authz.scope import (
    InvalidRegionScope,
    RegionLevel,
    can_assign,
    from_compact,
    in_scope,
    is_valid_code,
    is_valid_scope,
    level_of,
    prefix_range,
)


@pytest.mark.parametrize(
    ("prefix", "code", "expected"),
    [
        ("61.04", "61.04.16.2007", True),
        ("61.04", "61.04.16", True),
        ("61.04", "61.04", True),
        ("61", "61.04.16.2007", True),
        ("", "61.04.16.2007", True),
        ("61.04.16.2007", "61.04.16.2007", True),
        ("61.04.16", "61.04.16.2007", True),
        ("61.04", "61.041", False),  # not a segment boundary (and not a valid code)
        ("61.04", "61.041.16.2007", False),
        ("61.04", "61.05.01.2001", False),
        ("61.04", "61", False),  # the regency does not reach its province's records
        ("61.04.16", "61.04.1", False),
        ("61.04.16.2007", "61.04.16.2008", False),
        ("61.04.16.2007", "61.04.16.20071", False),
        ("61", "6", False),
        ("", "", False),  # a record always carries a code
        ("", "not-a-code", False),
        ("61.04", "61.04.16.2007\n", False),
        ("61.04", "٦١.٠٤.١٦.٢٠٠٧", False),  # Arabic-Indic digits are not Kemendagri digits
    ],
)
def test_in_scope(prefix: str, code: str, expected: bool) -> None:
    assert in_scope(prefix, code) is expected


@pytest.mark.parametrize("prefix", ["61.0", "6", "61.", ".61", "61.04.1", "61.04.16.207", "61/04"])
def test_invalid_caller_prefix_raises(prefix: str) -> None:
    with pytest.raises(InvalidRegionScope):
        in_scope(prefix, "61.04.16.2007")


def test_validity_and_levels() -> None:
    assert is_valid_scope("") and not is_valid_code("")
    assert level_of("") is RegionLevel.NATIONAL
    assert level_of("61") is RegionLevel.PROVINCE
    assert level_of("61.04") is RegionLevel.REGENCY
    assert level_of("61.04.16") is RegionLevel.DISTRICT
    assert level_of("61.04.16.2007") is RegionLevel.VILLAGE
    assert RegionLevel.VILLAGE.label == "village"
    with pytest.raises(InvalidRegionScope):
        level_of("61.04.16.2007.1")


@pytest.mark.parametrize(
    ("granter", "granted", "expected"),
    [
        ("61.04", "61.04", True),
        ("61.04", "61.04.16", True),
        ("61.04", "61.04.16.2007", True),
        ("61.04", "61", False),
        ("61.04", "62", False),
        ("61.04", "61.05", False),
        ("61.04", "", False),
        ("61", "61.04", True),
        ("", "", True),
        ("", "62.01", True),
        ("61.04", "61.0", False),
        ("61.04", "61.041", False),
    ],
)
def test_can_assign(granter: str, granted: str, expected: bool) -> None:
    assert can_assign(granter, granted) is expected


def test_prefix_range_selects_exactly_the_scope() -> None:
    codes = [
        "61.03.01.2001",
        "61.04",
        "61.04.01",
        "61.04.16.2007",
        "61.04.99.2999",
        "61.040",
        "61.041.1",
        "61.05",
        "62.04",
    ]
    lower, upper = prefix_range("61.04")
    assert (lower, upper) == ("61.04", "61.04/")
    # Python compares by code point, as PostgreSQL does under COLLATE "C".
    assert [c for c in sorted(codes) if lower <= c < upper] == [
        "61.04",
        "61.04.01",
        "61.04.16.2007",
        "61.04.99.2999",
    ]
    lower, upper = prefix_range("")
    assert all(lower <= c < upper for c in codes)


def test_prefix_range_on_the_real_region_list() -> None:
    # DOMAIN.md: Ketapang has 20 districts and 262 villages.
    with open(reference_data_dir() / "wilayah" / "wilayah.csv", newline="") as f:
        codes = [row["code"] for row in csv.DictReader(f)]
    lower, upper = prefix_range("61.04")
    selected = [c for c in codes if lower <= c < upper]
    assert len(selected) == 1 + 20 + 262
    assert all(in_scope("61.04", c) for c in selected)
    assert sum(in_scope("61.04", c) for c in codes) == len(selected)


def test_from_compact() -> None:
    assert from_compact("6104162007") == "61.04.16.2007"
    assert from_compact("610416") == "61.04.16"
    assert from_compact("61") == "61"
    for bad in ("", "6", "61041", "61041620071", "61a4"):
        with pytest.raises(InvalidRegionScope):
            from_compact(bad)
