"""Recording, correcting and voiding deliveries: the checks and the events."""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import ProblemError
from common.feed import emit
from common.identity import Identity
from common.ids import uuid7
from common.permissions import sector_allows
from services.interventions.catalogue.rules import (
    CatalogueEntry,
    Delivery,
    Violation,
    deliverable_version,
    validate_delivery,
)
from services.interventions.deliveries import repository as repo
from services.interventions.sectors import SECTORS, parse_sector
from services.interventions.subjects.projection import eligibility_subject


def _v(code: str, id_: str, en: str, loc: str | None = None) -> Violation:
    return Violation(code, {"id": id_, "en": en}, loc)


def sector_not_responsible(code: str, entry: CatalogueEntry, mine: str | None) -> ProblemError:
    names = ", ".join(SECTORS[s].agency_short for s in entry.sectors)
    return ProblemError(
        403,
        "sector_not_responsible",
        detail={
            "en": f"Your sector ({mine or '-'}) does not deliver {code}; it is delivered by: "
            f"{names}.",
            "id": f"Sektor Anda ({mine or '-'}) tidak memberikan {code}; yang memberikan: {names}.",
        },
    )


def resolve_sector(caller: Identity, entry: CatalogueEntry, requested: str | None) -> str:
    """The sector a delivery is recorded for: the caller's own when bound to one, which
    must be responsible for the intervention (403 otherwise)."""
    mine = caller.sector.value if caller.sector else None
    if requested is not None:
        sector = parse_sector(requested)
        if sector is None or sector not in entry.sectors:
            allowed = ", ".join(s.value for s in entry.sectors)
            raise ProblemError(
                422,
                "invalid_sector",
                detail={
                    "en": f"sector must be one of: {allowed}.",
                    "id": f"sector harus salah satu dari: {allowed}.",
                },
            )
        if not sector_allows(caller, sector):
            raise sector_not_responsible(entry.code, entry, mine)
        return sector.value
    allowed_sectors = [s for s in entry.sectors if sector_allows(caller, s)]
    if not allowed_sectors:
        raise sector_not_responsible(entry.code, entry, mine)
    return allowed_sectors[0].value


def check_delivery(
    entries: Sequence[CatalogueEntry],
    code: str,
    on: date,
    quantity: float,
    unit: str | None,
    funding_source: str,
    subject: dict[str, Any],
    today: date,
) -> tuple[CatalogueEntry | None, list[Violation]]:
    """The catalogue version the delivery is recorded against and every rule it breaks."""
    entry = deliverable_version(entries, code, on)
    version = entry if isinstance(entry, CatalogueEntry) else None
    chosen_unit = unit or (version.unit.value if version else "")
    found = validate_delivery(
        entries,
        Delivery(code, on, quantity, chosen_unit, funding_source),
        eligibility_subject(subject),
        today,
    )
    death = subject.get("death_date")
    if death is not None and on > death:
        found.append(
            _v(
                "delivery_after_death",
                f"Tanggal pemberian setelah subjek meninggal ({death})",
                f"The delivery date is after the subject's death ({death})",
                "delivered_on",
            )
        )
    return version, found


def event_payload(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "delivery_id": str(row["id"]),
        "subject_kind": row["subject_kind"],
        "subject_id": str(row["subject_id"]),
        "household_id": str(row["household_id"]) if row["household_id"] else None,
        "village_code": row["village_code"],
        "intervention_code": row["intervention_code"],
        "catalogue_version": row["catalogue_version"],
        "delivered_on": row["delivered_on"],
        "quantity": float(row["quantity"]),
        "unit": row["unit"],
        "sector": row["sector"],
        "funding_source": row["funding_source"],
        "supersedes": str(row["supersedes"]) if row.get("supersedes") else None,
    }


async def store(session: AsyncSession, row: dict[str, Any]) -> uuid.UUID:
    """Insert the row and publish it (delivery.recorded / corrected / voided)."""
    await repo.insert(session, row)
    await emit(
        session,
        f"delivery.{row['kind']}",
        "delivery",
        row["id"],
        event_payload(row),
        region_code=row["village_code"],
    )
    return row["id"]


def new_row(
    *,
    kind: str,
    subject: dict[str, Any],
    entry: CatalogueEntry,
    values: dict[str, Any],
    caller: Identity,
    supersedes: uuid.UUID | None = None,
    counted_subject_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    return {
        **values,
        "id": uuid7(),
        "kind": kind,
        "supersedes": supersedes,
        "subject_id": subject["id"],
        "counted_subject_id": counted_subject_id or subject["id"],
        "subject_kind": subject["kind"],
        "household_id": subject["household_id"],
        "village_code": subject["village_code"],
        "intervention_code": entry.code,
        "catalogue_version": entry.version,
        "recorded_by": caller.sub,
    }


def superseded_problem(delivery_id: uuid.UUID) -> ProblemError:
    return ProblemError(
        409,
        "delivery_superseded",
        detail={
            "en": f"Delivery {delivery_id} was already corrected or voided; act on its latest "
            "version.",
            "id": f"Pemberian {delivery_id} sudah dikoreksi atau dibatalkan; gunakan versi "
            "terakhirnya.",
        },
    )
