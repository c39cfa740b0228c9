"""Cut-offs from DOMAIN.md's table, boundaries included exactly as written there."""

import numpy as np
import pytest

from services.registry.growth.classify import SCHEMES, class_code, classify, classify_indexes

LEN = [
    (-3.0001, "severely_stunted"),
    (-3.0, "stunted"),
    (-2.0001, "stunted"),
    (-2.0, "normal"),
    (3.0, "normal"),
    (3.0001, "tall"),
]
WEI = [
    (-3.0001, "severely_underweight"),
    (-3.0, "underweight"),
    (-2.0001, "underweight"),
    (-2.0, "normal"),
    (1.0, "normal"),
    (1.0001, "risk_of_overweight"),
    (4.9, "risk_of_overweight"),
]
WASTING = [
    (-3.0001, "severely_wasted"),
    (-3.0, "wasted"),
    (-2.0001, "wasted"),
    (-2.0, "normal"),
    (1.0, "normal"),
    (1.0001, "possible_risk_of_overweight"),
    (2.0, "possible_risk_of_overweight"),
    (2.0001, "overweight"),
    (3.0, "overweight"),
    (3.0001, "obese"),
]
CASES = (
    [("len", z, c) for z, c in LEN]
    + [("wei", z, c) for z, c in WEI]
    + [("wfl", z, c) for z, c in WASTING]
    + [("bmi", z, c) for z, c in WASTING]
)


@pytest.mark.parametrize(("indicator", "z", "code"), CASES)
def test_boundaries(indicator: str, z: float, code: str) -> None:
    result = classify(indicator, z, flagged=False)
    assert result is not None and result.code == code and not result.by_oedema


@pytest.mark.parametrize(("indicator", "z", "code"), CASES)
def test_vectorised_matches(indicator: str, z: float, code: str) -> None:
    index = classify_indexes(indicator, np.array([z]), np.array([0]), np.array([False]))
    assert class_code(indicator, int(index[0])) == code


def test_no_class_without_z_or_when_flagged() -> None:
    assert classify("len", None, None) is None
    assert classify("len", -7.0, True) is None
    z, flags = np.array([np.nan, -7.0, 0.0]), np.array([-1, 1, 0])
    idx = classify_indexes("wfl", z, flags, np.zeros(3, bool))
    assert idx.tolist() == [-1, -1, 2]


def test_oedema_is_severe_for_weight_based_indicators_only() -> None:
    for indicator, code in [
        ("wfl", "severely_wasted"),
        ("bmi", "severely_wasted"),
        ("wei", "severely_underweight"),
    ]:
        result = classify(indicator, None, None, oedema=True)
        assert result is not None and result.code == code and result.by_oedema
        idx = classify_indexes(indicator, np.array([np.nan]), np.array([-1]), np.array([True]))
        assert idx.tolist() == [0]
    normal = classify("len", 0.0, False, oedema=True)
    assert normal is not None and normal.code == "normal" and not normal.by_oedema


def test_every_class_has_indonesian_and_english_labels() -> None:
    for scheme in SCHEMES.values():
        for cls in scheme.classes:
            assert set(cls.label) == {"id", "en"} and all(cls.label.values())
    assert SCHEMES["len"].classes[0].label["id"] == "Sangat pendek"
    assert SCHEMES["wfl"].classes[0].label["id"] == "Gizi buruk"
