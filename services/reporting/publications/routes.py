"""Published figures of a regency for a period: frozen once published, never changed.

Publishing freezes every indicator for the regency, its districts and villages, with
the indicator versions and the data cut-off (the feed positions the figures were
computed at, in one consistent snapshot). Publishing again creates the next version
only when figures or definitions differ; a published version is never rewritten.
Which cells a caller without the personal-data right sees withheld is frozen too.
"""

import hashlib
import uuid
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from common.auth import Caller, require
from common.db import Session
from common.errors import ProblemError, not_found
from common.pagination import MAX_LIMIT
from common.scoping import require_writable_region
from services.reporting.engine import definitions as defs
from services.reporting.engine.compute import compute_tree
from services.reporting.periods import parse_period
from services.reporting.publications import repository as repo
from services.reporting.regions import region_index
from services.reporting.values.schemas import PeriodRead, RegionRead
from services.reporting.values.service import (
    data_cutoff,
    is_protected,
    require_region,
    shown_figures,
)
from services.reporting.values.snapshot import consistent_snapshot

router = APIRouter(prefix="/v1/reporting/publications", tags=["publications"])

PUBLICATION = {"en": "Publication", "id": "Publikasi"}


class PublicationCreate(BaseModel):
    region: str = Field(pattern=r"^\d{2}\.\d{2}$", description="Regency code", examples=["61.04"])
    period: str = Field(max_length=12, examples=["2026-Q1"])


class PublishedFigure(BaseModel):
    region: RegionRead
    numerator: int | None
    denominator: int | None
    value: float | int | None
    suppressed: str | None = None


class PublishedIndicator(BaseModel):
    code: str
    key: str
    name: dict[str, str]
    unit: str
    direction: str
    figures: list[PublishedFigure]


class PublicationSummary(BaseModel):
    id: uuid.UUID
    region: RegionRead
    period: PeriodRead
    version: int
    published_at: datetime
    published_by: str
    data_cutoff: dict[str, Any]
    indicator_keys: list[str]
    fingerprint: str


class PublicationRead(PublicationSummary):
    small_cells_suppressed: bool
    indicators: list[PublishedIndicator]


def _fingerprint(keys: list[str], indicators: list[dict[str, Any]]) -> str:
    canonical = orjson.dumps({"keys": keys, "indicators": indicators}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _summary(row: dict[str, Any]) -> PublicationSummary:
    regions = region_index()
    return PublicationSummary(
        id=row["publication_id"],
        region=RegionRead.of(regions.require(row["region_code"])),
        period=PeriodRead.of(parse_period(row["period_code"])),
        version=row["version"],
        published_at=row["published_at"],
        published_by=row["published_by"],
        data_cutoff=row["data_cutoff"],
        indicator_keys=row["indicator_keys"],
        fingerprint=row["fingerprint"],
    )


def _out(row: dict[str, Any], protected: bool) -> PublicationRead:
    regions = region_index()
    indicators = []
    for item in row["figures"]["indicators"]:
        figures = []
        for code, f in item["regions"].items():
            withheld = protected and f.get("withheld")
            figures.append(
                PublishedFigure(
                    region=RegionRead.of(regions.require(code)),
                    numerator=None if withheld else f["numerator"],
                    denominator=None if withheld else f["denominator"],
                    value=None if withheld else f["value"],
                    suppressed=f["withheld"] if withheld else None,
                )
            )
        indicators.append(
            PublishedIndicator(
                **{k: item[k] for k in ("code", "key", "name", "unit", "direction")},
                figures=figures,
            )
        )
    return PublicationRead(
        **_summary(row).model_dump(), small_cells_suppressed=protected, indicators=indicators
    )


@router.post(
    "",
    status_code=201,
    summary="Publish (freeze) a regency's figures for a period; a new version if changed.",
    dependencies=[Depends(require("reporting.publish"))],
)
async def create_publication(
    body: PublicationCreate,
    request: Request,
    session: Session,
    caller: Caller,
    response: Response,
) -> PublicationRead:
    # One snapshot for all figures and the feed positions: the cut-off is exact.
    await consistent_snapshot(session)
    regions = region_index()
    region = regions.require(body.region)
    if region.level != "regency":
        raise ProblemError(
            422,
            "publication_region_not_regency",
            detail={
                "id": "Angka dipublikasikan per kabupaten/kota (kode seperti 61.04).",
                "en": "Figures are published per regency (a code like 61.04).",
            },
        )
    require_writable_region(caller, region.code)
    period = parse_period(body.period)
    definitions = defs.full_set(period)
    threshold = request.app.state.settings.small_cell_threshold
    trees = await compute_tree(session, regions, definitions, period, region.code)
    # What callers without the personal-data right may see: the province-wide pattern.
    province = region.code[:2]
    wide = await compute_tree(session, regions, definitions, period, province)
    codes = [region.code, *regions.descendants(region.code)]
    indicators = []
    for definition, tree, wide_tree in zip(definitions, trees, wide, strict=True):
        shown = shown_figures(wide_tree, regions, province, protected=True, threshold=threshold)
        figures = {}
        for code in codes:
            f, withheld = tree.get(code), shown[code].suppressed
            figures[code] = {
                "numerator": f.numerator,
                "denominator": f.denominator,
                "value": f.value,
                "withheld": withheld.value if withheld else None,
            }
        indicators.append(
            {
                "code": definition.code,
                "key": definition.key,
                "name": dict(definition.name),
                "unit": definition.unit.value,
                "direction": definition.direction.value,
                "regions": figures,
            }
        )
    keys = [d.key for d in definitions]
    fingerprint = _fingerprint(keys, indicators)
    await repo.lock_series(session, region.code, period.code)
    previous = await repo.latest(session, region.code, period.code)
    if previous is not None and previous["fingerprint"] == fingerprint:
        response.status_code = 200  # nothing changed: the published version stands
        found = await repo.get(session, previous["publication_id"], "")
        assert found is not None
        return _out(found, is_protected(caller))
    row = {
        "publication_id": uuid.uuid4(),
        "region_code": region.code,
        "period_code": period.code,
        "version": (previous["version"] + 1) if previous else 1,
        "published_by": caller.sub,
        "data_cutoff": await data_cutoff(session),
        "indicator_keys": keys,
        "fingerprint": fingerprint,
        "figures": {"period": period.code, "indicators": indicators},
    }
    try:
        await repo.insert(session, row)
    except IntegrityError as exc:  # another publisher numbered the same version first
        raise ProblemError(
            409,
            "publication_conflict",
            detail={
                "id": "Angka yang sama baru saja dipublikasikan orang lain; ulangi.",
                "en": "Someone published the same figures a moment ago; try again.",
            },
        ) from exc
    stored = await repo.get(session, row["publication_id"], "")
    assert stored is not None
    return _out(stored, is_protected(caller))


@router.get(
    "",
    summary="Published versions, newest first per region and period.",
    dependencies=[Depends(require("reporting.indicator.read"))],
)
async def list_publications(
    session: Session,
    caller: Caller,
    region: Annotated[str | None, Query(max_length=13)] = None,
    period: Annotated[str | None, Query(max_length=12)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> list[PublicationSummary]:
    if region is not None:
        require_region(region_index(), caller, region)
    period_code = parse_period(period).code if period else None
    rows = await repo.list_versions(session, caller.region, region, period_code, limit)
    return [_summary(r) for r in rows]


@router.get(
    "/{publication_id}",
    summary="The frozen figures of one published version.",
    dependencies=[Depends(require("reporting.indicator.read"))],
)
async def get_publication(
    publication_id: uuid.UUID, session: Session, caller: Caller
) -> PublicationRead:
    row = await repo.get(session, publication_id, caller.region)
    if row is None:
        raise not_found(PUBLICATION)
    return _out(row, is_protected(caller))
