"""Vectorised z-scores over columns: the same rules as ``zscores.compute_zscores``."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.registry.growth.age import (
    DAYS_PER_MONTH,
    HEIGHT_FROM_DAY,
    STANDING_FROM_MONTHS,
    lookup_days,
)
from services.registry.growth.classify import class_code, classify_indexes
from services.registry.growth.issues import WARNING_BITS
from services.registry.growth.lms import (
    interpolated_lookup,
    lms_zscore,
    lookup,
    restricted_zscore,
)
from services.registry.growth.models import CLASSIFIED_INDICATORS, INDICATORS
from services.registry.growth.validation import (
    MEASURE_LYING,
    MEASURE_MISSING,
    MEASURE_STANDING,
    InputColumns,
    measure_code,
    validate_columns,
)
from services.registry.growth.who_tables import LmsTable, WhoTables, load_who_tables
from services.registry.growth.zscores import (
    AC_FROM_DAY,
    CM_DECIMALS,
    FLAG_LIMITS,
    LYING_STANDING_CM,
    Z_DISPLAY_DECIMALS,
)

NOT_APPLICABLE = -1
WFL_TABLE_CODES = {0: None, 1: "wfl", 2: "wfh"}


@dataclass(frozen=True)
class BulkResult:
    """Result columns, one entry per input row.

    ``z`` maps indicator ("len", "wei", "wfl", "bmi", "hc", "ac") to float64 z-scores
    (NaN where not computed); ``flags`` to int8 (1 flagged, 0 not, -1 no z-score);
    ``classes`` ("len", "wei", "wfl", "bmi") to int8 indexes into
    ``classify.SCHEMES[indicator].classes`` (-1 none). ``errors``/``warnings`` are the
    bit masks of ``issues.ERRORS``/``issues.WARNINGS``. ``measure_used`` is 1 lying,
    2 standing, 0 none; ``wfl_table`` 1 weight-for-length, 2 weight-for-height, 0 none.
    """

    z: dict[str, np.ndarray]
    flags: dict[str, np.ndarray]
    classes: dict[str, np.ndarray]
    age_day: np.ndarray
    height_used_cm: np.ndarray
    measure_used: np.ndarray
    position_implausible: np.ndarray
    bmi: np.ndarray
    wfl_table: np.ndarray
    oedema: np.ndarray
    errors: np.ndarray
    warnings: np.ndarray

    def __len__(self) -> int:
        return len(self.errors)

    def class_codes(self, indicator: str) -> list[str | None]:
        return [class_code(indicator, int(i)) for i in self.classes[indicator]]


def _floats(values: Sequence[float] | np.ndarray | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    return np.asarray(values, dtype=np.float64)


def make_columns(
    sex: Sequence[int] | np.ndarray,
    age_days: Sequence[float] | np.ndarray,
    weight_kg: Sequence[float] | np.ndarray | None = None,
    height_cm: Sequence[float] | np.ndarray | None = None,
    measure: Sequence[str | None] | np.ndarray | None = None,
    oedema: Sequence[bool] | np.ndarray | None = None,
    head_cm: Sequence[float] | np.ndarray | None = None,
    muac_cm: Sequence[float] | np.ndarray | None = None,
    parse_errors: np.ndarray | None = None,
) -> InputColumns:
    """Typed columns from arrays. ``sex`` 1/2 (0 missing); NaN for a missing number;
    ``measure`` as "l"/"h"/None strings or as int8 codes (0 missing, 1 l, 2 h)."""
    sex_arr = np.asarray(sex, dtype=np.int64)
    n = len(sex_arr)
    if measure is None:
        measure_arr = np.zeros(n, dtype=np.int8)
    else:
        raw = np.asarray(measure)
        if raw.dtype.kind in "iu":
            measure_arr = raw.astype(np.int8)
        else:
            uniques, inverse = np.unique(raw.astype(str), return_inverse=True)
            codes = np.array([measure_code(u if u != "None" else None) for u in uniques])
            measure_arr = codes.astype(np.int8)[inverse.reshape(-1)]
    cols = InputColumns(
        sex=sex_arr,
        age_days=_floats(age_days, n),
        weight_kg=_floats(weight_kg, n),
        height_cm=_floats(height_cm, n),
        measure=measure_arr,
        oedema=np.zeros(n, dtype=bool) if oedema is None else np.asarray(oedema, dtype=bool),
        head_cm=_floats(head_cm, n),
        muac_cm=_floats(muac_cm, n),
        parse_errors=(
            np.zeros(n, dtype=np.uint64)
            if parse_errors is None
            else np.asarray(parse_errors, dtype=np.uint64)
        ),
    )
    for name in InputColumns.__dataclass_fields__:
        if len(getattr(cols, name)) != n:
            raise ValueError(f"column {name} has {len(getattr(cols, name))} rows, expected {n}")
    return cols


def _age_z(
    table: LmsTable, sex: np.ndarray, day: np.ndarray, y: np.ndarray, restricted: bool
) -> np.ndarray:
    l, m, s, _ = lookup(table, sex, day)  # noqa: E741
    return (restricted_zscore if restricted else lms_zscore)(y, l, m, s)


def _flags(indicator: str, z: np.ndarray) -> np.ndarray:
    low, high = FLAG_LIMITS[indicator]
    shown = np.round(z, Z_DISPLAY_DECIMALS)
    with np.errstate(invalid="ignore"):
        flagged = (shown < low) | (shown > high)
    return np.where(np.isnan(z), NOT_APPLICABLE, flagged).astype(np.int8)


def compute_bulk(cols: InputColumns, tables: WhoTables | None = None) -> BulkResult:
    """z-scores, flags, classes, errors and warnings for every row of ``cols``."""
    tables = tables or load_who_tables()
    n = len(cols)
    errors = validate_columns(cols)
    ok = errors == 0
    nan = np.nan
    warnings = np.zeros(n, dtype=np.uint64)

    def warn(mask: np.ndarray, code: str, field: str) -> None:
        warnings[mask] |= np.uint64(WARNING_BITS[code, field])

    sex = np.where(ok, cols.sex, 0)
    age = np.where(ok, cols.age_days, nan)
    day = np.where(ok, lookup_days(age), NOT_APPLICABLE)
    oedema = ok & cols.oedema
    weight = np.where(ok, cols.weight_kg, nan)
    weight_scored = np.where(oedema, nan, weight)
    given_weight = ~np.isnan(weight)

    with np.errstate(invalid="ignore"):
        under_9_months = age / DAYS_PER_MONTH < STANDING_FROM_MONTHS
    implausible = ok & (cols.measure == MEASURE_STANDING) & under_9_months
    measure = np.where(implausible, MEASURE_MISSING, cols.measure)
    warn(implausible, "standing_under_9_months", "measure")

    by_length = day < HEIGHT_FROM_DAY
    height = np.where(ok, cols.height_cm, nan)
    adjusted = np.where(
        by_length & (measure == MEASURE_STANDING),
        height + LYING_STANDING_CM,
        np.where(~by_length & (measure == MEASURE_LYING), height - LYING_STANDING_CM, height),
    )
    height_used = np.round(adjusted, CM_DECIMALS)
    given_height = ~np.isnan(height_used)

    z = {
        "len": _age_z(tables.len, sex, day, height_used, restricted=False),
        "wei": _age_z(tables.wei, sex, day, weight_scored, restricted=True),
    }

    l_l, m_l, s_l, in_l = interpolated_lookup(tables.wfl, np.where(by_length, sex, 0), height_used)
    l_h, m_h, s_h, in_h = interpolated_lookup(tables.wfh, np.where(by_length, 0, sex), height_used)
    inside = np.where(by_length, in_l, in_h)
    both = given_weight & given_height
    warn(both & by_length & ~inside, "wfl_out_of_table", "height_cm")
    warn(both & ~by_length & ~inside, "wfh_out_of_table", "height_cm")
    wfl_table = np.where(both & inside, np.where(by_length, 1, 2), 0).astype(np.int8)
    z["wfl"] = restricted_zscore(
        weight_scored,
        np.where(by_length, l_l, l_h),
        np.where(by_length, m_l, m_h),
        np.where(by_length, s_l, s_h),
    )

    metres = height_used / 100.0
    bmi = weight / (metres * metres)
    z["bmi"] = _age_z(tables.bmi, sex, day, np.where(oedema, nan, bmi), restricted=True)
    z["hc"] = _age_z(tables.hc, sex, day, np.where(ok, cols.head_cm, nan), restricted=False)

    muac = np.where(ok, cols.muac_cm, nan)
    too_young = day < AC_FROM_DAY
    warn(~np.isnan(muac) & too_young, "muac_under_3_months", "muac_cm")
    z["ac"] = _age_z(tables.ac, sex, day, np.where(too_young, nan, muac), restricted=True)
    warn(oedema, "oedema_weight_not_scored", "oedema")

    flags = {name: _flags(name, z[name]) for name in INDICATORS}
    classes = {
        name: classify_indexes(name, z[name], flags[name], oedema) for name in CLASSIFIED_INDICATORS
    }
    return BulkResult(
        z=z,
        flags=flags,
        classes=classes,
        age_day=day,
        height_used_cm=height_used,
        measure_used=np.where(given_height, np.where(by_length, 1, 2), 0).astype(np.int8),
        position_implausible=implausible,
        bmi=bmi,
        wfl_table=wfl_table,
        oedema=oedema,
        errors=errors,
        warnings=warnings,
    )


def compute_zscores_bulk(
    sex: Sequence[int] | np.ndarray,
    age_days: Sequence[float] | np.ndarray,
    weight_kg: Sequence[float] | np.ndarray | None = None,
    height_cm: Sequence[float] | np.ndarray | None = None,
    measure: Sequence[str | None] | np.ndarray | None = None,
    oedema: Sequence[bool] | np.ndarray | None = None,
    head_cm: Sequence[float] | np.ndarray | None = None,
    muac_cm: Sequence[float] | np.ndarray | None = None,
    tables: WhoTables | None = None,
) -> BulkResult:
    """Column arrays in, result columns out (see :func:`make_columns` for the encodings)."""
    cols = make_columns(sex, age_days, weight_kg, height_cm, measure, oedema, head_cm, muac_cm)
    return compute_bulk(cols, tables)
