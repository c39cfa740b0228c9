"""Finding people: exact NIK or KK number (through the keyed hash, never in a URL),
ranked name search, and everyone of a target group in a region."""

import re
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.auth import Caller, require
from common.clock import today
from common.db import Session
from common.errors import ProblemError
from common.pagination import Page, PageOut, encode_cursor
from services.registry.events import repository as events_repo
from services.registry.events.rules import MAX_GESTATION
from services.registry.events.target_groups import (
    BADUTA_MONTHS,
    BALITA_MONTHS,
    CATIN_LEAD_MONTHS,
    POSTPARTUM_DAYS,
    PUS_AGE,
    REMAJA_PUTRI_AGE,
    TargetGroup,
)
from services.registry.persons.crypto import pii_codec
from services.registry.persons.rules import add_months, add_years
from services.registry.persons.schemas import PersonRead
from services.registry.persons.service import audit_persons, groups_of, person_view
from services.registry.search import repository as repo

router = APIRouter(prefix="/v1/search", tags=["search"])

_WORD = re.compile(r"[^\w]+", re.UNICODE)
_SLACK = timedelta(days=2)  # SQL narrows generously; the rules decide exactly


class PersonSearch(BaseModel):
    """Give ``nik`` or ``kk_number`` alone (exact), or any of ``name``, ``region``,
    ``target_group`` together."""

    model_config = ConfigDict(extra="forbid")

    nik: str | None = Field(default=None, max_length=32)
    kk_number: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, min_length=2, max_length=200)
    region: str | None = Field(default=None, pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
    target_group: TargetGroup | None = None
    as_of: date | None = Field(default=None, description="Target groups on this date")
    include_deceased: bool = False

    @model_validator(mode="after")
    def _one_mode(self) -> "PersonSearch":
        exact = [v for v in (self.nik, self.kk_number) if v is not None]
        rest = [v for v in (self.name, self.region, self.target_group) if v is not None]
        if len(exact) > 1 or (exact and rest) or not (exact or rest):
            raise ValueError("give nik or kk_number alone, or any of name, region, target_group")
        return self


class PersonHit(PersonRead):
    rank: float | None = None


def _tsquery(name: str) -> str:
    words = [w for w in _WORD.split(name.lower()) if w]
    if not words:
        raise ProblemError(
            422,
            "name_query_empty",
            detail={
                "en": "The name has no searchable word.",
                "id": "Nama tanpa kata yang bisa dicari.",
            },
        )
    return " & ".join(f"{w}:*" for w in words)


def _group_params(params: dict[str, Any], group: TargetGroup, on: date) -> None:
    match group:
        case TargetGroup.BADUTA:
            params["born_after"] = add_months(on, -BADUTA_MONTHS) - _SLACK
        case TargetGroup.BALITA:
            params["born_after"] = add_months(on, -BALITA_MONTHS) - _SLACK
        case TargetGroup.REMAJA_PUTRI:
            params.update(
                sex=2,
                born_after=add_years(on, -(REMAJA_PUTRI_AGE[1] + 1)) - _SLACK,
                born_before=add_years(on, -REMAJA_PUTRI_AGE[0]) + _SLACK,
            )
        case TargetGroup.PUS:
            params.update(
                sex=2,
                married=True,
                born_after=add_years(on, -(PUS_AGE[1] + 1)) - _SLACK,
                born_before=add_years(on, -PUS_AGE[0]) + _SLACK,
            )
        case TargetGroup.IBU_HAMIL:
            params.update(
                event_kind="pregnancy",
                event_kinds=["pregnancy"],
                event_from=on - MAX_GESTATION - _SLACK,
                event_to=on,
            )
        case TargetGroup.IBU_PASCA_PERSALINAN:
            params.update(
                event_kind="delivery",
                event_kinds=["pregnancy", "delivery"],
                event_from=on - timedelta(days=POSTPARTUM_DAYS) - _SLACK,
                event_to=on,
            )
        case TargetGroup.CATIN:
            params.update(
                event_kind="marriage_plan",
                event_kinds=["marriage_plan"],
                event_from=on,
                event_to=add_months(on, CATIN_LEAD_MONTHS) + _SLACK,
            )


@router.post(
    "/persons",
    summary="Search persons by NIK or KK number (exact), name (ranked), region, target group.",
    dependencies=[Depends(require("registry.person.read"))],
)
async def search_persons(
    body: PersonSearch, session: Session, caller: Caller, page: Page, response: Response
) -> PageOut[PersonHit]:
    on = body.as_of or today()
    codec = pii_codec()
    rows: list[dict[str, Any]]
    next_cursor = None
    if body.nik is not None or body.kk_number is not None:
        try:
            if body.nik is not None:
                rows = await repo.by_nik_hash(session, codec.hash("nik", body.nik), caller.region)
            else:
                digest = codec.hash("kk_number", body.kk_number or "")
                rows = await repo.by_kk_hash(session, digest, caller.region)
        except ValueError:
            rows = []  # not digits: cannot match anything
    else:
        params = repo.no_filters(body.region or "", on, body.include_deceased)
        if body.target_group is not None:
            _group_params(params, body.target_group, on)
        if body.name is not None:
            rows = await repo.by_name(
                session, _tsquery(body.name), caller.region, params, page.after, page.limit + 1
            )
            key = lambda r: [r["rank"], str(r["id"])]  # noqa: E731
        else:
            rows = await repo.by_region(session, caller.region, params, page.after, page.limit + 1)
            key = lambda r: [r["village_code"], str(r["id"])]  # noqa: E731
        if len(rows) > page.limit:
            rows = rows[: page.limit]
            next_cursor = encode_cursor(key(rows[-1]))
    events = await events_repo.events_of(session, [r["id"] for r in rows])
    hits = []
    for r in rows:
        life = events_repo.to_life_events(events.get(r["id"], []))
        if body.target_group is not None and not any(
            g["group"] == body.target_group for g in groups_of(r, life, on)
        ):
            continue
        hits.append(PersonHit(**person_view(r, caller, life, on), rank=r.get("rank")))
    audit_persons(response, caller, [h.id for h in hits])
    return PageOut(items=hits, next_cursor=next_cursor)
