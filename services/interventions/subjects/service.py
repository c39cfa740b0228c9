"""Finding the subject of a write: in the projection, else once from the registry."""

import uuid
from typing import Any

import httpx
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import ProblemError, not_found
from common.identity import Identity
from services.interventions.subjects import repository as repo
from services.interventions.subjects.consumer import lookup_subject

SUBJECT = {"en": "Subject (person or household)", "id": "Subjek (orang atau rumah tangga)"}


def registry_unavailable() -> ProblemError:
    return ProblemError(
        503,
        "registry_unavailable",
        detail={
            "en": "The subject is not known here yet and the registry cannot be reached; "
            "try again shortly.",
            "id": "Subjek belum dikenal di sini dan registri tidak dapat dihubungi; "
            "coba lagi sebentar lagi.",
        },
        headers={"Retry-After": "5"},
    )


async def fetch_missing(request: Request, subject_id: uuid.UUID) -> bool:
    """Fetch a subject the feed has not brought yet, in its own transaction so it is
    kept whatever happens to the request; False when the registry does not know it."""
    app = request.app
    try:
        async with app.state.engine.begin() as conn:
            return await lookup_subject(app.state.registry_client, conn, subject_id) is not None
    except httpx.HTTPError as exc:
        raise registry_unavailable() from exc


async def require_subject(
    request: Request, session: AsyncSession, caller: Identity, subject_id: uuid.UUID
) -> dict[str, Any]:
    """The subject within the caller's region; unknown or outside it is 404 alike."""
    row = await repo.get(session, subject_id, caller.region)
    if row is None and not await repo.exists(session, subject_id):
        if await fetch_missing(request, subject_id):
            row = await repo.get(session, subject_id, caller.region)
    if row is None:
        raise not_found(SUBJECT)
    if row["merged_into"] is not None:
        raise ProblemError(
            409,
            "subject_merged",
            detail={
                "en": f"This record was merged into {row['merged_into']}; use that one.",
                "id": f"Data ini telah digabung ke {row['merged_into']}; gunakan data itu.",
            },
            extra={"merged_into": str(row["merged_into"])},
        )
    return row
