"""All SQL on TPK teams, their villages and their visits."""

import uuid
from datetime import date
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.scoping import scope_sql

_TEAM_COLS = (
    "t.id, t.name, t.region_code, t.members, t.active, t.version, t.created_by, t.created_at,"
    " t.updated_at, coalesce((SELECT array_agg(v.village_code ORDER BY v.village_code)"
    " FROM tpk_team_village v WHERE v.team_id = t.id), '{}') AS villages"
)
# A team is visible where its home region or one of its villages is.
_TEAM_SCOPE = (
    f"({scope_sql('t.region_code')} OR EXISTS (SELECT 1 FROM tpk_team_village v"
    f" WHERE v.team_id = t.id AND {scope_sql('v.village_code')}))"
)
_VISIT_COLS = (
    "id, team_id, subject_id, subject_kind, household_id, village_code, target_group,"
    " visited_on, answers, advice, referral_ids, at_risk, screening, recorded_by, recorded_at"
)


async def insert_team(session: AsyncSession, team: dict[str, Any], villages: list[str]) -> None:
    await session.execute(
        text(
            "INSERT INTO tpk_team (id, name, region_code, members, created_by)"
            " VALUES (:id, :name, :region_code, CAST(:members AS jsonb), :created_by)"
        ),
        {**team, "members": orjson.dumps(team["members"]).decode()},
    )
    await set_villages(session, team["id"], villages)


async def set_villages(session: AsyncSession, team_id: uuid.UUID, villages: list[str]) -> None:
    await session.execute(
        text("DELETE FROM tpk_team_village WHERE team_id = :t AND NOT village_code = ANY(:v)"),
        {"t": team_id, "v": villages},
    )
    await session.execute(
        text(
            "INSERT INTO tpk_team_village (team_id, village_code)"
            " SELECT :t, unnest(CAST(:v AS text[])) ON CONFLICT DO NOTHING"
        ),
        {"t": team_id, "v": villages},
    )


async def update_team(
    session: AsyncSession, team_id: uuid.UUID, version: int, changes: dict[str, Any]
) -> int | None:
    values = dict(changes)
    if "members" in values:
        values["members"] = orjson.dumps(values["members"]).decode()
    sets = [f"{k} = CAST(:{k} AS jsonb)" if k == "members" else f"{k} = :{k}" for k in values]
    sets += ["version = version + 1", "updated_at = now()"]
    return (
        await session.execute(
            text(
                f"UPDATE tpk_team SET {', '.join(sets)}"
                " WHERE id = :id AND version = :version RETURNING version"
            ),
            {**values, "id": team_id, "version": version},
        )
    ).scalar_one_or_none()


