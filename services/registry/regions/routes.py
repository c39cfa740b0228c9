"""Kemendagri regions: browse, look up with ancestors, search by name."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from common.auth import require
from common.db import Session
from common.errors import ProblemError, not_found
from common.pagination import Page, PageOut, paginate
from services.registry.regions import repository as repo
from services.registry.regions.rules import is_valid_code, normalise_name
from services.registry.regions.schemas import RegionDetail, RegionRead

router = APIRouter(
    prefix="/v1/regions", tags=["regions"], dependencies=[Depends(require("registry.region.read"))]
)

CodePath = Annotated[str, Path(description="Dotted Kemendagri code, e.g. 61.04.16.2007")]


def _checked(code: str) -> str:
    if not is_valid_code(code):
        raise ProblemError(
            422,
            "invalid_region_code",
            detail={
                "en": f"{code!r} is not a Kemendagri code (PP, PP.KK, PP.KK.CC or PP.KK.CC.DDDD).",
                "id": f"{code!r} bukan kode Kemendagri (PP, PP.KK, PP.KK.CC atau PP.KK.CC.DDDD).",
            },
        )
    return code


@router.get("", summary="Search regions by name, or list provinces.")
async def list_regions(
    session: Session,
    page: Page,
    q: Annotated[
        str | None,
        Query(min_length=2, max_length=100, description="Name, case- and accent-insensitive"),
    ] = None,
    level: Annotated[Literal["province", "regency", "district", "village"] | None, Query()] = None,
    within: Annotated[str | None, Query(description="Only under this code")] = None,
) -> PageOut[RegionRead]:
    if q:
        rows = await repo.search(
            session, normalise_name(q), level, _checked(within) if within else None, page.limit
        )
        return PageOut(items=[RegionRead(**r) for r in rows])
    after = page.after[0] if page.after else None
    rows = await repo.children(session, None, after, page.limit + 1)
    return paginate([RegionRead(**r) for r in rows], page, key=lambda r: [r.code])


@router.get("/{code}", summary="One region with its ancestors.")
async def get_region(session: Session, code: CodePath) -> RegionDetail:
    region = await repo.get(session, _checked(code))
    if region is None:
        raise not_found({"en": "Region", "id": "Wilayah"})
    return RegionDetail(
        **region,
        ancestors=[RegionRead(**a) for a in await repo.ancestors(session, code)],
        children_count=await repo.count_children(session, code),
    )


@router.get("/{code}/children", summary="The regions directly under a code.")
async def list_children(session: Session, code: CodePath, page: Page) -> PageOut[RegionRead]:
    if await repo.get(session, _checked(code)) is None:
        raise not_found({"en": "Region", "id": "Wilayah"})
    after = page.after[0] if page.after else None
    rows = await repo.children(session, code, after, page.limit + 1)
    return paginate([RegionRead(**r) for r in rows], page, key=lambda r: [r.code])
