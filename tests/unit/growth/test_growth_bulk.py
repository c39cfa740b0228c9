"""The vectorised path gives exactly the single-row path's numbers, row by row."""

import math

import numpy as np
import pytest

from services.registry.growth.bulk import WFL_TABLE_CODES, compute_zscores_bulk
from services.registry.growth.issues import decode_errors, decode_warnings
from services.registry.growth.models import CLASSIFIED_INDICATORS, INDICATORS, MeasurementInput
from services.registry.growth.zscores import compute_zscores

EDGE_AGES = [0, 1, 90, 91, 273, 273.9375, 274, 730, 730.5, 731, 1825, 1826, 1826.25, 1827, -1]
EDGE_HEIGHTS = [44.3, 44.9, 45, 45.05, 64.3, 64.9, 65, 65.7, 70.35, 110, 110.1, 110.7, 120, 120.1]
EDGE_WEIGHTS = [8500, -1, 0, 0.2, 70, 1.0, 40, 2.5]
MEASURES = np.array(["l", "h", None, "x"], dtype=object)


def _rows(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    pick = rng.random

    def mix(random_values: np.ndarray, edges: list, share: float) -> np.ndarray:
        return np.where(pick(n) < share, rng.choice(edges, n), random_values)

    return {
        "sex": rng.choice([1, 2, 1, 2, 1, 2, 0, 3], n),
        "age_days": mix(rng.integers(0, 1827, n).astype(float), EDGE_AGES + [np.nan], 0.3),
        "weight_kg": mix(np.round(rng.uniform(1.0, 35.0, n), 2), EDGE_WEIGHTS + [np.nan], 0.2),
        "height_cm": mix(np.round(rng.uniform(40.0, 125.0, n), 1), EDGE_HEIGHTS + [np.nan], 0.3),
        "measure": rng.choice(MEASURES, n, p=[0.45, 0.45, 0.08, 0.02]),
        "oedema": pick(n) < 0.05,
        "head_cm": np.where(pick(n) < 0.4, np.nan, np.round(rng.uniform(28.0, 58.0, n), 1)),
        "muac_cm": np.where(pick(n) < 0.4, np.nan, np.round(rng.uniform(7.0, 24.0, n), 1)),
    }


def _opt(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


@pytest.mark.parametrize("seed", [1, 2])
def test_bulk_equals_single_row(seed: int) -> None:
    cols = _rows(2500, seed)
    bulk = compute_zscores_bulk(**cols)
    assert np.count_nonzero(bulk.errors == 0) > 1000  # most rows are scored
    class_codes = {name: bulk.class_codes(name) for name in CLASSIFIED_INDICATORS}
    for i in range(len(cols["sex"])):
        single = compute_zscores(
            MeasurementInput(
                sex=int(cols["sex"][i]) or None,
                age_days=_opt(cols["age_days"][i]),
                weight_kg=_opt(cols["weight_kg"][i]),
                height_cm=_opt(cols["height_cm"][i]),
                measure=cols["measure"][i],
                oedema=bool(cols["oedema"][i]),
                head_cm=_opt(cols["head_cm"][i]),
                muac_cm=_opt(cols["muac_cm"][i]),
            )
        )
        for name in INDICATORS:
            z = bulk.z[name][i]
            expected_z = getattr(single, f"z{name}")
            assert (None if math.isnan(z) else float(z)) == expected_z, (i, name)
            flag = int(bulk.flags[name][i])
            expected_flag = getattr(single, f"f{name}")
            assert (None if flag < 0 else bool(flag)) == expected_flag, (i, name)
        for name in CLASSIFIED_INDICATORS:
            expected = getattr(single, f"class_{name}")
            assert class_codes[name][i] == (expected.code if expected else None), (i, name)
        assert decode_errors(int(bulk.errors[i])) == single.errors, i
        assert decode_warnings(int(bulk.warnings[i])) == single.warnings, i
        assert _opt(bulk.height_used_cm[i]) == single.height_used_cm, i
        assert WFL_TABLE_CODES[int(bulk.wfl_table[i])] == single.wfl_table, i
        assert bool(bulk.position_implausible[i]) == single.position_implausible, i
        if single.ok:
            assert int(bulk.age_day[i]) == single.age_day


def test_measure_codes_and_strings_give_the_same_result() -> None:
    args = {"sex": [1, 1, 2], "age_days": [300, 800, 800], "height_cm": [60, 85, 85]}
    by_text = compute_zscores_bulk(**args, measure=["h", "l", None])
    by_code = compute_zscores_bulk(**args, measure=np.array([2, 1, 0], dtype=np.int8))
    assert np.array_equal(by_text.z["len"], by_code.z["len"])
    assert by_text.height_used_cm.tolist() == [60.7, 84.3, 85.0]


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="rows"):
        compute_zscores_bulk(sex=[1, 2], age_days=[1, 2], weight_kg=[3.0])
