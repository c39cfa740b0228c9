"""Registry records as FHIR R4 resources (plain dicts, no I/O).

Masking follows the rest of the API: without the personal-data right and a stated
purpose there is no NIK or KK identifier (the registry id identifies the record
instead), names become initials, birth dates keep the year, and the resource carries
the HL7 ``MASKED`` security label.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from common.pii import mask_birth_date, mask_name
from services.registry.fhir.terms import (
    ADMINISTRATIVE_CODE,
    BMI,
    BY_KIND,
    CLASS_LABELS,
    GROWTH_CLASS_SYSTEM,
    HEIGHT,
    HOUSEHOLD_SYSTEM,
    IMPLAUSIBLE,
    KK_SYSTEM,
    LENGTH,
    LOINC,
    MEASUREMENT_SYSTEM,
    MEMBER_RELATIONSHIP_EXTENSION,
    NIK_SYSTEM,
    OBSERVATION_CATEGORY,
    PERSON_SYSTEM,
    PROBLEM_SYSTEM,
    QUANTITIES,
    RELATIONSHIP_SYSTEM,
    UCUM,
    WEIGHT,
    ZSCORE_SYSTEM,
    ZSCORE_UNIT,
    ZSCORES,
    Quantity,
    v3_interpretation,
)

MASKED_LABEL = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "MASKED",
    "display": "masked",
}
VITAL_SIGNS = {
    "coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]
}
REGION_SYSTEM = "urn:kkb:codesystem:kemendagri-region"
Z_DECIMALS = 2
GENDER = {1: "male", 2: "female"}


def instant(value: datetime) -> str:
    """A FHIR instant: always with a time zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _text(label: dict[str, str], lang: str) -> str:
    return label.get(lang) or label["en"]


# --- Observation ----------------------------------------------------------------------------


def observation_id(measurement_id: Any, kind: str) -> str:
    return f"{measurement_id}-{kind}"


def split_observation_id(observation_id: str) -> tuple[str, str] | None:
    """``"<uuid>-weight"`` → ``("<uuid>", "weight")``; None when it is not one of ours."""
    measurement, sep, kind = observation_id[:36], observation_id[36:37], observation_id[37:]
    if sep != "-" or kind not in BY_KIND:
        return None
    return measurement, kind


def quantities_of(row: dict[str, Any]) -> list[Quantity]:
    """The Observations one visit yields: one per measured value, and BMI when known."""
    out: list[Quantity] = []
    if row["weight_kg"] is not None:
        out.append(WEIGHT)
    if row["height_cm"] is not None:
        # The position as measured; the engine's adjusted value stays in the record.
        position = row["measure"] or row["measure_used"]
        out.append(HEIGHT if position == "h" else LENGTH)
    out += [q for q in QUANTITIES if q.kind in ("head", "arm") and row[q.column] is not None]
    if row["bmi"] is not None:
        out.append(BMI)
    return out


def _status(row: dict[str, Any]) -> str:
    if row["superseded_by"] is not None:
        return "entered-in-error"
    return "corrected" if row["supersedes"] is not None else "final"


def _zscore_component(row: dict[str, Any], indicator: str, lang: str) -> dict[str, Any] | None:
    z = row[f"z{indicator}"]
    if z is None:
        return None
    spec = ZSCORES[indicator]
    component: dict[str, Any] = {
        "code": {
            "coding": [{"system": ZSCORE_SYSTEM, "code": spec.code, "display": spec.label["en"]}],
            "text": _text(spec.label, lang),
        },
        "valueQuantity": {"value": round(z, Z_DECIMALS) + 0.0, **ZSCORE_UNIT},
    }
    interpretation = []
    class_code = row.get(f"class_{indicator}")
    if class_code is not None:
        label = CLASS_LABELS[indicator][class_code]
        interpretation.append(
            {
                "coding": [
                    {"system": GROWTH_CLASS_SYSTEM, "code": class_code, "display": label["en"]},
                    v3_interpretation(class_code),
                ],
                "text": _text(label, lang),
            }
        )
    if row[f"f{indicator}"]:
        interpretation.append(
            {
                "coding": [
                    {
                        "system": GROWTH_CLASS_SYSTEM,
                        "code": IMPLAUSIBLE["code"],
                        "display": IMPLAUSIBLE["label"]["en"],
                    }
                ],
                "text": _text(IMPLAUSIBLE["label"], lang),
            }
        )
    if interpretation:
        component["interpretation"] = interpretation
    return component


