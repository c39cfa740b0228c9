"""The values answer written without models (values_json) is the models' answer byte for
byte, and the integer rounding gives the floats the Fraction rounding gave."""

import math
import random
from decimal import Decimal
from fractions import Fraction

import pytest

from services.reporting.engine import definitions as defs
from services.reporting.indicators.catalogue import Direction
from services.reporting.indicators.formulas import change, ratio, round_half_up
from services.reporting.periods import parse_period
from services.reporting.regions import region_index
from services.reporting.suppression import SuppressionReason
from services.reporting.values.schemas import ValuesRead, values_json
from services.reporting.values.service import (
    IndicatorResult,
    RegionRow,
    Shown,
    ValuesResult,
    change_between,
)
from tests.reporting.bulungan import PROVINCE, REGENCY


def fraction_round_half_up(value: Fraction | Decimal | int | float, decimals: int) -> float:
    """round_half_up as it was, all in Fractions: the reference."""
    exact = Fraction(Decimal(str(value))) if isinstance(value, float) else Fraction(value)
    scaled = abs(exact) * 10**decimals
    rounded = Fraction(math.floor(scaled + Fraction(1, 2)), 10**decimals)
    return float(rounded if exact >= 0 else -rounded)


def same(a: float | None, b: float | None) -> bool:
    return type(a) is type(b) and repr(a) == repr(b)  # 0.0 and -0.0 differ in JSON


def test_round_half_up_as_with_fractions():
    rng = random.Random(5)
    cases: list[Fraction | Decimal | int | float] = [0, 0.0, -0.0, 0.05, -0.05, 0.25, -0.25]
    for _ in range(5_000):
        cases += [
            rng.uniform(-1000, 1000),
            round(rng.uniform(-200, 200), rng.randint(0, 4)),
            (rng.randint(-(10**5), 10**5) + 0.5) / 10 ** rng.randint(0, 3),  # ties
            Fraction(rng.randint(-(10**6), 10**6), rng.randint(1, 10**4)),
            Decimal(rng.randint(-(10**7), 10**7)).scaleb(-rng.randint(0, 6)),
            rng.randint(-(10**9), 10**9),
        ]
    for value in cases:
        for decimals in (0, 1, 2, 3):
            assert same(round_half_up(value, decimals), fraction_round_half_up(value, decimals)), (
                value,
                decimals,
            )
    with pytest.raises(TypeError):
        round_half_up(1.25, -1)  # as before: no rounding to tens


def test_ratio_and_change_as_with_fractions():
    for denominator in range(300):
        for numerator in range(denominator + 1):
            for decimals in (0, 1, 2):
                got = ratio(numerator, denominator, decimals).value
                want = (
                    fraction_round_half_up(Fraction(100 * numerator, denominator), decimals)
                    if denominator
                    else None
                )
                assert same(got, want), (numerator, denominator, decimals)
    rng = random.Random(7)
    values = [0.0, 100.0, 12.5, 0.1] + [rng.randint(0, 1000) / 10 for _ in range(150)]
    values += [float(rng.randint(0, 5000)) for _ in range(50)]
    for now in values:
        for before in values:
            for decimals in (0, 1):
                moved = change(now, before, direction=Direction.LOWER_IS_BETTER, decimals=decimals)
                assert moved is not None
                d_now, d_before = Decimal(str(now)), Decimal(str(before))
                absolute = fraction_round_half_up(d_now - d_before, decimals)
                relative = (
                    fraction_round_half_up((d_now - d_before) / d_before * 100, 1)
                    if d_before
                    else None
                )
                assert same(moved.absolute, absolute) and same(moved.relative, relative)


def _result(protected: bool, children: bool) -> ValuesResult:
    """Every kind of cell: percentages, counts, medians, withheld, empty, no change."""
    regions = region_index()
    period = parse_period("2026-Q1")
    codes = ["stunting_prevalence", "krs_households", "referral_median_days", "lokus_villages"]
    shown = [
        Shown(33.3, 1, 3),
        Shown(12, 12, None),
        Shown(None, None, None, SuppressionReason.PRIMARY),
        Shown(None, None, None, SuppressionReason.COMPLEMENTARY),
        Shown(None, 0, 0),
        Shown(4.5, None, 6),
        Shown(0.0, 0, 7),
        Shown(100.0, 7, 7),
        Shown(None, None, 0),
        Shown(1, 1, None),
    ]
    villages = regions.villages(REGENCY)
    indicators = []
    for n, definition in enumerate(defs.resolve(codes, period)):

        def row(code: str, i: int, definition=definition) -> RegionRow:
            now, before = shown[i % len(shown)], shown[(i * 7 + 3) % len(shown)]
            return RegionRow(
                regions.require(code), now, before, change_between(definition, now, before)
            )

        indicators.append(
            IndicatorResult(
                definition,
                row(REGENCY, n),
                [row(v, n + i) for i, v in enumerate(villages)] if children else None,
            )
        )
    return ValuesResult(
        region=regions.require(REGENCY),
        period=period,
        previous_period=period.previous(),
        protected=protected,
        min_denominator=10,
        indicators=indicators,
        data_cutoff={
            "as_of": "2026-11-28T04:00:00+00:00",
            "feeds": {"registry": {"position": "12.3", "events_applied": 5, "last_event_at": None}},
        },
    )


@pytest.mark.parametrize(("protected", "children"), [(True, True), (False, True), (True, False)])
def test_values_json_is_the_models_answer(protected: bool, children: bool):
    result = _result(protected, children)
    assert values_json(result) == ValuesRead.of(result).model_dump_json().encode()


@pytest.mark.parametrize("caller", ["admin", "analyst"])
def test_values_answer_is_what_its_model_writes(bulungan, request, caller):
    """Over HTTP, with and without the personal-data right (withheld cells)."""
    client = request.getfixturevalue(caller)
    resp = client.get(
        "/v1/reporting/values",
        params={
            "indicator": defs.all_codes(),
            "region": REGENCY if caller == "admin" else PROVINCE,
            "period": "2026-Q1",
            "breakdown": "villages",
        },
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/json"
    assert ValuesRead.model_validate_json(resp.content).model_dump_json().encode() == resp.content
    if caller == "analyst":
        assert b'"suppressed":"primary"' in resp.content
