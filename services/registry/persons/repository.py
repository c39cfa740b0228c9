"""All SQL on persons, their identifiers and their household memberships."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.ids import uuid7
from common.scoping import scope_sql

PERSON_COLS = """
    p.id, p.nik_enc, p.provisional_id, p.full_name, p.sex, p.birth_date, p.birth_place,
    p.religion, p.education, p.occupation, p.marital_status, p.marital_status_since,
    p.has_birth_certificate, p.mother_id, p.mother_name, p.death_date, p.household_id,
    p.relationship, p.village_code, p.merged_into, p.version
"""

_INSERT_FIELDS = (
    "id",
    "nik_enc",
    "nik_hash",
    "provisional_id",
    "full_name",
    "sex",
    "birth_date",
    "birth_place",
    "religion",
    "education",
    "occupation",
    "marital_status",
    "marital_status_since",
    "has_birth_certificate",
    "mother_id",
    "mother_name",
    "household_id",
    "relationship",
    "village_code",
)


async def insert_person(session: AsyncSession, person: dict[str, Any]) -> None:
    await session.execute(
        text(
            f"INSERT INTO person ({', '.join(_INSERT_FIELDS)})"
            f" VALUES ({', '.join(':' + f for f in _INSERT_FIELDS)})"
        ),
        {f: person.get(f) for f in _INSERT_FIELDS},
    )


async def get_person(
    session: AsyncSession, person_id: uuid.UUID, scope: str, *, lock: bool = False
) -> dict | None:
    rows = await get_persons(session, [person_id], scope, lock=lock)
    return rows[0] if rows else None


async def get_persons(
    session: AsyncSession, person_ids: list[uuid.UUID], scope: str, *, lock: bool = False
) -> list[dict]:
    rows = await session.execute(
        text(
            f"SELECT {PERSON_COLS} FROM person p"
            f" WHERE p.id = ANY(:ids) AND {scope_sql('p.village_code')}"
            f" ORDER BY p.id{' FOR UPDATE' if lock else ''}"
        ),
        {"ids": person_ids, "scope": scope},
    )
    return [dict(r) for r in rows.mappings()]


async def holder_of_nik(session: AsyncSession, nik_hash: str) -> dict | None:
    """The living record holding this NIK, wherever it is (for the refusal message)."""
    row = (
        (
            await session.execute(
                text(
                    """
                    SELECT p.id, p.household_id, p.village_code, r.name AS village_name,
                           p.death_date
                    FROM person p LEFT JOIN region r ON r.code = p.village_code
                    WHERE p.nik_hash = :h AND p.merged_into IS NULL
                    """
                ),
                {"h": nik_hash},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def update_person(
    session: AsyncSession, person_id: uuid.UUID, version: int | None, changes: dict[str, Any]
) -> int | None:
    """Apply ``changes`` (at ``version`` when given); the new version, or None if stale."""
    sets = [f"{name} = :{name}" for name in changes]
    sets += ["version = version + 1", "updated_at = now()"]
    guard = " AND version = :v" if version is not None else ""
    return (
        await session.execute(
            text(f"UPDATE person SET {', '.join(sets)} WHERE id = :id{guard} RETURNING version"),
            {**changes, "id": person_id, "v": version},
        )
    ).scalar_one_or_none()


async def household_people(session: AsyncSession, household_id: uuid.UUID) -> list[dict]:
    """Current members, and members whose membership ended with their death here.

    The dead still count for birth spacing (KRS "terlalu dekat").
    """
    rows = await session.execute(
        text(
            f"""
            SELECT {PERSON_COLS}, m.relationship AS member_relationship,
                   m.start_date AS member_since, m.end_reason
            FROM household_membership m JOIN person p ON p.id = m.person_id
            WHERE m.household_id = :h AND (m.end_reason IS NULL OR m.end_reason = 'died')
            ORDER BY m.relationship, p.birth_date, p.id
            """
        ),
        {"h": household_id},
    )
    return [dict(r) for r in rows.mappings()]


async def insert_membership(
    session: AsyncSession,
    person_id: uuid.UUID,
    household_id: uuid.UUID,
    relationship: int,
    start_date: date,
) -> None:
    await session.execute(
        text(
            """
            INSERT INTO household_membership (id, person_id, household_id, relationship,
                                              start_date)
            VALUES (:id, :p, :h, :r, :s)
            """
        ),
        {"id": uuid7(), "p": person_id, "h": household_id, "r": relationship, "s": start_date},
    )


async def close_membership(
    session: AsyncSession, person_id: uuid.UUID, end_date: date, reason: str
) -> uuid.UUID | None:
    """End the person's active membership; the household it was in, if any."""
    return (
        await session.execute(
            text(
                """
                UPDATE household_membership SET end_date = :d, end_reason = :r
                WHERE person_id = :p AND end_reason IS NULL
                RETURNING household_id
                """
            ),
            {"p": person_id, "d": end_date, "r": reason},
        )
    ).scalar_one_or_none()


async def memberships(session: AsyncSession, person_id: uuid.UUID) -> list[dict]:
    rows = await session.execute(
        text(
            """
            SELECT m.household_id, h.village_code, m.relationship, m.start_date, m.end_date,
                   m.end_reason
            FROM household_membership m JOIN household h ON h.id = m.household_id
            WHERE m.person_id = :p ORDER BY m.start_date, m.id
            """
        ),
        {"p": person_id},
    )
    return [dict(r) for r in rows.mappings()]


async def add_identifier_history(
    session: AsyncSession, person_id: uuid.UUID, kind: str, value: str, reason: str
) -> None:
    await session.execute(
        text(
            "INSERT INTO person_identifier_history (person_id, kind, value, reason)"
            " VALUES (:p, :k, :v, :r)"
        ),
        {"p": person_id, "k": kind, "v": value, "r": reason},
    )


async def identifier_history(session: AsyncSession, person_id: uuid.UUID) -> list[dict]:
    rows = await session.execute(
        text(
            "SELECT kind, value, valid_until, reason FROM person_identifier_history"
            " WHERE person_id = :p ORDER BY valid_until, id"
        ),
        {"p": person_id},
    )
    return [dict(r) for r in rows.mappings()]
