"""Registering people: every check runs before anything is written."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import ProblemError, field_error
from common.ids import uuid7
from services.registry.persons import repository as repo
from services.registry.persons.crypto import NIK_CONTEXT, pii_codec
from services.registry.persons.nik_rules import new_provisional_id, validate_nik
from services.registry.persons.problems import Located, located_problem
from services.registry.persons.region_facts import RegionCodes
from services.registry.persons.rules import Issue, PersonFacts, check_mother, validate_person
from services.registry.persons.schemas import MemberCreate


@dataclass(frozen=True)
class NewMember:
    """A checked member, ready to insert; ``mother`` is a person id when known."""

    id: uuid.UUID
    body: MemberCreate
    nik: str | None
    nik_hash: str | None
    mother_id: uuid.UUID | None = None


def member_issues(body: MemberCreate, today: date, codes: RegionCodes) -> list[Issue]:
    facts = PersonFacts(
        birth_date=body.birth_date,
        sex=body.sex,
        marital_status=body.marital_status,
        marital_status_since=body.marital_status_since,
    )
    found = list(validate_person(facts, today).errors)
    if body.nik is not None:
        check = validate_nik(
            body.nik,
            today=today,
            known_provinces=codes.provinces,
            known_districts=codes.districts,
            birth_date=body.birth_date,
            sex=body.sex,
        )
        found.extend(check.errors)
    return found


def mother_issues(mother: PersonFacts, child_birth: date) -> list[Issue]:
    return check_mother(mother, child_birth)


def nik_taken(holder: dict[str, Any], loc: Sequence[str | int]) -> ProblemError:
    """409 naming the village of the household that already holds the NIK."""
    village = f"{holder['village_name']} ({holder['village_code']})"
    if holder["death_date"] is not None:
        detail = {
            "en": f"This NIK belongs to a person recorded as deceased in {village}.",
            "id": f"NIK ini milik orang yang tercatat meninggal di {village}.",
        }
    else:
        detail = {
            "en": f"This NIK is already registered in an active household in {village}; "
            "a person can belong to one household only: move them instead.",
            "id": f"NIK ini sudah terdaftar pada rumah tangga aktif di {village}; "
            "satu orang hanya boleh di satu rumah tangga: gunakan pindah.",
        }
    return ProblemError(
        409,
        "nik_already_registered",
        detail=detail,
        errors=[field_error([*loc, "nik"], detail, "nik_already_registered")],
        extra={
            "existing_village_code": holder["village_code"],
            "existing_village_name": holder["village_name"],
        },
    )


async def check_niks_free(
    session: AsyncSession, members: Sequence[tuple[Sequence[str | int], str]]
) -> list[str]:
    """Hashes of the given NIKs; 422 on a NIK given twice, 409 on one already held."""
    codec = pii_codec()
    hashes = []
    seen: dict[str, Sequence[str | int]] = {}
    for loc, nik in members:
        digest = codec.hash("nik", nik.strip())
        if digest in seen:
            raise located_problem(
                [
                    (
                        loc,
                        Issue(
                            "nik_repeated",
                            {
                                "en": "The same NIK is given for two people.",
                                "id": "NIK yang sama diisi untuk dua orang.",
                            },
                            "nik",
                        ),
                    )
                ]
            )
        seen[digest] = loc
        holder = await repo.holder_of_nik(session, digest)
        if holder is not None:
            raise nik_taken(holder, loc)
        hashes.append(digest)
    return hashes


def raise_all(found: list[Located]) -> None:
    if found:
        raise located_problem(found)


async def insert_member(
    session: AsyncSession,
    member: NewMember,
    household_id: uuid.UUID,
    village_code: str,
    start_date: date,
) -> None:
    body = member.body
    codec = pii_codec()
    await repo.insert_person(
        session,
        {
            **body.model_dump(exclude={"nik", "relationship", "mother_id", "joined_on"}),
            "id": member.id,
            "nik_enc": codec.encrypt(member.nik.strip(), NIK_CONTEXT) if member.nik else None,
            "nik_hash": member.nik_hash,
            "provisional_id": None if member.nik else new_provisional_id(member.id),
            "mother_id": member.mother_id,
            "household_id": household_id,
            "relationship": body.relationship,
            "village_code": village_code,
        },
    )
    await repo.insert_membership(session, member.id, household_id, body.relationship, start_date)


def new_member_id() -> uuid.UUID:
    return uuid7()
