"""Absolute plausibility limits for raw inputs, before any z-score.

Wider than the WHO flags: a value outside them is a typing or unit slip at any age
0–59 months (e.g. beyond ±6 SD of length-for-age at both day 0 and day 1826), so the
row is sent back instead of being scored and flagged.
"""

LIMITS: dict[str, tuple[float, float]] = {
    "weight_kg": (0.3, 60.0),
    "height_cm": (35.0, 140.0),
    "head_cm": (20.0, 65.0),
    "muac_cm": (5.0, 35.0),
}

# A value too large by exactly a unit factor is reported as that unit slip.
UNIT_SLIPS: dict[str, tuple[str, float]] = {
    "weight_kg": ("weight_in_grams", 1000.0),
    "height_cm": ("height_in_mm", 10.0),
    "head_cm": ("head_in_mm", 10.0),
    "muac_cm": ("muac_in_mm", 10.0),
}

OUT_OF_RANGE: dict[str, str] = {
    "weight_kg": "weight_out_of_range",
    "height_cm": "height_out_of_range",
    "head_cm": "head_out_of_range",
    "muac_cm": "muac_out_of_range",
}
