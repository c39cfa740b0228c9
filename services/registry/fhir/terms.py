"""Code systems, identifier systems and the growth quantities as FHIR sees them.

Identifier systems and LOINC codes follow SATUSEHAT (DOMAIN.md). The project's own
systems (registry ids, z-score components, growth classes) live under ``urn:kkb:``: a
deployment that owns a domain may publish them under it instead (docs/FHIR.md).
"""

from dataclasses import dataclass

from services.registry.growth.classify import SCHEMES

NIK_SYSTEM = "https://fhir.kemkes.go.id/id/nik"
KK_SYSTEM = "https://fhir.kemkes.go.id/id/kk"
ADMINISTRATIVE_CODE = "https://fhir.kemkes.go.id/r4/StructureDefinition/administrativeCode"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

PERSON_SYSTEM = "urn:kkb:registry:person"
HOUSEHOLD_SYSTEM = "urn:kkb:registry:household"
MEASUREMENT_SYSTEM = "urn:kkb:registry:measurement"
ZSCORE_SYSTEM = "urn:kkb:codesystem:who-growth-zscore"
GROWTH_CLASS_SYSTEM = "urn:kkb:codesystem:growth-class"
RELATIONSHIP_SYSTEM = "urn:kkb:codesystem:siak-relationship"
MEMBER_RELATIONSHIP_EXTENSION = "urn:kkb:extension:household-relationship"
PROBLEM_SYSTEM = "urn:kkb:problem"

FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class Quantity:
    """One measured (or derived) quantity of a visit and its Observation."""

    kind: str  # suffix of the Observation id: "<measurement id>-<kind>"
    loinc: str
    display: str
    unit: str  # UCUM code, also used as the human unit
    column: str  # measurement column holding the value
    indicators: tuple[str, ...]  # z-scores reported as components


WEIGHT = Quantity("weight", "29463-7", "Body weight", "kg", "weight_kg", ("wei", "wfl"))
HEIGHT = Quantity("height", "8302-2", "Body height", "cm", "height_cm", ("len",))
LENGTH = Quantity("length", "8306-3", "Body height --lying", "cm", "height_cm", ("len",))
HEAD = Quantity("head", "9843-4", "Head Occipital-frontal circumference", "cm", "head_cm", ("hc",))
ARM = Quantity("arm", "56072-2", "Circumference Mid upper arm", "cm", "muac_cm", ("ac",))
BMI = Quantity("bmi", "39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "bmi", ("bmi",))

QUANTITIES: tuple[Quantity, ...] = (WEIGHT, LENGTH, HEIGHT, HEAD, ARM, BMI)
BY_LOINC: dict[str, Quantity] = {q.loinc: q for q in QUANTITIES}
BY_KIND: dict[str, Quantity] = {q.kind: q for q in QUANTITIES}


@dataclass(frozen=True)
class ZScore:
    indicator: str
    code: str
    label: dict[str, str]


ZSCORES: dict[str, ZScore] = {
    z.indicator: z
    for z in (
        ZScore(
            "len",
            "zlen",
            {
                "en": "WHO 2006 length/height-for-age z-score",
                "id": "Z-skor panjang/tinggi badan menurut umur (WHO 2006)",
            },
        ),
        ZScore(
            "wei",
            "zwei",
            {
                "en": "WHO 2006 weight-for-age z-score",
                "id": "Z-skor berat badan menurut umur (WHO 2006)",
            },
        ),
        ZScore(
            "wfl",
            "zwfl",
            {
                "en": "WHO 2006 weight-for-length/height z-score",
                "id": "Z-skor berat badan menurut panjang/tinggi badan (WHO 2006)",
            },
        ),
        ZScore(
            "bmi",
            "zbmi",
            {"en": "WHO 2006 BMI-for-age z-score", "id": "Z-skor IMT menurut umur (WHO 2006)"},
        ),
        ZScore(
            "hc",
            "zhc",
            {
                "en": "WHO 2006 head circumference-for-age z-score",
                "id": "Z-skor lingkar kepala menurut umur (WHO 2006)",
            },
        ),
        ZScore(
            "ac",
            "zac",
            {
                "en": "WHO 2006 arm circumference-for-age z-score",
                "id": "Z-skor lingkar lengan atas menurut umur (WHO 2006)",
            },
        ),
    )
}
ZSCORE_UNIT = {"unit": "SD", "system": UCUM, "code": "{SD}"}

# Growth classes as HL7 interpretation codes: how far from normal, in which direction.
_V3 = {
    "LL": "Critical low",
    "L": "Low",
    "N": "Normal",
    "H": "High",
    "HH": "Critical high",
}
_V3_BY_CLASS = {
    "severely_stunted": "LL",
    "stunted": "L",
    "tall": "H",
    "severely_underweight": "LL",
    "underweight": "L",
    "risk_of_overweight": "H",
    "severely_wasted": "LL",
    "wasted": "L",
    "possible_risk_of_overweight": "H",
    "overweight": "H",
    "obese": "HH",
    "normal": "N",
}
CLASS_LABELS: dict[str, dict[str, dict[str, str]]] = {
    name: {c.code: c.label for c in scheme.classes} for name, scheme in SCHEMES.items()
}
IMPLAUSIBLE = {
    "code": "implausible",
    "label": {
        "en": "Biologically implausible value (WHO flag)",
        "id": "Nilai tidak masuk akal secara biologis (tanda WHO)",
    },
}


def v3_interpretation(class_code: str) -> dict[str, str]:
    code = _V3_BY_CLASS[class_code]
    return {"system": V3_INTERPRETATION, "code": code, "display": _V3[code]}
