"""Families at risk of stunting (KRS) in the caller's region, with the reasons."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from common.audit_header import mark_audit
from common.auth import Caller, require
from common.db import Session
from common.errors import ProblemError
from common.pagination import Page, PageOut, paginate
from common.pii import mask_kk, mask_name
from services.registry.households import repository as households_repo
from services.registry.persons.crypto import KK_CONTEXT, pii_codec
from services.registry.persons.service import may_see_pii
from services.registry.risk import repository as repo
from services.registry.risk.rules import Criterion
from services.registry.risk.service import CRITERION_BY_KEY, criterion_key

router = APIRouter(prefix="/v1/krs", tags=["krs"])


class KrsFamily(BaseModel):
    household_id: uuid.UUID
    village_code: str
    village_name: str
    dusun: str | None
    rw: str | None
    rt: str | None
    kk_number: str
    head_name: str | None
    assessed_on: date
    rule_set: str
    criteria_met: list[str]
    criteria: dict[str, bool | None]
    reason: dict[str, str]
    masked: bool


def _criterion(value: str) -> str:
    if value in CRITERION_BY_KEY:
        return value
    try:
        return criterion_key(Criterion(value))
    except ValueError:
        raise ProblemError(
            422,
            "criterion_unknown",
            detail={
                "en": f"Unknown criterion {value!r}; use one of {', '.join(CRITERION_BY_KEY)}.",
                "id": f"Kriteria {value!r} tidak dikenal; pakai salah satu dari "
                f"{', '.join(CRITERION_BY_KEY)}.",
            },
        ) from None


@router.get(
    "",
    summary="KRS families of your region with their reasons (cursor-paginated).",
    dependencies=[Depends(require("registry.krs.read"))],
)
async def list_krs(
    session: Session,
    caller: Caller,
    page: Page,
    response: Response,
    village: Annotated[
        str | None,
        Query(
            pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$",
            description="A village, or any region code to list everything under it",
        ),
    ] = None,
    criterion: Annotated[
        list[str] | None,
        Query(description="Families meeting any of these criteria (e.g. unsafe_water)"),
    ] = None,
    lokus_year: Annotated[
        int | None, Query(ge=2000, le=2100, description="Only lokus villages of that year")
    ] = None,
) -> PageOut[KrsFamily]:
    criteria = [_criterion(c) for c in criterion or []]
    rows = await repo.list_krs(
        session, caller.region, village, criteria, lokus_year, page.after, page.limit + 1
    )
    shown = rows[: page.limit]
    heads = await households_repo.heads(session, [r["household_id"] for r in shown])
    unmasked = may_see_pii(caller)
    codec = pii_codec()
    items = []
    for i, r in enumerate(rows):
        head = heads.get(r["household_id"])
        name = head["full_name"] if head else None
        kk = codec.decrypt(r["kk_number_enc"], KK_CONTEXT) if i < page.limit else ""
        items.append(
            KrsFamily(
                **{k: r[k] for k in KrsFamily.model_fields if k in r},
                kk_number=kk if unmasked else mask_kk(kk) or "",
                head_name=name if unmasked else mask_name(name),
                masked=not unmasked,
            )
        )
    out = paginate(items, page, key=lambda f: [f.village_code, str(f.household_id)])
    if unmasked and out.items:
        mark_audit(
            response,
            record_type="household",
            record_ids=[str(f.household_id) for f in out.items],
            subject_ids=[
                str(heads[f.household_id]["id"]) for f in out.items if f.household_id in heads
            ],
            fields=["kk_number", "full_name"],
            unmasked=True,
        )
    return out
