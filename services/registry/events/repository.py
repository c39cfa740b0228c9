"""All SQL on life events, and their reading into the rules' ``LifeEvents``."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.scoping import scope_sql
from services.registry.events.rules import (
    ContraceptionUse,
    Delivery,
    LifeEvents,
    MarriagePlan,
    Pregnancy,
)

_COLS = """
    e.id, e.person_id, e.household_id, e.village_code, e.kind, e.start_date, e.end_date,
    e.expected_date, e.outcome, e.details, e.version, e.created_at
"""


def to_life_events(rows: Iterable[dict[str, Any]]) -> LifeEvents:
    """How each kind is stored: pregnancy start/expected/outcome+end (outcome date);
    delivery on start_date; marriage plan on expected_date; contraception start..end."""
    pregnancies, deliveries, plans, contraception = [], [], [], []
    for row in rows:
        match row["kind"]:
            case "pregnancy":
                pregnancies.append(
                    Pregnancy(
                        row["start_date"], row["expected_date"], row["outcome"], row["end_date"]
                    )
                )
            case "delivery":
                deliveries.append(Delivery(row["start_date"], row["outcome"] or "live_birth"))
            case "marriage_plan":
                plans.append(MarriagePlan(row["expected_date"]))
            case "contraception":
                method = (row["details"] or {}).get("method", "")
                contraception.append(ContraceptionUse(method, row["start_date"], row["end_date"]))
    return LifeEvents(tuple(pregnancies), tuple(deliveries), tuple(plans), tuple(contraception))


async def insert_event(session: AsyncSession, event: dict[str, Any]) -> None:
    await session.execute(
        text(
            """
            INSERT INTO life_event (id, person_id, household_id, village_code, kind,
                                    start_date, end_date, expected_date, outcome, details)
            VALUES (:id, :person_id, :household_id, :village_code, :kind, :start_date,
                    :end_date, :expected_date, :outcome, CAST(:details AS jsonb))
            """
        ),
        {**event, "details": orjson.dumps(event.get("details") or {}).decode()},
    )


async def get_event(
    session: AsyncSession, event_id: uuid.UUID, scope: str, *, lock: bool = False
) -> dict | None:
    row = (
        (
            await session.execute(
                text(
                    f"SELECT {_COLS} FROM life_event e"
                    f" WHERE e.id = :id AND {scope_sql('e.village_code')}"
                    f"{' FOR UPDATE' if lock else ''}"
                ),
                {"id": event_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def events_of(session: AsyncSession, person_ids: list[uuid.UUID]) -> dict[Any, list[dict]]:
    rows = await session.execute(
        text(
            f"SELECT {_COLS} FROM life_event e WHERE e.person_id = ANY(:ids)"
            " ORDER BY e.person_id, e.start_date NULLS LAST, e.id"
        ),
        {"ids": person_ids},
    )
    found: dict[Any, list[dict]] = defaultdict(list)
    for r in rows.mappings():
        found[r["person_id"]].append(dict(r))
    return found


async def update_event(
    session: AsyncSession, event_id: uuid.UUID, version: int, changes: dict[str, Any]
) -> int | None:
    params: dict[str, Any] = {"id": event_id, "v": version}
    sets = []
    for name, value in changes.items():
        if name == "details":
            sets.append("details = CAST(:details AS jsonb)")
            params["details"] = orjson.dumps(value or {}).decode()
        else:
            sets.append(f"{name} = :{name}")
            params[name] = value
    sets += ["version = version + 1", "updated_at = now()"]
    return (
        await session.execute(
            text(
                f"UPDATE life_event SET {', '.join(sets)} WHERE id = :id AND version = :v"
                " RETURNING version"
            ),
            params,
        )
    ).scalar_one_or_none()


async def move_events(session: AsyncSession, from_person: uuid.UUID, to_person: uuid.UUID) -> None:
    """A merge: the removed duplicate's events now belong to the kept record."""
    await session.execute(
        text(
            "UPDATE life_event SET person_id = :to, version = version + 1, updated_at = now(),"
            " details = details || jsonb_build_object('merged_from', CAST(:frm_text AS text))"
            " WHERE person_id = :frm"
        ),
        {"to": to_person, "frm": from_person, "frm_text": str(from_person)},
    )