async def get_team(session: AsyncSession, team_id: uuid.UUID, scope: str) -> dict | None:
    row = (
        (
            await session.execute(
                text(f"SELECT {_TEAM_COLS} FROM tpk_team t WHERE t.id = :id AND {_TEAM_SCOPE}"),
                {"id": team_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def list_teams(
    session: AsyncSession,
    scope: str,
    member: str | None,
    village: str | None,
    after: str | None,
    limit: int,
) -> list[dict]:
    rows = await session.execute(
        text(
            f"""
            SELECT {_TEAM_COLS} FROM tpk_team t
            WHERE {_TEAM_SCOPE} AND t.active
              AND (CAST(:member AS jsonb) IS NULL OR t.members @> CAST(:member AS jsonb))
              AND (CAST(:village AS text) IS NULL OR EXISTS (SELECT 1 FROM tpk_team_village v
                   WHERE v.team_id = t.id AND v.village_code = :village))
              AND t.id > CAST(:after AS uuid)
            ORDER BY t.id LIMIT :n
            """
        ),
        {
            "scope": scope,
            "member": orjson.dumps([{"member_id": member}]).decode() if member else None,
            "village": village,
            "after": after or str(uuid.UUID(int=0)),
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]


async def teams_of_member(session: AsyncSession, member_id: str) -> list[uuid.UUID]:
    rows = await session.execute(
        text("SELECT id FROM tpk_team WHERE active AND members @> CAST(:m AS jsonb) ORDER BY id"),
        {"m": orjson.dumps([{"member_id": member_id}]).decode()},
    )
    return [r[0] for r in rows]


async def insert_visit(session: AsyncSession, visit: dict[str, Any]) -> None:
    await session.execute(
        text(
            """
            INSERT INTO tpk_visit (id, team_id, subject_id, subject_kind, household_id,
                village_code, target_group, visited_on, answers, advice, referral_ids, at_risk,
                screening, recorded_by)
            VALUES (:id, :team_id, :subject_id, :subject_kind, :household_id, :village_code,
                :target_group, :visited_on, CAST(:answers AS jsonb), CAST(:advice AS jsonb),
                :referral_ids, :at_risk, CAST(:screening AS jsonb), :recorded_by)
            """
        ),
        {
            **visit,
            "answers": orjson.dumps(visit["answers"]).decode(),
            "advice": orjson.dumps(visit["advice"]).decode(),
            "screening": orjson.dumps(visit["screening"]).decode()
            if visit["screening"] is not None
            else None,
        },
    )


async def get_visit(session: AsyncSession, visit_id: uuid.UUID, scope: str) -> dict | None:
    row = (
        (
            await session.execute(
                text(
                    f"SELECT {_VISIT_COLS} FROM tpk_visit"
                    f" WHERE id = :id AND {scope_sql('village_code')}"
                ),
                {"id": visit_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def list_visits(
    session: AsyncSession, scope: str, filters: dict[str, Any], after: list[Any] | None, limit: int
) -> list[dict]:
    rows = await session.execute(
        text(
            f"""
            SELECT {_VISIT_COLS} FROM tpk_visit
            WHERE {scope_sql("village_code")}
              AND (CAST(:team AS uuid) IS NULL OR team_id = :team)
              AND (CAST(:subject AS uuid) IS NULL OR subject_id = :subject)
              AND (CAST(:grp AS text) IS NULL OR target_group = :grp)
              AND (CAST(:screening AS boolean) IS NULL OR (screening IS NOT NULL) = :screening)
              AND (visited_on, id) < (CAST(:after_day AS date), CAST(:after_id AS uuid))
            ORDER BY visited_on DESC, id DESC LIMIT :n
            """
        ),
        {
            "scope": scope,
            "team": filters.get("team_id"),
            "subject": filters.get("subject_id"),
            "grp": filters.get("target_group"),
            "screening": filters.get("screening"),
            "after_day": date.fromisoformat(after[0]) if after else date(9999, 12, 31),
            "after_id": uuid.UUID(after[1]) if after else uuid.UUID(int=(1 << 128) - 1),
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]


async def schedule_subjects(
    session: AsyncSession,
    team_id: uuid.UUID,
    scope: str,
    groups: list[str],
    start: date,
    as_of: date,
) -> list[dict]:
    """Subjects in the team's villages holding a visited group on some day up to as_of
    (and since start), with their visits in that group and their latest catin screening."""
    rows = await session.execute(
        text(
            f"""
            SELECT s.id, s.kind, s.household_id, s.village_code, s.target_groups, s.krs,
                   s.birth_date,
                   coalesce((SELECT jsonb_agg(jsonb_build_object('group', v.target_group,
                                                                 'on', v.visited_on))
                             FROM tpk_visit v WHERE v.subject_id = s.id), '[]') AS visits,
                   (SELECT v.screening || jsonb_build_object('visited_on', v.visited_on)
                    FROM tpk_visit v WHERE v.subject_id = s.id AND v.screening IS NOT NULL
                    ORDER BY v.visited_on DESC, v.id DESC LIMIT 1) AS screening
            FROM subject s
            JOIN tpk_team_village tv ON tv.village_code = s.village_code AND tv.team_id = :team
            WHERE s.merged_into IS NULL AND s.alive AND s.active
              AND {scope_sql("s.village_code")}
              AND (
                (s.kind = 'person' AND EXISTS (
                    SELECT 1 FROM jsonb_array_elements(s.target_groups) g
                    WHERE g->>'group' = ANY(CAST(:groups AS text[]))
                      AND coalesce((g->>'start')::date, '-infinity'::date) <= :as_of
                      AND coalesce((g->>'end')::date, 'infinity'::date) >= :start))
                OR (s.kind = 'household' AND 'krs' = ANY(CAST(:groups AS text[]))
                    AND (s.krs->>'is_krs')::boolean))
            ORDER BY s.village_code, s.id
            """
        ),
        {"team": team_id, "scope": scope, "groups": groups, "start": start, "as_of": as_of},
    )
    return [dict(r) for r in rows.mappings()]
