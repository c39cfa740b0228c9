"""All SQL of the FHIR exchange: finding the children a Bundle names, and the links
between imported Observation identifiers and the measurements they went into."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.scoping import scope_sql

LINK_COLUMNS = (
    "identifier_system",
    "identifier_value",
    "measurement_id",
    "person_id",
    "loinc_code",
    "effective_date",
    "value",
    "unit",
    "content_digest",
    "imported_by",
)


async def persons_by_nik_hash(
    session: AsyncSession, hashes: Sequence[str], scope: str
) -> dict[str, uuid.UUID]:
    """Living (unmerged) records holding these NIKs within ``scope``, by NIK hash."""
    if not hashes:
        return {}
    rows = await session.execute(
        text(
            f"""
            SELECT p.nik_hash, p.id FROM person p
            WHERE p.nik_hash = ANY(:hashes) AND p.merged_into IS NULL
              AND {scope_sql("p.village_code")}
            """
        ),
        {"hashes": list(hashes), "scope": scope},
    )
    return {r.nik_hash: r.id for r in rows}


async def persons_in_scope(
    session: AsyncSession, ids: Sequence[uuid.UUID], scope: str
) -> set[uuid.UUID]:
    if not ids:
        return set()
    rows = await session.execute(
        text(f"SELECT p.id FROM person p WHERE p.id = ANY(:ids) AND {scope_sql('p.village_code')}"),
        {"ids": list(ids), "scope": scope},
    )
    return {r.id for r in rows}


async def links(
    session: AsyncSession, identifiers: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    if not identifiers:
        return {}
    rows = await session.execute(
        text(
            """
            SELECT l.identifier_system, l.identifier_value, l.measurement_id, l.loinc_code,
                   l.content_digest
            FROM unnest(CAST(:systems AS text[]), CAST(:values AS text[])) AS k(s, v)
            JOIN fhir_observation_link l
              ON l.identifier_system = k.s AND l.identifier_value = k.v
            """
        ),
        {"systems": [s for s, _ in identifiers], "values": [v for _, v in identifiers]},
    )
    return {(r.identifier_system, r.identifier_value): dict(r._mapping) for r in rows}


async def insert_links(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """One statement for all rows; ON CONFLICT: a concurrent import of the same
    identifier already linked it (the caller checked the content beforehand)."""
    if not rows:
        return
    columns = {c: [r[c] for r in rows] for c in LINK_COLUMNS}
    await session.execute(
        text(
            """
            INSERT INTO fhir_observation_link (identifier_system, identifier_value,
                measurement_id, person_id, loinc_code, effective_date, value, unit,
                content_digest, imported_by)
            SELECT * FROM unnest(CAST(:identifier_system AS text[]),
                CAST(:identifier_value AS text[]), CAST(:measurement_id AS uuid[]),
                CAST(:person_id AS uuid[]), CAST(:loinc_code AS text[]),
                CAST(:effective_date AS date[]), CAST(:value AS float8[]),
                CAST(:unit AS text[]), CAST(:content_digest AS text[]),
                CAST(:imported_by AS text[]))
            ON CONFLICT DO NOTHING
            """
        ),
        columns,
    )


async def imported_identifiers(
    session: AsyncSession, measurement_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, list[tuple[str, str]]]]:
    """The identifiers other systems gave these measurements: by measurement, by LOINC."""
    if not measurement_ids:
        return {}
    rows = await session.execute(
        text(
            """
            SELECT measurement_id, loinc_code, identifier_system, identifier_value
            FROM fhir_observation_link WHERE measurement_id = ANY(:ids)
            ORDER BY imported_at, identifier_system, identifier_value
            """
        ),
        {"ids": list(measurement_ids)},
    )
    out: dict[uuid.UUID, dict[str, list[tuple[str, str]]]] = {}
    for r in rows:
        by_code = out.setdefault(r.measurement_id, {})
        by_code.setdefault(r.loinc_code, []).append((r.identifier_system, r.identifier_value))
    return out
