"""A referral as a FHIR ServiceRequest and Task (plain dicts, no I/O).

The referral's state lives on the Task (the fulfilment); the ServiceRequest says what
was asked and whether the request still stands. Referrals carry registry ids only, no
NIK or names, so nothing here needs masking.
"""

from datetime import UTC, datetime
from typing import Any

from services.interventions.referrals.rules import STATE_LABELS, ReferralState

REFERRAL_SYSTEM = "urn:kkb:interventions:referral"
REFERRAL_TYPE_SYSTEM = "urn:kkb:codesystem:referral-type"
REFERRAL_STATE_SYSTEM = "urn:kkb:codesystem:referral-state"
SECTOR_SYSTEM = "urn:kkb:codesystem:sector"
ORGANISATION_SYSTEM = "urn:kkb:organisation"
PERSON_SYSTEM = "urn:kkb:registry:person"
HOUSEHOLD_SYSTEM = "urn:kkb:registry:household"

# Task.status (http://hl7.org/fhir/task-status) of each referral state.
TASK_STATUS: dict[ReferralState, str] = {
    ReferralState.created: "requested",
    ReferralState.accepted: "accepted",
    ReferralState.in_progress: "in-progress",
    ReferralState.completed: "completed",
    ReferralState.rejected: "rejected",
    ReferralState.cancelled: "cancelled",
}
# ServiceRequest.status (http://hl7.org/fhir/request-status): the request stands while
# the referral is open; a rejected or cancelled referral will not be acted on.
REQUEST_STATUS: dict[ReferralState, str] = {
    ReferralState.created: "active",
    ReferralState.accepted: "active",
    ReferralState.in_progress: "active",
    ReferralState.completed: "completed",
    ReferralState.rejected: "revoked",
    ReferralState.cancelled: "revoked",
}


def _instant(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _text(label: dict[str, str] | None, lang: str, fallback: str) -> str:
    if not label:
        return fallback
    return label.get(lang) or label.get("en") or fallback


def subject_reference(referral: dict[str, Any], registry_base: str) -> dict[str, Any]:
    """The registry's Patient (a person) or Group (a household), by absolute URL."""
    person = referral["subject_kind"] == "person"
    kind, system = ("Patient", PERSON_SYSTEM) if person else ("Group", HOUSEHOLD_SYSTEM)
    return {
        "reference": f"{registry_base}/{kind}/{referral['subject_id']}",
        "identifier": {"system": system, "value": str(referral["subject_id"])},
    }


def _organisation(org: str, label: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"identifier": {"system": ORGANISATION_SYSTEM, "value": org}}
    if label:
        ref["display"] = label
    return ref


def _meta(referral: dict[str, Any]) -> dict[str, Any]:
    return {"versionId": str(referral["version"]), "lastUpdated": _instant(referral["updated_at"])}


def service_request(
    referral: dict[str, Any],
    type_label: dict[str, str] | None,
    sector_label: dict[str, str] | None,
    registry_base: str,
    lang: str,
) -> dict[str, Any]:
    state = ReferralState(referral["state"])
    sector = referral["to_sector"]
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(referral["id"]),
        "meta": _meta(referral),
        "identifier": [{"system": REFERRAL_SYSTEM, "value": str(referral["id"])}],
        "status": REQUEST_STATUS[state],
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": SECTOR_SYSTEM,
                        "code": sector,
                        "display": _text(sector_label, "en", sector),
                    }
                ],
                "text": _text(sector_label, lang, sector),
            }
        ],
        "code": {
            "coding": [
                {
                    "system": REFERRAL_TYPE_SYSTEM,
                    "code": referral["referral_type"],
                    "display": _text(type_label, "en", referral["referral_type"]),
                }
            ],
            "text": _text(type_label, lang, referral["referral_type"]),
        },
        "subject": subject_reference(referral, registry_base),
        "occurrencePeriod": {
            "start": referral["created_on"].isoformat(),
            "end": referral["due_on"].isoformat(),
        },
        "authoredOn": _instant(referral["created_at"]),
        "requester": _organisation(referral["from_org"]),
        "performer": [_organisation(sector, _text(sector_label, lang, sector))],
    }
    if referral["note"]:
        resource["note"] = [{"text": referral["note"]}]
    return resource


def task(
    referral: dict[str, Any],
    sector_label: dict[str, str] | None,
    registry_base: str,
    lang: str,
) -> dict[str, Any]:
    state = ReferralState(referral["state"])
    label = STATE_LABELS[state]
    sector = referral["to_sector"]
    request = f"ServiceRequest/{referral['id']}"
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(referral["id"]),
        "meta": _meta(referral),
        "identifier": [{"system": REFERRAL_SYSTEM, "value": str(referral["id"])}],
        "basedOn": [{"reference": request}],
        "status": TASK_STATUS[state],
        "businessStatus": {
            "coding": [
                {"system": REFERRAL_STATE_SYSTEM, "code": state.value, "display": label["en"]}
            ],
            "text": _text(label, lang, state.value),
        },
        "intent": "order",
        "focus": {"reference": request},
        "for": subject_reference(referral, registry_base),
        "authoredOn": _instant(referral["created_at"]),
        "lastModified": _instant(referral["updated_at"]),
        "requester": _organisation(referral["from_org"]),
        "owner": _organisation(sector, _text(sector_label, lang, sector)),
        "restriction": {"period": {"end": referral["due_on"].isoformat()}},
    }
    if referral["reason"] and state in (ReferralState.rejected, ReferralState.cancelled):
        resource["statusReason"] = {"text": referral["reason"]}
    return resource


def collection(base: str, resources: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _instant(now),
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }
