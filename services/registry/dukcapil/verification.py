"""Checking a registered person's NIK against Dukcapil's web service.

The decision is pure (``outcome_of``): found and matching, found but recorded
differently (which fields), not found, or not answered now (``unverified``, retried
later with a growing delay; after Dukcapil says the day's quota is gone, the next day
in WIB). Only identity fields the registry actually recorded are compared: an operator
who left the birth place empty has not contradicted Dukcapil.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from services.registry.dukcapil.breaker import WIB
from services.registry.dukcapil.client import LookupResult, ResultKind
from services.registry.dukcapil.mapping import RegistryPerson, compare

# What a registration check confirms: who the person is, not their job or schooling.
IDENTITY_FIELDS = (
    "kk_number",
    "full_name",
    "birth_place",
    "birth_date",
    "sex",
    "religion",
    "marital_status",
    "mother_name",
    "village_code",
)

STATUS_LABELS: dict[str, dict[str, str]] = {
    "verified": {
        "id": "NIK dan data diri sesuai dengan data Dukcapil.",
        "en": "The NIK and personal details match Dukcapil's records.",
    },
    "differs": {
        "id": "NIK ditemukan, tetapi sebagian data berbeda dengan data Dukcapil.",
        "en": "The NIK was found, but some details differ from Dukcapil's records.",
    },
    "not_found": {
        "id": "NIK tidak ditemukan di Dukcapil.",
        "en": "Dukcapil has no record of this NIK.",
    },
    "unverified": {
        "id": "Belum dapat diperiksa ke Dukcapil; akan dicoba lagi otomatis.",
        "en": "Could not be checked with Dukcapil yet; it will be retried automatically.",
    },
    "pending": {
        "id": "Menunggu pemeriksaan ke Dukcapil.",
        "en": "Waiting to be checked with Dukcapil.",
    },
    "unchecked": {
        "id": "Belum pernah diperiksa ke Dukcapil.",
        "en": "Never checked with Dukcapil.",
    },
    "no_nik": {
        "id": "Belum punya NIK; tidak dapat diperiksa ke Dukcapil.",
        "en": "No NIK yet; it cannot be checked with Dukcapil.",
    },
}


@dataclass(frozen=True)
class Outcome:
    status: str
    code: str
    differences: tuple[str, ...] = ()
    answered: bool = True  # Dukcapil gave an answer about this person
    retry_at: datetime | None = None


def _number(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def registry_person(row: dict[str, Any], nik: str, kk_number: str | None) -> RegistryPerson:
    """The registry's record (person row joined with its household) as Dukcapil fields."""
    return RegistryPerson(
        nik=nik,
        kk_number=kk_number,
        full_name=row["full_name"],
        birth_place=row["birth_place"],
        birth_date=row["birth_date"],
        sex=row["sex"],
        religion=row["religion"],
        marital_status=row["marital_status"],
        relationship=row["relationship"],
        education=row["education"],
        occupation=row["occupation"],
        mother_nik=None,
        mother_name=row["mother_name"],
        village_code=row["village_code"],
        rt=_number(row.get("rt")),
        rw=_number(row.get("rw")),
        dusun=row.get("dusun"),
        address=row.get("address"),
    )


def identity_differences(registry: RegistryPerson, dukcapil: RegistryPerson) -> list[str]:
    """Identity fields the registry recorded and Dukcapil records otherwise."""
    return [
        d.field
        for d in compare(registry, dukcapil)
        if d.field in IDENTITY_FIELDS and d.registry_value is not None
    ]


def retry_delay(attempts: int, base_s: float, max_s: float) -> timedelta:
    """Doubling from ``base_s`` per failed attempt (1, 2, 3 …), capped at ``max_s``."""
    return timedelta(seconds=min(max_s, base_s * 2 ** max(0, attempts - 1)))


def next_quota_day(now: datetime) -> datetime:
    """Midnight WIB after ``now``: when Dukcapil's daily quota starts again."""
    tomorrow = now.astimezone(WIB).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0, 5), tzinfo=WIB)


def outcome_of(
    result: LookupResult,
    registry: RegistryPerson,
    *,
    now: datetime,
    attempts: int,
    retry_base_s: float,
    retry_max_s: float,
) -> Outcome:
    """What one web-service answer means for the person (``attempts`` includes it)."""
    if result.kind is ResultKind.FOUND and result.person is not None:
        differences = identity_differences(registry, result.person.person)
        if differences:
            return Outcome("differs", "dukcapil_differs", tuple(differences))
        return Outcome("verified", result.code)
    if result.kind is ResultKind.NOT_FOUND:
        return Outcome("not_found", result.code)
    if result.kind is ResultKind.QUOTA_EXHAUSTED:
        return Outcome("unverified", result.code, answered=False, retry_at=next_quota_day(now))
    return Outcome(
        "unverified",
        result.code,
        answered=False,
        retry_at=now + retry_delay(attempts, retry_base_s, retry_max_s),
    )