def _value(row: dict[str, Any], q: Quantity) -> float:
    value = row[q.column]
    return round(value, Z_DECIMALS) + 0.0 if q is BMI else value


def observation(
    row: dict[str, Any],
    q: Quantity,
    subject: dict[str, Any],
    lang: str,
    *,
    imported: Sequence[tuple[str, str]] = (),
    siblings: Sequence[Quantity] = (),
) -> dict[str, Any]:
    """One quantity of a stored visit. ``imported``: the identifiers the Observation came
    with from another system (kept so that system recognises its own records)."""
    oid = observation_id(row["id"], q.kind)
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "meta": {"versionId": str(row["version"]), "lastUpdated": instant(row["recorded_at"])},
        "identifier": [
            {"system": MEASUREMENT_SYSTEM, "value": oid},
            *({"system": s, "value": v} for s, v in imported),
        ],
        "status": _status(row),
        "category": [VITAL_SIGNS],
        "code": {"coding": [{"system": LOINC, "code": q.loinc, "display": q.display}]},
        "subject": subject,
        "effectiveDateTime": row["visit_date"].isoformat(),
        "issued": instant(row["recorded_at"]),
        "valueQuantity": {"value": _value(row, q), "unit": q.unit, "system": UCUM, "code": q.unit},
    }
    components = [c for i in q.indicators if (c := _zscore_component(row, i, lang)) is not None]
    if components:
        resource["component"] = components
    if q is BMI:
        sources = [s for s in siblings if s in (WEIGHT, LENGTH, HEIGHT)]
        if sources:
            resource["derivedFrom"] = [
                {"reference": f"Observation/{observation_id(row['id'], s.kind)}"} for s in sources
            ]
    if q is WEIGHT and row["oedema"]:
        resource["note"] = [
            {"text": "Bilateral pitting oedema: no weight-based z-scores (WHO)."},
        ]
    return resource


def observations(
    row: dict[str, Any],
    subject: dict[str, Any],
    lang: str,
    imported: dict[str, list[tuple[str, str]]] | None = None,
) -> list[dict[str, Any]]:
    """Every Observation of one stored visit; ``imported`` by LOINC code."""
    quantities = quantities_of(row)
    return [
        observation(
            row, q, subject, lang, imported=(imported or {}).get(q.loinc, ()), siblings=quantities
        )
        for q in quantities
    ]


# --- Patient and references -----------------------------------------------------------------


def person_reference(person_id: Any, nik: str | None, name: str | None, unmasked: bool) -> dict:
    """A reference to a child: with its NIK (SATUSEHAT) only when unmasked."""
    reference: dict[str, Any] = {"reference": f"Patient/{person_id}"}
    if unmasked and nik:
        reference["identifier"] = {"use": "official", "system": NIK_SYSTEM, "value": nik}
        if name:
            reference["display"] = name
    else:
        reference["identifier"] = {"system": PERSON_SYSTEM, "value": str(person_id)}
    return reference


def administrative_code(village_code: str) -> dict[str, Any]:
    """SATUSEHAT's address extension: Kemendagri codes without dots, level by level."""
    parts = village_code.split(".")
    levels = ("province", "city", "district", "village")
    return {
        "url": ADMINISTRATIVE_CODE,
        "extension": [
            {"url": level, "valueCode": "".join(parts[: i + 1])}
            for i, level in enumerate(levels[: len(parts)])
        ],
    }


