"""Nutritional status from z-scores (Permenkes 2/2020 with the WHO 2006 cut-offs).

Cut-offs on the negative side include their lower bound in the milder class
(z = -3 is "stunted", z = -2 is "normal"); on the positive side the bound belongs to
the milder class too (z = 3 is "normal" for length, z = 1 is "normal" for weight).
Classification uses the full-precision z-score; flagged z-scores get none.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StatusClass:
    code: str
    label: dict[str, str]


@dataclass(frozen=True)
class Scheme:
    indicator: str
    lower_cutoffs: tuple[float, ...]  # z >= cut-off moves one class up
    upper_cutoffs: tuple[float, ...]  # z > cut-off moves one class up
    classes: tuple[StatusClass, ...]

    def index(self, z: float) -> int:
        return sum(z >= c for c in self.lower_cutoffs) + sum(z > c for c in self.upper_cutoffs)

    def indexes(self, z: np.ndarray) -> np.ndarray:
        out = np.zeros(z.shape, dtype=np.int8)
        for c in self.lower_cutoffs:
            out += z >= c
        for c in self.upper_cutoffs:
            out += z > c
        return out


_WASTING = (
    StatusClass("severely_wasted", {"en": "Severely wasted", "id": "Gizi buruk"}),
    StatusClass("wasted", {"en": "Wasted", "id": "Gizi kurang"}),
    StatusClass("normal", {"en": "Normal", "id": "Gizi baik (normal)"}),
    StatusClass(
        "possible_risk_of_overweight",
        {"en": "Possible risk of overweight", "id": "Berisiko gizi lebih"},
    ),
    StatusClass("overweight", {"en": "Overweight", "id": "Gizi lebih"}),
    StatusClass("obese", {"en": "Obese", "id": "Obesitas"}),
)

SCHEMES: dict[str, Scheme] = {
    "len": Scheme(
        "len",
        (-3.0, -2.0),
        (3.0,),
        (
            StatusClass("severely_stunted", {"en": "Severely stunted", "id": "Sangat pendek"}),
            StatusClass("stunted", {"en": "Stunted", "id": "Pendek"}),
            StatusClass("normal", {"en": "Normal", "id": "Normal"}),
            StatusClass("tall", {"en": "Tall", "id": "Tinggi"}),
        ),
    ),
    "wei": Scheme(
        "wei",
        (-3.0, -2.0),
        (1.0,),
        (
            StatusClass(
                "severely_underweight",
                {"en": "Severely underweight", "id": "Berat badan sangat kurang"},
            ),
            StatusClass("underweight", {"en": "Underweight", "id": "Berat badan kurang"}),
            StatusClass("normal", {"en": "Normal", "id": "Berat badan normal"}),
            StatusClass(
                "risk_of_overweight",
                {"en": "Risk of overweight", "id": "Risiko berat badan lebih"},
            ),
        ),
    ),
    "wfl": Scheme("wfl", (-3.0, -2.0), (1.0, 2.0, 3.0), _WASTING),
    "bmi": Scheme("bmi", (-3.0, -2.0), (1.0, 2.0, 3.0), _WASTING),
}

# WHO anthro counts a child with oedema below -3 SD in every weight-based indicator.
OEDEMA_INDICATORS = ("wei", "wfl", "bmi")


@dataclass(frozen=True)
class Classification:
    indicator: str
    code: str
    label: dict[str, str]
    by_oedema: bool = False


def classify(
    indicator: str, z: float | None, flagged: bool | None, oedema: bool = False
) -> Classification | None:
    """Class of one z-score; None when there is no z-score or it is flagged.

    With oedema the weight-based indicators are "severe" whatever the weight.
    """
    scheme = SCHEMES[indicator]
    if oedema and indicator in OEDEMA_INDICATORS:
        severe = scheme.classes[0]
        return Classification(indicator, severe.code, severe.label, by_oedema=True)
    if z is None or flagged:
        return None
    cls = scheme.classes[scheme.index(z)]
    return Classification(indicator, cls.code, cls.label)


def classify_indexes(
    indicator: str, z: np.ndarray, flagged: np.ndarray, oedema: np.ndarray
) -> np.ndarray:
    """Vectorised :func:`classify`: class index into ``SCHEMES[indicator].classes``, -1 for none.

    ``flagged`` is 1 for a flagged z-score (0 or -1 otherwise).
    """
    scheme = SCHEMES[indicator]
    with np.errstate(invalid="ignore"):
        out = np.where(np.isnan(z) | (flagged == 1), -1, scheme.indexes(z)).astype(np.int8)
    if indicator in OEDEMA_INDICATORS:
        out[oedema] = 0
    return out


def class_code(indicator: str, index: int) -> str | None:
    return SCHEMES[indicator].classes[index].code if index >= 0 else None
