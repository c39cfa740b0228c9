"""Expected growth values, computed independently of the registry: WHO LMS rows read
from the reference files (tests/unit/growth/growth_expect.py), cut-offs written out from
DOMAIN.md's classification table."""

from tests.unit.growth.growth_expect import lms_z, restricted_z, sd_value, who_lms

# The payload of measurement.* events, as listed in docs/CONTRACTS.md.
MEASUREMENT_PAYLOAD_KEYS = {
    "measurement_id",
    "person_id",
    "household_id",
    "village_code",
    "visit_date",
    "sex",
    "birth_date",
    "age_days",
    "weight_kg",
    "height_cm",
    "measure",
    "oedema",
    "head_cm",
    "muac_cm",
    "place",
    "zlen",
    "zwei",
    "zwfl",
    "zbmi",
    "zhc",
    "zac",
    "flen",
    "fwei",
    "fwfl",
    "fbmi",
    "fhc",
    "fac",
    "class_len",
    "class_wei",
    "class_wfl",
    "class_bmi",
    "supersedes",
}


def zlen(sex: int, age_day: int, length_cm: float) -> float:
    return lms_z(length_cm, who_lms("lenanthro", sex, str(age_day)))


def zwei(sex: int, age_day: int, weight_kg: float) -> float:
    return restricted_z(weight_kg, who_lms("weianthro", sex, str(age_day)))


def zwfl(sex: int, length_cm: float, weight_kg: float) -> float:
    """Weight-for-length at a length given to 0.1 cm (a row of the table)."""
    return restricted_z(weight_kg, who_lms("wflanthro", sex, f"{length_cm:g}"))


def length_at(sex: int, age_day: int, z: float) -> float:
    """The length at z-score ``z`` for this age: M(1 + L·S·z)^(1/L)."""
    return sd_value(z, who_lms("lenanthro", sex, str(age_day)))


def weight_at(sex: int, age_day: int, z: float) -> float:
    return sd_value(z, who_lms("weianthro", sex, str(age_day)))


def median_length(sex: int, age_day: int) -> float:
    return who_lms("lenanthro", sex, str(age_day))[1]


def class_len(z: float) -> str:
    if z < -3:
        return "severely_stunted"
    if z < -2:
        return "stunted"
    return "normal" if z <= 3 else "tall"


def class_wei(z: float) -> str:
    if z < -3:
        return "severely_underweight"
    if z < -2:
        return "underweight"
    return "normal" if z <= 1 else "risk_of_overweight"


def class_wfl(z: float) -> str:
    if z < -3:
        return "severely_wasted"
    if z < -2:
        return "wasted"
    if z <= 1:
        return "normal"
    if z <= 2:
        return "possible_risk_of_overweight"
    return "overweight" if z <= 3 else "obese"
