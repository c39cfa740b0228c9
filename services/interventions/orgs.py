"""Who a caller acts for in referrals: organisations named in one vocabulary.

An agency is addressed by its sector code (``public_works``); a TPK team is
``tpk:<team id>``; an office without a sector (village or district administration, an
administrator) is ``region:<its region code>``.
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import ProblemError
from common.identity import Identity, Role, Sector
from common.permissions import sector_allows
from services.interventions.tpk import repository as tpk_repo

TPK_PREFIX = "tpk:"
REGION_PREFIX = "region:"


def bound_sector(caller: Identity) -> Sector | None:
    """The one sector the caller acts for, or None when not bound to a sector."""
    allowed = [s for s in Sector if sector_allows(caller, s)]
    return allowed[0] if len(allowed) == 1 else None


def team_org(team_id: uuid.UUID) -> str:
    return f"{TPK_PREFIX}{team_id}"


async def caller_org(
    session: AsyncSession, caller: Identity, team_id: uuid.UUID | None = None
) -> str:
    """The organisation the caller acts for; a TPK cadre acts for their team."""
    if team_id is not None:
        team = await tpk_repo.get_team(session, team_id, caller.region)
        if team is None:
            raise ProblemError(
                404,
                "not_found",
                detail={
                    "en": "TPK team not found or outside your region.",
                    "id": "TPK tidak ditemukan atau di luar wilayah Anda.",
                },
            )
        if caller.role == Role.TPK_CADRE and not any(
            m["member_id"] == caller.sub for m in team["members"]
        ):
            raise not_member()
        return team_org(team_id)
    sector = bound_sector(caller)
    if sector is not None:
        return sector.value
    if caller.role == Role.TPK_CADRE:
        teams = await tpk_repo.teams_of_member(session, caller.sub)
        if len(teams) != 1:
            raise ProblemError(
                422,
                "team_required",
                detail={
                    "en": "Name the TPK team you act for (from_team_id / team_id).",
                    "id": "Sebutkan TPK tempat Anda bertugas (from_team_id / team_id).",
                },
            )
        return team_org(teams[0])
    return f"{REGION_PREFIX}{caller.region}"


def not_member() -> ProblemError:
    return ProblemError(
        403,
        "not_team_member",
        detail={
            "en": "You are not a member of this TPK team.",
            "id": "Anda bukan anggota TPK ini.",
        },
    )
