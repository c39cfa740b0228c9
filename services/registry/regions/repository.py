"""All SQL on regions."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.regions.rules import ancestors_of

_COLS = "code, level, name, parent_code"


async def get(session: AsyncSession, code: str) -> dict | None:
    row = (
        (await session.execute(text(f"SELECT {_COLS} FROM region WHERE code = :c"), {"c": code}))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def get_many(session: AsyncSession, codes: list[str]) -> list[dict]:
    rows = await session.execute(
        text(f"SELECT {_COLS} FROM region WHERE code = ANY(:c) ORDER BY length(code)"), {"c": codes}
    )
    return [dict(r) for r in rows.mappings()]


async def ancestors(session: AsyncSession, code: str) -> list[dict]:
    return await get_many(session, ancestors_of(code))


async def children(
    session: AsyncSession, parent: str | None, after: str | None, limit: int
) -> list[dict]:
    where = "parent_code = :p" if parent else "parent_code IS NULL"
    rows = await session.execute(
        text(f"SELECT {_COLS} FROM region WHERE {where} AND code > :after ORDER BY code LIMIT :n"),
        {"p": parent, "after": after or "", "n": limit},
    )
    return [dict(r) for r in rows.mappings()]


async def count_children(session: AsyncSession, code: str) -> int:
    return (
        await session.execute(
            text("SELECT count(*) FROM region WHERE parent_code = :c"), {"c": code}
        )
    ).scalar_one()


async def search(
    session: AsyncSession, key: str, level: str | None, within: str | None, limit: int
) -> list[dict]:
    """Exact name first, then prefix, then word prefix, then anywhere; ties by level and code."""
    like = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await session.execute(
        text(
            f"""
            SELECT {_COLS},
                   CASE WHEN name_search = :key THEN 0
                        WHEN name_search LIKE :prefix THEN 1
                        WHEN name_search LIKE :word THEN 2
                        ELSE 3 END AS rank
            FROM region
            WHERE name_search LIKE :anywhere
              AND (CAST(:level AS text) IS NULL OR level = :level)
              AND (CAST(:within AS text) IS NULL OR code LIKE :within_prefix)
            ORDER BY rank, array_position(ARRAY['province','regency','district','village'],
                                          level), code
            LIMIT :n
            """
        ),
        {
            "key": key,
            "prefix": like + "%",
            "word": "% " + like + "%",
            "anywhere": "%" + like + "%",
            "level": level,
            "within": within,
            "within_prefix": (within or "") + ".%",
            "n": limit,
        },
    )
    return [{k: v for k, v in r.items() if k != "rank"} for r in rows.mappings()]


async def existing_codes(session: AsyncSession, codes: list[str]) -> set[str]:
    rows = await session.execute(text("SELECT code FROM region WHERE code = ANY(:c)"), {"c": codes})
    return {r[0] for r in rows}
