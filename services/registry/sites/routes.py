"""Kampung KB sites (with their dated maturity levels) and lokus stunting designations."""

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Caller, require
from common.clock import today
from common.db import Session
from common.errors import ProblemError, not_found
from common.etag import required_version, set_etag, stale
from common.feed import emit
from common.ids import uuid7
from common.pagination import Page, PageOut, paginate
from common.scoping import require_writable_region
from services.registry.persons.region_facts import require_village
from services.registry.sites import repository as repo
from services.registry.sites.schemas import (
    LokusDesignate,
    LokusRead,
    MaturityCreate,
    MaturityRead,
    SiteCreate,
    SiteRead,
    SiteUpdate,
)

router = APIRouter(prefix="/v1/sites", tags=["kampung-kb"])
lokus_router = APIRouter(prefix="/v1/lokus", tags=["lokus"])

SITE = {"en": "Kampung KB site", "id": "Kampung KB"}
VillagePath = Annotated[str, Path(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")]
YearPath = Annotated[int, Path(ge=2000, le=2100)]
RegionQuery = Annotated[
    str | None,
    Query(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$", description="Only under this code"),
]


def _level_on(history: list[dict], on: date) -> str | None:
    current = [h for h in history if h["effective_date"] <= on]
    return current[-1]["level"] if current else None


def _site_read(row: dict, history: list[dict]) -> SiteRead:
    return SiteRead(
        **row,
        maturity_level=_level_on(history, today()),
        maturity_history=[MaturityRead(**h) for h in history],
    )


async def _load(session: AsyncSession, site_id: uuid.UUID, caller: Caller) -> SiteRead:
    row = await repo.get_site(session, site_id, caller.region)
    if row is None:
        raise not_found(SITE)
    history = (await repo.maturity_history(session, [site_id])).get(site_id, [])
    return _site_read(row, history)


async def _emit_site(session: AsyncSession, event: str, site: SiteRead) -> None:
    await emit(
        session,
        event,
        "site",
        site.id,
        {
            "site_id": str(site.id),
            "village_code": site.village_code,
            "name": site.name,
            "maturity_level": site.maturity_level,
            "established_on": site.established_on,
        },
        region_code=site.village_code,
    )


@router.post(
    "",
    status_code=201,
    summary="Register a Kampung KB site.",
    dependencies=[Depends(require("registry.site.write"))],
)
async def create_site(
    body: SiteCreate, session: Session, caller: Caller, response: Response
) -> SiteRead:
    require_writable_region(caller, body.village_code)
    await require_village(session, body.village_code)
    site_id = uuid7()
    fields = body.model_dump(exclude={"maturity_level", "maturity_date"})
    fields["pokja"] = [m.model_dump(mode="json") for m in body.pokja]
    await repo.insert_site(session, site_id, fields)
    await repo.add_maturity(
        session,
        site_id,
        {
            "level": body.maturity_level,
            "effective_date": body.maturity_date or body.established_on,
            "decree_number": body.decree_number,
            "note": None,
        },
    )
    site = await _load(session, site_id, caller)
    await _emit_site(session, "site.registered", site)
    set_etag(response, site.version)
    return site


@router.get(
    "",
    summary="Kampung KB sites in your region.",
    dependencies=[Depends(require("registry.site.read"))],
)
async def list_sites(
    session: Session, caller: Caller, page: Page, region: RegionQuery = None
) -> PageOut[SiteRead]:
    rows = await repo.list_sites(session, caller.region, region, page.after, page.limit + 1)
    history = await repo.maturity_history(session, [r["id"] for r in rows])
    sites = [_site_read(r, history.get(r["id"], [])) for r in rows]
    return paginate(sites, page, key=lambda s: [s.village_code, str(s.id)])


@router.get(
    "/{site_id}",
    summary="One Kampung KB site with its maturity history.",
    dependencies=[Depends(require("registry.site.read"))],
)
async def get_site(
    site_id: uuid.UUID, session: Session, caller: Caller, response: Response
) -> SiteRead:
    site = await _load(session, site_id, caller)
    set_etag(response, site.version)
    return site


@router.patch(
    "/{site_id}",
    summary="Change a site's details (If-Match).",
    dependencies=[Depends(require("registry.site.write"))],
)
async def update_site(
    site_id: uuid.UUID,
    body: SiteUpdate,
    request: Request,
    session: Session,
    caller: Caller,
    response: Response,
) -> SiteRead:
    version = required_version(request)
    await _load(session, site_id, caller)
    changes: dict[str, Any] = {
        k: v
        for k, v in body.model_dump(exclude_unset=True).items()
        if v is not None or k not in ("name", "established_on", "aims", "area_types", "pokja")
    }
    if "pokja" in changes:
        changes["pokja"] = [m.model_dump(mode="json") for m in body.pokja or []]
    if await repo.update_site(session, site_id, version, changes) is None:
        raise stale()
    site = await _load(session, site_id, caller)
    await _emit_site(session, "site.updated", site)
    set_etag(response, site.version)
    return site


@router.post(
    "/{site_id}/maturity",
    status_code=201,
    summary="Record the site's maturity level from a date on (history is kept).",
    dependencies=[Depends(require("registry.site.write"))],
)
async def add_site_maturity(
    site_id: uuid.UUID, body: MaturityCreate, session: Session, caller: Caller
) -> SiteRead:
    site = await _load(session, site_id, caller)
    if body.effective_date < site.established_on:
        raise ProblemError(
            422,
            "maturity_before_establishment",
            detail={
                "en": "A maturity level cannot start before the site was established.",
                "id": "Tingkat kematangan tidak boleh sebelum Kampung KB dibentuk.",
            },
        )
    if not await repo.add_maturity(session, site_id, body.model_dump()):
        raise ProblemError(
            409,
            "maturity_date_taken",
            detail={
                "en": f"A level is already recorded for {body.effective_date}.",
                "id": f"Sudah ada tingkat kematangan pada {body.effective_date}.",
            },
        )
    site = await _load(session, site_id, caller)
    await _emit_site(session, "site.updated", site)
    return site


# --- lokus -----------------------------------------------------------------------------


def _lokus_aggregate(village_code: str) -> uuid.UUID:
    """Feed aggregates are UUIDs; a village's is derived from its code."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"kkb:village:{village_code}")


@lokus_router.put(
    "/{village_code}/{year}",
    summary="Designate a village as lokus stunting for a year (regent's decree).",
    dependencies=[Depends(require("registry.lokus.write"))],
)
async def designate_lokus(
    village_code: VillagePath,
    year: YearPath,
    body: LokusDesignate,
    session: Session,
    caller: Caller,
) -> LokusRead:
    require_writable_region(caller, village_code)
    await require_village(session, village_code, ["path", "village_code"])
    await repo.designate_lokus(session, village_code, year, body.decree_number, body.decree_date)
    await emit(
        session,
        "lokus.designated",
        "village",
        _lokus_aggregate(village_code),
        {
            "village_code": village_code,
            "year": year,
            "decree_number": body.decree_number,
            "decree_date": body.decree_date,
        },
        region_code=village_code,
    )
    rows = await repo.list_lokus(session, caller.region, village_code, year, True, None, 1)
    return LokusRead(**rows[0])


@lokus_router.delete(
    "/{village_code}/{year}",
    summary="Revoke a lokus designation (kept in history).",
    dependencies=[Depends(require("registry.lokus.write"))],
)
async def revoke_lokus(
    village_code: VillagePath,
    year: YearPath,
    session: Session,
    caller: Caller,
    reason: Annotated[str | None, Query(max_length=500)] = None,
) -> LokusRead:
    require_writable_region(caller, village_code)
    revoked = await repo.revoke_lokus(session, village_code, year, today(), reason)
    if revoked is None:
        raise not_found({"en": "Lokus designation", "id": "Penetapan lokus"})
    await emit(
        session,
        "lokus.revoked",
        "village",
        _lokus_aggregate(village_code),
        {"village_code": village_code, "year": year, **revoked},
        region_code=village_code,
    )
    rows = await repo.list_lokus(session, caller.region, village_code, year, True, None, 1)
    return LokusRead(**rows[0])


@lokus_router.get(
    "",
    summary="Lokus villages of a year, within a region (e.g. a regency).",
    dependencies=[Depends(require("registry.region.read"))],
)
async def list_lokus(
    session: Session,
    caller: Caller,
    page: Page,
    year: Annotated[int, Query(ge=2000, le=2100)],
    region: RegionQuery = None,
    include_revoked: bool = False,
) -> PageOut[LokusRead]:
    after = page.after[0] if page.after else None
    rows = await repo.list_lokus(
        session, caller.region, region or "", year, include_revoked, after, page.limit + 1
    )
    return paginate([LokusRead(**r) for r in rows], page, key=lambda r: [r.village_code])
