"""Expected values computed independently of the engine: WHO rows read with plain csv,
the LMS and restricted formulas written out from DOMAIN.md."""

import csv
from functools import cache

from common.reference_data import reference_data_dir

Lms = tuple[float, float, float]


@cache
def _rows(name: str) -> dict[tuple[int, str], Lms]:
    path = reference_data_dir() / "who-growth-standards" / f"{name}.csv"
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        # Key on the index cell as written in the file ("45", "70.3", "731").
        return {(int(r[0]), r[1]): (float(r[2]), float(r[3]), float(r[4])) for r in reader}


def who_lms(table: str, sex: int, index: str) -> Lms:
    """L, M, S of one row of a WHO table, e.g. ``who_lms("wflanthro", 1, "70.3")``."""
    return _rows(table)[sex, index]


def lms_z(y: float, lms: Lms) -> float:
    l, m, s = lms  # noqa: E741
    return ((y / m) ** l - 1) / (s * l)


def sd_value(k: float, lms: Lms) -> float:
    l, m, s = lms  # noqa: E741
    return m * (1 + l * s * k) ** (1 / l)


def restricted_z(y: float, lms: Lms) -> float:
    """WHO restricted z, written out from DOMAIN.md's formula."""
    z = lms_z(y, lms)
    if z > 3:
        sd3, sd2 = sd_value(3, lms), sd_value(2, lms)
        return 3 + (y - sd3) / (sd3 - sd2)
    if z < -3:
        sd3, sd2 = sd_value(-3, lms), sd_value(-2, lms)
        return -3 + (y - sd3) / (sd2 - sd3)
    return z
