"""The intervention catalogue: read by every casework role, changed by administrators
through new versions (the version in force on a delivery's date is kept with it)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.exc import IntegrityError

from common.auth import Caller, require
from common.clock import today
from common.db import Session
from common.errors import ProblemError
from services.interventions.catalogue import repository as repo
from services.interventions.catalogue.rules import (
    CatalogueEntry,
    InterventionKind,
    retired_on,
    validate_new_entry,
    validate_new_version,
    validate_retirement,
    version_in_force,
    versions_of,
)
from services.interventions.catalogue.schemas import (
    CatalogueDetail,
    CatalogueEntryCreate,
    CatalogueEntryIn,
    CatalogueItem,
    Retirement,
    VersionSummary,
    version_read,
)
from services.interventions.problems import raise_violations
from services.interventions.sectors import Sector

router = APIRouter(prefix="/v1/interventions/catalogue", tags=["catalogue"])

CodePath = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{0,15}$", examples=["S2"])]
_READ = [Depends(require("interventions.catalogue.read"))]
_WRITE = [Depends(require("interventions.catalogue.write"))]


def _unknown(code: str) -> ProblemError:
    return ProblemError(
        404,
        "unknown_intervention",
        detail={
            "en": f"Intervention {code} is not in the catalogue.",
            "id": f"Intervensi {code} tidak ada di katalog.",
        },
    )


def _version_clash(code: str) -> ProblemError:
    return ProblemError(
        409,
        "catalogue_changed",
        detail={
            "en": f"Another change to {code} was saved at the same moment; reload and retry.",
            "id": f"Perubahan lain pada {code} tersimpan bersamaan; muat ulang lalu coba lagi.",
        },
    )


def _detail(code: str, versions: list[CatalogueEntry], on: date) -> CatalogueDetail:
    in_force = version_in_force(versions, code, on)
    return CatalogueDetail(
        code=code,
        in_force_version=in_force.version if in_force else None,
        retired_on=retired_on(versions, code),
        versions=[version_read(v) for v in versions],
    )


@router.get("", summary="Interventions with the version in force on a day.", dependencies=_READ)
async def list_catalogue(
    session: Session,
    on: Annotated[date | None, Query(description="Day the versions are in force; today")] = None,
    kind: InterventionKind | None = None,
    sector: Sector | None = None,
    include_retired: bool = False,
) -> list[CatalogueItem]:
    day = on or today()
    entries = await repo.all_entries(session)
    items = []
    for code in sorted({e.code for e in entries}, key=_code_order):
        versions = versions_of(entries, code)
        latest = versions[-1]
        retired = retired_on(versions, code)
        if kind is not None and latest.kind != kind:
            continue
        if sector is not None and sector not in latest.sectors:
            continue
        if retired is not None and retired <= day and not include_retired:
            continue
        in_force = version_in_force(versions, code, day)
        items.append(
            CatalogueItem(
                code=code,
                in_force=version_read(in_force) if in_force else None,
                retired_on=retired,
                versions=[
                    VersionSummary(version=v.version, valid_from=v.valid_from, retired_on=retired)
                    for v in versions
                ],
            )
        )
    return items


def _code_order(code: str) -> tuple[str, int, str]:
    """S1, S2 … S11, then N1 … N15, then other codes."""
    head, digits = code[:1], code[1:]
    rank = {"S": "0", "N": "1"}.get(head, "2")
    return (rank, int(digits) if digits.isdigit() else 0, code)


@router.get("/{code}", summary="One intervention with all its versions.", dependencies=_READ)
async def get_catalogue_entry(
    code: CodePath,
    session: Session,
    on: Annotated[date | None, Query(description="Day for in_force_version; today")] = None,
) -> CatalogueDetail:
    versions = await repo.versions(session, code)
    if not versions:
        raise _unknown(code)
    return _detail(code, versions, on or today())


@router.post(
    "",
    status_code=201,
    summary="Add an intervention (version 1).",
    dependencies=_WRITE,
)
async def create_catalogue_entry(
    body: CatalogueEntryCreate, session: Session, caller: Caller
) -> CatalogueDetail:
    entry = body.entry(body.code, 1)
    existing = await repo.versions(session, body.code, lock=True)
    raise_violations(validate_new_entry(existing, entry))
    try:
        await repo.insert(session, entry, caller.sub)
    except IntegrityError as exc:
        raise _version_clash(body.code) from exc
    return _detail(body.code, [entry], today())


@router.post(
    "/{code}/versions",
    status_code=201,
    summary="Add the next version of an intervention, in force from valid_from.",
    dependencies=_WRITE,
)
async def create_catalogue_version(
    code: CodePath, body: CatalogueEntryIn, session: Session, caller: Caller
) -> CatalogueDetail:
    existing = await repo.versions(session, code, lock=True)
    if not existing:
        raise _unknown(code)
    entry = body.entry(code, existing[-1].version + 1)
    raise_violations(validate_new_version(existing, entry))
    try:
        await repo.insert(session, entry, caller.sub)
    except IntegrityError as exc:
        raise _version_clash(code) from exc
    return _detail(code, [*existing, entry], today())


@router.post(
    "/{code}/retire",
    summary="Retire an intervention from a day on (no deliveries from then).",
    dependencies=_WRITE,
)
async def retire_catalogue_entry(
    code: CodePath, body: Retirement, session: Session
) -> CatalogueDetail:
    existing = await repo.versions(session, code, lock=True)
    if not existing:
        raise _unknown(code)
    raise_violations(validate_retirement(existing, code, body.retired_on))
    await repo.retire(session, code, body.retired_on)
    return _detail(code, await repo.versions(session, code), today())
