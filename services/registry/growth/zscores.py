"""Single-row z-scores, following WHO anthro (``anthro_zscores``) step by step.

The bulk path (``bulk.py``) implements the same rules on columns; a test holds the two
to identical numbers.
"""

import numpy as np

from services.registry.growth.age import (
    HEIGHT_FROM_DAY,
    STANDING_FROM_MONTHS,
    age_months,
    lookup_day,
)
from services.registry.growth.classify import classify
from services.registry.growth.issues import WARNING_BITS, decode_errors, decode_warnings
from services.registry.growth.lms import (
    interpolated_lookup,
    lms_zscore,
    lookup,
    restricted_zscore,
)
from services.registry.growth.models import GrowthResult, MeasurementInput
from services.registry.growth.validation import (
    MEASURE_LYING,
    MEASURE_STANDING,
    columns_from_input,
    validate_columns,
)
from services.registry.growth.who_tables import LmsTable, WhoTables, load_who_tables

# Position adjustment (WHO: recumbent length is on average 0.7 cm more than height).
LYING_STANDING_CM = 0.7
# Adjusted lengths are rounded to this many decimals to drop float noise (44.3 + 0.7).
CM_DECIMALS = 6
Z_DISPLAY_DECIMALS = 2
# WHO flags on the z-score as displayed (rounded to 2 decimals), as WHO anthro does.
FLAG_LIMITS: dict[str, tuple[float, float]] = {
    "len": (-6.0, 6.0),
    "wei": (-6.0, 5.0),
    "wfl": (-5.0, 5.0),
    "bmi": (-5.0, 5.0),
    "hc": (-5.0, 5.0),
    "ac": (-5.0, 5.0),
}
AC_FROM_DAY = 91


def _one(value: float) -> np.ndarray:
    return np.array([value], dtype=np.float64)


def _age_z(table: LmsTable, sex: int, day: int, y: float, restricted: bool) -> float | None:
    l, m, s, inside = lookup(table, np.array([sex]), np.array([day]))  # noqa: E741
    if not inside[0]:
        return None
    return float((restricted_zscore if restricted else lms_zscore)(_one(y), l, m, s)[0])


def _flag(indicator: str, z: float | None) -> bool | None:
    if z is None:
        return None
    shown = float(np.round(_one(z), Z_DISPLAY_DECIMALS)[0])
    low, high = FLAG_LIMITS[indicator]
    return shown < low or shown > high


def _given(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def compute_zscores(m: MeasurementInput, tables: WhoTables | None = None) -> GrowthResult:
    """All WHO z-scores, flags and classes for one visit; errors instead if the input is bad."""
    tables = tables or load_who_tables()
    cols = columns_from_input(m)
    error_mask = int(validate_columns(cols)[0])
    if error_mask:
        return GrowthResult(errors=decode_errors(error_mask))

    sex = int(cols.sex[0])
    age = float(cols.age_days[0])
    day = lookup_day(age)
    weight = _given(cols.weight_kg[0])
    height = _given(cols.height_cm[0])
    head = _given(cols.head_cm[0])
    muac = _given(cols.muac_cm[0])
    oedema = bool(cols.oedema[0])
    measure = int(cols.measure[0])
    warnings = 0

    position_implausible = measure == MEASURE_STANDING and age_months(age) < STANDING_FROM_MONTHS
    if position_implausible:
        measure = 0
        warnings |= WARNING_BITS["standing_under_9_months", "measure"]

    by_length = day < HEIGHT_FROM_DAY
    height_used = None
    if height is not None:
        adjusted = height
        if by_length and measure == MEASURE_STANDING:
            adjusted = height + LYING_STANDING_CM
        elif not by_length and measure == MEASURE_LYING:
            adjusted = height - LYING_STANDING_CM
        height_used = float(np.round(_one(adjusted), CM_DECIMALS)[0])

    z: dict[str, float | None] = dict.fromkeys(("len", "wei", "wfl", "bmi", "hc", "ac"))
    bmi = None
    wfl_table = None
    if height_used is not None:
        z["len"] = _age_z(tables.len, sex, day, height_used, restricted=False)
    if weight is not None and not oedema:
        z["wei"] = _age_z(tables.wei, sex, day, weight, restricted=True)
    if weight is not None and height_used is not None:
        wfl_table = "wfl" if by_length else "wfh"
        table = tables.wfl if by_length else tables.wfh
        l, mm, s, inside = interpolated_lookup(table, np.array([sex]), _one(height_used))  # noqa: E741
        if not inside[0]:
            warnings |= WARNING_BITS[f"{wfl_table}_out_of_table", "height_cm"]
            wfl_table = None
        elif not oedema:
            z["wfl"] = float(restricted_zscore(_one(weight), l, mm, s)[0])
        metres = _one(height_used) / 100.0
        bmi = float((_one(weight) / (metres * metres))[0])
        if not oedema:
            z["bmi"] = _age_z(tables.bmi, sex, day, bmi, restricted=True)
    if head is not None:
        z["hc"] = _age_z(tables.hc, sex, day, head, restricted=False)
    if muac is not None:
        if day < AC_FROM_DAY:
            warnings |= WARNING_BITS["muac_under_3_months", "muac_cm"]
        else:
            z["ac"] = _age_z(tables.ac, sex, day, muac, restricted=True)
    if oedema:
        warnings |= WARNING_BITS["oedema_weight_not_scored", "oedema"]

    flags = {name: _flag(name, value) for name, value in z.items()}
    return GrowthResult(
        zlen=z["len"],
        zwei=z["wei"],
        zwfl=z["wfl"],
        zbmi=z["bmi"],
        zhc=z["hc"],
        zac=z["ac"],
        flen=flags["len"],
        fwei=flags["wei"],
        fwfl=flags["wfl"],
        fbmi=flags["bmi"],
        fhc=flags["hc"],
        fac=flags["ac"],
        class_len=classify("len", z["len"], flags["len"], oedema),
        class_wei=classify("wei", z["wei"], flags["wei"], oedema),
        class_wfl=classify("wfl", z["wfl"], flags["wfl"], oedema),
        class_bmi=classify("bmi", z["bmi"], flags["bmi"], oedema),
        age_day=day,
        height_used_cm=height_used,
        measure_used=None if height_used is None else ("l" if by_length else "h"),
        position_implausible=position_implausible,
        bmi=bmi,
        wfl_table=wfl_table,
        warnings=decode_warnings(warnings),
    )
