"""The LMS (Box-Cox) z-score formulas of the WHO Child Growth Standards.

Both the single-row and the bulk path call these on numpy arrays (one element for a
single row), so the same ufunc loops produce bit-identical numbers in both.
"""

import numpy as np

from services.registry.growth.who_tables import LmsTable


def lms_zscore(y: np.ndarray, l: np.ndarray, m: np.ndarray, s: np.ndarray) -> np.ndarray:  # noqa: E741
    """z = ((y/M)^L - 1) / (S·L)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return ((y / m) ** l - 1.0) / (s * l)


def _sd(k: float, l: np.ndarray, m: np.ndarray, s: np.ndarray) -> np.ndarray:  # noqa: E741
    return m * (1.0 + l * s * k) ** (1.0 / l)


def restricted_zscore(
    y: np.ndarray,
    l: np.ndarray,  # noqa: E741
    m: np.ndarray,
    s: np.ndarray,
) -> np.ndarray:
    """LMS z-score with WHO's restricted extrapolation beyond ±3 SD.

    Beyond ±3 the distance is measured in units of the 2–3 SD interval on the
    measurement scale, because the Box-Cox tail would otherwise stretch extreme
    weights into implausibly small z-scores (WHO 2006 methods, chapter 7).
    """
    z = lms_zscore(y, l, m, s)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        sd3pos = _sd(3.0, l, m, s)
        sd2pos = _sd(2.0, l, m, s)
        sd2neg = _sd(-2.0, l, m, s)
        sd3neg = _sd(-3.0, l, m, s)
        above = 3.0 + (y - sd3pos) / (sd3pos - sd2pos)
        below = -3.0 + (y - sd3neg) / (sd2neg - sd3neg)
    return np.where(z > 3.0, above, np.where(z < -3.0, below, z))


def lookup(
    table: LmsTable, sex: np.ndarray, index: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """L, M, S at integer ``index`` and whether it lies in the table (else L, M, S are NaN)."""
    pos = index - table.start
    inside = (pos >= 0) & (pos < table.m.shape[1]) & ((sex == 1) | (sex == 2))
    row = np.where(inside, sex - 1, 0)
    col = np.where(inside, pos, 0)
    nan = np.nan
    return (
        np.where(inside, table.l[row, col], nan),
        np.where(inside, table.m[row, col], nan),
        np.where(inside, table.s[row, col], nan),
        inside,
    )


def interpolated_lookup(
    table: LmsTable, sex: np.ndarray, length_cm: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """L, M, S at a length between the 0.1 cm rows, linearly interpolated as WHO anthro does.

    Returns NaN and ``inside=False`` outside the table's length range.
    """
    with np.errstate(invalid="ignore"):
        tenths = length_cm * 10.0
        # Absorb float noise such as 70.3 * 10 = 702.99999… so exact rows stay exact.
        low = np.floor(tenths + 1e-9)
        frac = tenths - low
        frac = np.where(frac < 1e-9, 0.0, frac)
        low_i = np.where(np.isfinite(low), low, -1).astype(np.int64)
    inside = (length_cm >= table.start / 10.0) & (length_cm <= table.stop / 10.0)
    inside &= (sex == 1) | (sex == 2)
    row = np.where(inside, sex - 1, 0)
    lo = np.where(inside, low_i - table.start, 0)
    hi = np.minimum(lo + 1, table.m.shape[1] - 1)
    out = []
    for values in (table.l, table.m, table.s):
        v_lo = values[row, lo]
        v = v_lo + frac * (values[row, hi] - v_lo)
        out.append(np.where(inside, np.where(frac > 0.0, v, v_lo), np.nan))
    return out[0], out[1], out[2], inside
