"""Row validation on input columns; a single row is validated as a one-row column set."""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from services.registry.growth.age import DAYS_PER_MONTH, MAX_AGE_MONTHS
from services.registry.growth.issues import ERROR_BITS
from services.registry.growth.limits import LIMITS, OUT_OF_RANGE, UNIT_SLIPS
from services.registry.growth.models import MeasurementInput

MEASURE_MISSING, MEASURE_LYING, MEASURE_STANDING, MEASURE_INVALID = 0, 1, 2, -1
SEX_MISSING, SEX_INVALID = 0, -1
OEDEMA_NO, OEDEMA_YES, OEDEMA_INVALID = 0, 1, -1

# Accepted spellings (lower case). 1/2, M/F and y/n/1/2 as WHO anthro; L/P (laki-laki,
# perempuan), PB/TB (panjang badan lying, tinggi badan standing), ya/tidak as on
# Indonesian forms.
SEX_SPELLINGS = {"1": 1, "2": 2, "1.0": 1, "2.0": 2, "m": 1, "f": 2, "l": 1, "p": 2}
SEX_SPELLINGS |= {"male": 1, "female": 2, "laki-laki": 1, "perempuan": 2}
MEASURE_SPELLINGS = {"l": MEASURE_LYING, "h": MEASURE_STANDING}
MEASURE_SPELLINGS |= {"pb": MEASURE_LYING, "tb": MEASURE_STANDING}
OEDEMA_SPELLINGS = {"y": 1, "yes": 1, "ya": 1, "1": 1, "true": 1}
OEDEMA_SPELLINGS |= {"n": 0, "no": 0, "tidak": 0, "2": 0, "0": 0, "false": 0}

MEASUREMENT_FIELDS = ("weight_kg", "height_cm", "head_cm", "muac_cm")
_AGE_INPUT_ERRORS = (
    ERROR_BITS["not_a_number", "age_days"]
    | ERROR_BITS["date_invalid", "birth_date"]
    | ERROR_BITS["date_invalid", "visit_date"]
    | ERROR_BITS["visit_before_birth", "visit_date"]
)


@dataclass(frozen=True)
class InputColumns:
    """Typed input columns, all the same length.

    ``sex``: int64, 1 or 2, 0 when missing, anything else (-1) is invalid.
    ``age_days`` and the measurements: float64, NaN when missing.
    ``measure``: int8 code, 0 missing, 1 lying, 2 standing, -1 invalid.
    ``parse_errors``: uint64 error bits already found while reading the cells.
    """

    sex: np.ndarray
    age_days: np.ndarray
    weight_kg: np.ndarray
    height_cm: np.ndarray
    measure: np.ndarray
    oedema: np.ndarray
    head_cm: np.ndarray
    muac_cm: np.ndarray
    parse_errors: np.ndarray

    def __len__(self) -> int:
        return len(self.sex)


def spelled(value: object, spellings: Mapping[str, int], missing: int, invalid: int) -> int:
    """Code of a categorical cell: ``missing`` if empty, ``invalid`` if not a known spelling."""
    text = "" if value is None else str(value).strip().lower()
    return missing if not text else spellings.get(text, invalid)


def measure_code(value: object) -> int:
    return spelled(value, MEASURE_SPELLINGS, MEASURE_MISSING, MEASURE_INVALID)


def _number(value: object) -> tuple[float, bool]:
    """(value as float, parsed?) for a scalar input; None is missing (NaN)."""
    if value is None:
        return np.nan, True
    if isinstance(value, bool):
        return np.nan, False
    try:
        return float(value), True  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan, False


def columns_from_input(m: MeasurementInput) -> InputColumns:
    """One row as columns, so that it goes through the same validation as bulk rows."""
    errors = 0
    values: dict[str, float] = {}
    for name in ("age_days", *MEASUREMENT_FIELDS):
        value, parsed = _number(getattr(m, name))
        if not parsed:
            errors |= ERROR_BITS["not_a_number", name]
        values[name] = value
    if isinstance(m.oedema, bool):
        oedema = OEDEMA_YES if m.oedema else OEDEMA_NO
    else:
        oedema = spelled(m.oedema, OEDEMA_SPELLINGS, OEDEMA_NO, OEDEMA_INVALID)
    if oedema == OEDEMA_INVALID:
        errors |= ERROR_BITS["oedema_invalid", "oedema"]
    sex = SEX_INVALID if isinstance(m.sex, bool) else m.sex
    return InputColumns(
        sex=np.array([spelled(sex, SEX_SPELLINGS, SEX_MISSING, SEX_INVALID)], dtype=np.int64),
        age_days=np.array([values["age_days"]]),
        weight_kg=np.array([values["weight_kg"]]),
        height_cm=np.array([values["height_cm"]]),
        measure=np.array([measure_code(m.measure)], dtype=np.int8),
        oedema=np.array([oedema == OEDEMA_YES]),
        head_cm=np.array([values["head_cm"]]),
        muac_cm=np.array([values["muac_cm"]]),
        parse_errors=np.array([errors], dtype=np.uint64),
    )


def _set(errors: np.ndarray, mask: np.ndarray, code: str, field: str) -> None:
    errors[mask] |= np.uint64(ERROR_BITS[code, field])


def validate_columns(cols: InputColumns) -> np.ndarray:
    """Error bits per row (uint64; 0 = valid), including the parse errors passed in."""
    errors = cols.parse_errors.astype(np.uint64, copy=True)
    _set(errors, cols.sex == SEX_MISSING, "sex_missing", "sex")
    unknown_sex = (cols.sex != SEX_MISSING) & (cols.sex != 1) & (cols.sex != 2)
    _set(errors, unknown_sex, "sex_invalid", "sex")

    age = cols.age_days
    age_input_error = (cols.parse_errors & np.uint64(_AGE_INPUT_ERRORS)) != 0
    with np.errstate(invalid="ignore"):
        _set(errors, np.isnan(age) & ~age_input_error, "age_missing", "age_days")
        _set(errors, age < 0, "age_negative", "age_days")
        # WHO anthro: scored while the unrounded age in months is < 60 (day 1826 still is).
        _set(errors, age / DAYS_PER_MONTH >= MAX_AGE_MONTHS, "age_60_months_or_more", "age_days")

        any_measurement = np.zeros(len(cols), dtype=bool)
        for name in MEASUREMENT_FIELDS:
            value = getattr(cols, name)
            low, high = LIMITS[name]
            slip_code, factor = UNIT_SLIPS[name]
            given = ~np.isnan(value)
            unreadable = (cols.parse_errors & np.uint64(ERROR_BITS["not_a_number", name])) != 0
            any_measurement |= given | unreadable
            bad = given & ~((value >= low) & (value <= high))
            scaled = value / factor
            slip = bad & (value > high) & (scaled >= low) & (scaled <= high)
            _set(errors, slip, slip_code, name)
            _set(errors, bad & ~slip, OUT_OF_RANGE[name], name)
    _set(errors, ~any_measurement, "no_measurement", "measurements")
    _set(errors, cols.measure == MEASURE_INVALID, "measure_invalid", "measure")
    return errors
