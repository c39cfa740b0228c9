"""The public form of an event and what a caller may see of it (pure, no I/O).

Feed payloads carry ids, codes and dates but never NIK, KK number or names (by contract);
a caller without the personal-data right still gets birth dates only to the month, and
any name or address a payload might carry is dropped rather than trusted to be absent.
"""

from typing import Any

from common.identity import Identity
from common.pii import mask_birth_date
from common.scoping import in_scope
from gateway.integration.event_types import may_see_type

# Keys removed from payloads shown masked, wherever they appear.
DROPPED_KEYS: frozenset[str] = frozenset(
    {
        "nik",
        "kk_number",
        "full_name",
        "mother_name",
        "father_name",
        "head_name",
        "address",
        "birth_place",
        "dusun",
        "rw",
        "rt",
        "phone",
        "email",
    }
)
# ``name`` is a person's name on personal records but a place's name on these.
PLACE_AGGREGATES: frozenset[str] = frozenset({"site", "village"})
MONTH_ONLY_KEYS: frozenset[str] = frozenset({"birth_date", "mother_birth_date"})


def public_event(raw: dict[str, Any], *, unmasked: bool) -> dict[str, Any]:
    """``{id, type, occurred_at, region_code, subject{type, id}, data}`` from a feed event."""
    data = raw["payload"]
    if not unmasked:
        data = mask_payload(data, personal=raw["aggregate_type"] not in PLACE_AGGREGATES)
    return {
        "id": raw["event_id"],
        "type": raw["type"],
        "occurred_at": raw["occurred_at"],
        "region_code": raw["region_code"],
        "subject": {"type": raw["aggregate_type"], "id": raw["aggregate_id"]},
        "data": data,
    }


def mask_payload(value: Any, *, personal: bool = True) -> Any:
    """Birth dates to year-month; names, addresses and identity numbers dropped."""
    if isinstance(value, list):
        return [mask_payload(v, personal=personal) for v in value]
    if not isinstance(value, dict):
        return value
    masked: dict[str, Any] = {}
    for key, item in value.items():
        if key in DROPPED_KEYS or (personal and key == "name"):
            continue
        if key in MONTH_ONLY_KEYS and item is not None:
            masked[key] = mask_birth_date(str(item), precision="month")
        else:
            masked[key] = mask_payload(item, personal=personal)
    return masked


def visible(identity: Identity, raw: dict[str, Any]) -> bool:
    """In the caller's region and of a type its role or scopes may read."""
    return in_scope(identity.region, raw["region_code"]) and may_see_type(identity, raw["type"])


def subject_person_ids(raw: dict[str, Any]) -> list[str]:
    """The persons whose data an event shows, for the audit of an unmasked read."""
    payload = raw["payload"]
    ids = [payload.get("person_id")]
    if raw["aggregate_type"] == "person":
        ids.append(raw["aggregate_id"])
    if payload.get("subject_kind") == "person":
        ids.append(payload.get("subject_id"))
    return sorted({i for i in ids if isinstance(i, str)})
