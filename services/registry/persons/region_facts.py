"""What the NIK/KK and address checks need to know about regions, read once per process
(the Kemendagri list changes only with a new release of the reference data)."""

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import ProblemError, field_error
from common.scoping import in_scope


@dataclass(frozen=True)
class RegionCodes:
    provinces: frozenset[str]
    districts: frozenset[str]


_cache: dict[str, RegionCodes] = {}


async def region_codes(session: AsyncSession) -> RegionCodes:
    cached = _cache.get("codes")
    if cached is None:
        rows = await session.execute(
            text("SELECT code, level FROM region WHERE level IN ('province', 'district')")
        )
        by_level: dict[str, set[str]] = {"province": set(), "district": set()}
        for code, level in rows:
            by_level[level].add(code)
        cached = RegionCodes(frozenset(by_level["province"]), frozenset(by_level["district"]))
        if cached.provinces:  # never cache an empty list (reference data not loaded yet)
            _cache["codes"] = cached
    return cached


async def village_name(session: AsyncSession, code: str) -> str | None:
    return (
        await session.execute(
            text("SELECT name FROM region WHERE code = :c AND level = 'village'"), {"c": code}
        )
    ).scalar_one_or_none()


async def require_village(
    session: AsyncSession, code: str, loc: list[str | int] | None = None
) -> str:
    """The village's name; 422 when ``code`` is unknown or not a village."""
    name = await village_name(session, code)
    if name is None:
        raise ProblemError(
            422,
            "village_unknown",
            detail={
                "en": f"{code!r} is not a village (desa/kelurahan) code in the Kemendagri list.",
                "id": f"{code!r} bukan kode desa/kelurahan dalam daftar Kemendagri.",
            },
            errors=[
                field_error(
                    loc or ["body", "village_code"],
                    {"en": "Unknown village code", "id": "Kode desa tidak dikenal"},
                    "village_unknown",
                )
            ],
        )
    return name


def scope_range(scope: str, within: str | None) -> tuple[str, str] | None:
    """The code range ``[low, high)`` of records in both the caller's scope and the
    requested region, or None when they do not overlap.

    One plain range lets the planner walk an index in order and stop at the page size;
    the general ``scope_sql`` OR-form makes it read and sort the whole region first.
    Codes compare bytewise ('.' < '/'), as ``common.scoping`` relies on too.
    """
    region = scope
    if within:
        if in_scope(scope, within):
            region = within
        elif not in_scope(within, scope):
            return None
    return (region, region + "/") if region else ("", "\x7f")
