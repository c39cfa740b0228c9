"""All SQL on the subject projection (and the lokus villages that come with it).

A person's KRS status is its household's: it is read through ``KRS_OF`` rather than
copied onto every member (the copy doubled the size of the person rows).
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from common.scoping import scope_sql
from services.interventions.subjects.projection import COLUMNS, State

Db = AsyncSession | AsyncConnection


def krs_of(alias: str) -> str:
    """SQL: the KRS assessment of subject ``alias``, its own or its household's."""
    return (
        f"coalesce({alias}.krs, (SELECT h.krs FROM subject h WHERE h.kind = 'household'"
        f" AND h.id = {alias}.household_id))"
    )


_RECORD = """
    r(id uuid, kind text, household_id uuid, village_code text, sex smallint, birth_date date,
      alive boolean, death_date date, active boolean, target_groups jsonb, krs jsonb,
      growth jsonb, welfare_decile smallint, has_birth_certificate boolean, has_nik boolean,
      merged_into uuid, source text, updated_from text, source_at timestamptz)
"""
_COLS = ", ".join(COLUMNS)
_COLS_BUT_KRS = ", ".join(c for c in COLUMNS if c != "krs")
_UPDATE_ALL = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "id")


def _state(row: Mapping[str, Any]) -> State:
    state = {c: row[c] for c in COLUMNS}
    for key in ("id", "household_id", "merged_into"):
        state[key] = str(state[key]) if state[key] is not None else None
    for key in ("birth_date", "death_date"):
        state[key] = state[key].isoformat() if state[key] is not None else None
    return state


async def load_states(db: Db, ids: Iterable[str]) -> dict[str, State]:
    wanted = [uuid.UUID(i) for i in set(ids)]
    if not wanted:
        return {}
    rows = await db.execute(
        text(f"SELECT {_COLS} FROM subject WHERE id = ANY(:ids)"), {"ids": wanted}
    )
    return {str(r["id"]): _state(r) for r in rows.mappings()}


async def upsert(db: Db, states: Iterable[State], *, overwrite: bool = True) -> int:
    """One statement for the whole set; ``overwrite=False`` keeps rows already there."""
    rows = [{c: s[c] for c in COLUMNS} for s in states]
    if not rows:
        return 0
    conflict = f"DO UPDATE SET {_UPDATE_ALL}, projected_at = now()" if overwrite else "DO NOTHING"
    result = await db.execute(
        text(
            f"INSERT INTO subject ({_COLS}) SELECT {_COLS}"
            f" FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS {_RECORD}"
            f" ON CONFLICT (id, kind) {conflict}"
        ),
        {"rows": orjson.dumps(rows).decode()},
    )
    await sync_groups(db, [s["id"] for s in rows])
    return result.rowcount


async def sync_groups(db: Db, ids: Iterable[str]) -> None:
    """Rewrite the ``subject_group`` rows of these subjects from their target_groups."""
    wanted = [uuid.UUID(str(i)) for i in set(ids)]
    if not wanted:
        return
    await db.execute(
        text("DELETE FROM subject_group WHERE subject_id = ANY(:ids)"), {"ids": wanted}
    )
    await db.execute(
        text(
            """
            INSERT INTO subject_group (subject_id, kind, grp, start_day, end_day)
            SELECT s.id, s.kind, g->>'group', coalesce((g->>'start')::date, '-infinity'),
                   coalesce((g->>'end')::date, 'infinity')
            FROM subject s, jsonb_array_elements(s.target_groups) g
            WHERE s.id = ANY(:ids)
            """
        ),
        {"ids": wanted},
    )


async def upsert_lokus(db: Db, rows: Iterable[Mapping[str, Any]]) -> None:
    payload = list(rows)
    if not payload:
        return
    await db.execute(
        text(
            """
            INSERT INTO lokus_village (village_code, year, decree_number, decree_date, revoked)
            SELECT village_code, year, decree_number, decree_date, revoked
            FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(village_code text,
                year smallint, decree_number text, decree_date date, revoked boolean)
            ON CONFLICT (year, village_code) DO UPDATE SET
                decree_number = EXCLUDED.decree_number, decree_date = EXCLUDED.decree_date,
                revoked = EXCLUDED.revoked
            """
        ),
        {"rows": orjson.dumps(payload).decode()},
    )