def _meta(masked: bool, version: int | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if version is not None:
        meta["versionId"] = str(version)
    if masked:
        meta["security"] = [MASKED_LABEL]
    return meta


def patient(row: dict[str, Any], nik: str | None, unmasked: bool) -> dict[str, Any]:
    identifiers: list[dict[str, Any]] = []
    if unmasked and nik:
        identifiers.append({"use": "official", "system": NIK_SYSTEM, "value": nik})
    identifiers.append({"system": PERSON_SYSTEM, "value": str(row["id"])})
    name = row["full_name"] if unmasked else mask_name(row["full_name"])
    birth = row["birth_date"]
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(row["id"]),
        "meta": _meta(not unmasked, row["version"]),
        "identifier": identifiers,
        "active": row["merged_into"] is None,
        "name": [{"use": "official", "text": name}] if name else [],
        "gender": GENDER[row["sex"]],
        "birthDate": birth.isoformat() if unmasked else mask_birth_date(birth),
        "address": [
            {
                "use": "home",
                "country": "ID",
                "extension": [administrative_code(row["village_code"])],
            }
        ],
    }
    if not resource["name"]:
        del resource["name"]
    if row["death_date"] is not None:
        resource["deceasedDateTime"] = row["death_date"].isoformat()
    else:
        resource["deceasedBoolean"] = False
    if row["merged_into"] is not None:
        resource["link"] = [
            {"other": {"reference": f"Patient/{row['merged_into']}"}, "type": "replaced-by"}
        ]
    return resource


# --- Group (household) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    person_id: Any
    name: str | None
    relationship: int | None
    since: date | None
    died: bool


def group(
    row: dict[str, Any], kk: str | None, members: Iterable[Member], unmasked: bool
) -> dict[str, Any]:
    identifiers: list[dict[str, Any]] = []
    if unmasked and kk:
        identifiers.append({"use": "official", "system": KK_SYSTEM, "value": kk})
    identifiers.append({"system": HOUSEHOLD_SYSTEM, "value": str(row["id"])})
    entries = []
    for m in members:
        entity: dict[str, Any] = {"reference": f"Patient/{m.person_id}"}
        if unmasked and m.name:
            entity["display"] = m.name
        member: dict[str, Any] = {"entity": entity, "inactive": m.died}
        if m.since is not None:
            member["period"] = {"start": m.since.isoformat()}
        if m.relationship is not None:
            member["extension"] = [
                {
                    "url": MEMBER_RELATIONSHIP_EXTENSION,
                    "valueCoding": {"system": RELATIONSHIP_SYSTEM, "code": str(m.relationship)},
                }
            ]
        entries.append(member)
    return {
        "resourceType": "Group",
        "id": str(row["id"]),
        "meta": _meta(not unmasked, row["version"]),
        "identifier": identifiers,
        "active": row["active"],
        "type": "person",
        "actual": True,
        "characteristic": [
            {
                "code": {"text": "Kemendagri village code"},
                "valueCodeableConcept": {
                    "coding": [{"system": REGION_SYSTEM, "code": row["village_code"]}]
                },
                "exclude": False,
            }
        ],
        "quantity": sum(1 for e in entries if not e["inactive"]),
        "member": entries,
    }


# --- Bundles and outcomes -------------------------------------------------------------------


def searchset(
    base: str, self_url: str, resources: Sequence[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": instant(now),
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


@dataclass(frozen=True)
class Issue:
    """One problem with a request, as an OperationOutcome issue and an entry status."""

    code: str  # stable problem code
    issue_type: str  # FHIR issue-type code
    status: int  # HTTP status of a batch entry with this issue
    message: dict[str, str]
    expression: str | None = None
    severity: str = "error"


def outcome(issues: Sequence[Issue], lang: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": i.severity,
                "code": i.issue_type,
                "details": {
                    "coding": [{"system": PROBLEM_SYSTEM, "code": i.code}],
                    "text": _text(i.message, lang),
                },
                **({"expression": [i.expression]} if i.expression else {}),
            }
            for i in issues
        ],
    }