async def repoint_merged(db: Db, merges: Iterable[tuple[str, str]]) -> None:
    """Deliveries of a removed duplicate count for the record it was merged into."""
    pairs = list(merges)
    if not pairs:
        return
    await db.execute(
        text(
            """
            UPDATE delivery d SET counted_subject_id = m.kept
            FROM unnest(CAST(:removed AS uuid[]), CAST(:kept AS uuid[])) AS m(removed, kept)
            WHERE d.counted_subject_id = m.removed
            """
        ),
        {"removed": [uuid.UUID(a) for a, _ in pairs], "kept": [uuid.UUID(b) for _, b in pairs]},
    )


async def refresh_households(db: Db, household_ids: Iterable[str]) -> None:
    """Households hold their members' target groups (plus KRS / target family), and
    members carry their household's welfare decile."""
    ids = [uuid.UUID(h) for h in set(household_ids)]
    if not ids:
        return
    await db.execute(
        text(
            """
            UPDATE subject h SET target_groups = agg.groups, projected_at = now()
            FROM (
                SELECT hh.id,
                    coalesce((SELECT jsonb_agg(g ORDER BY g->>'group', g->>'start')
                              FROM subject p, jsonb_array_elements(p.target_groups) g
                              WHERE p.household_id = hh.id AND p.kind = 'person'
                                AND p.merged_into IS NULL), '[]'::jsonb)
                    || CASE WHEN (hh.krs->>'is_krs')::boolean
                            THEN '[{"group": "krs", "start": null, "end": null}]'::jsonb
                            ELSE '[]'::jsonb END
                    || CASE WHEN (hh.krs->>'is_target_family')::boolean
                            THEN '[{"group": "keluarga_sasaran", "start": null, "end": null}]'
                                 ::jsonb
                            ELSE '[]'::jsonb END AS groups
                FROM subject hh WHERE hh.id = ANY(:ids) AND hh.kind = 'household'
            ) agg
            WHERE h.id = agg.id AND h.kind = 'household'
              AND h.target_groups IS DISTINCT FROM agg.groups
            """
        ),
        {"ids": ids},
    )
    await sync_groups(db, [str(i) for i in ids])
    await db.execute(
        text(
            """
            UPDATE subject p SET welfare_decile = h.welfare_decile, projected_at = now()
            FROM subject h
            WHERE h.id = ANY(:ids) AND h.kind = 'household' AND p.household_id = h.id
              AND p.kind = 'person' AND p.welfare_decile IS DISTINCT FROM h.welfare_decile
            """
        ),
        {"ids": ids},
    )


async def get(db: Db, subject_id: uuid.UUID, scope: str) -> dict[str, Any] | None:
    """One subject within the caller's region (merged duplicates included)."""
    row = (
        (
            await db.execute(
                text(
                    f"SELECT {_COLS_BUT_KRS}, {krs_of('s')} AS krs, projected_at"
                    f" FROM subject s WHERE s.id = :id AND {scope_sql('s.village_code')}"
                ),
                {"id": subject_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def exists(db: Db, subject_id: uuid.UUID) -> bool:
    row = await db.execute(text("SELECT 1 FROM subject WHERE id = :id"), {"id": subject_id})
    return row.first() is not None


async def add_measures(
    db: Db, subject_id: uuid.UUID, measures: Mapping[str, float], on: date
) -> None:
    """Adult measurements from TPK visits (LiLA, Hb), kept where a newer one is not."""
    for name, value in measures.items():
        await db.execute(
            text(
                """
                UPDATE subject SET growth = coalesce(growth, '{}'::jsonb)
                    || jsonb_build_object(CAST(:name AS text), CAST(:value AS float8),
                                          CAST(:name AS text) || '_on', CAST(:on AS text)),
                    projected_at = now()
                WHERE id = :id AND coalesce(growth->>(CAST(:name AS text) || '_on'), '')
                      <= CAST(:on AS text)
                """
            ),
            {"id": subject_id, "name": name, "value": value, "on": on.isoformat()},
        )


async def feed_status(db: Db, feed: str) -> dict[str, Any] | None:
    row = (
        (
            await db.execute(
                text(
                    "SELECT feed, position, events_applied, last_event_at, updated_at"
                    " FROM feed_cursor WHERE feed = :f"
                ),
                {"f": feed},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None
