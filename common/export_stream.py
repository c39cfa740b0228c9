"""Streaming a dataset as NDJSON from a server-side cursor, for the gateway's bulk
export job (``GET /internal/export/<dataset>``).

The rows come through an asyncpg cursor in chunks inside one read-only
REPEATABLE READ transaction (one consistent snapshot, never the whole result in
memory). The stream is framed so the gateway can tell a complete export from a cut
one: a first line ``{"kkb_export": {dataset, columns, estimated_rows, masked, region}}``,
the rows, and a last line ``{"kkb_export_end": {"rows": n}}``.

Each service names its datasets (``services/<service>/exports/datasets.py``) and mounts
:func:`export_router` over them.
"""

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from common.auth import Caller, Identity, require_service
from common.db import raw_connection
from common.errors import ProblemError
from common.scoping import in_scope, scope_sql

CHUNK_ROWS = 5000
REGION_PATTERN = r"^(\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?)?$"

# Turns a chunk of rows into NDJSON lines (without their newline).
Shape = Callable[[Sequence[asyncpg.Record], bool], list[bytes]]


@dataclass(frozen=True)
class Dataset:
    """``select`` and ``count`` take the region as ``$1`` (see :func:`region_filter`)."""

    name: str
    columns: tuple[str, ...]
    select: str
    count: str
    shape: Shape


def json_object(alias: str, columns: Sequence[str], exprs: dict[str, str] | None = None) -> str:
    """SQL building one row's JSON object text: the database does the per-column work
    (in its own process) and Python passes the text on. ``exprs`` replaces a column by
    an expression."""
    parts = [f"'{c}', {(exprs or {}).get(c, f'{alias}.{c}')}" for c in columns]
    return f"json_build_object({', '.join(parts)})::text"


def plain_rows(rows: Sequence[asyncpg.Record], masked: bool) -> list[bytes]:
    """Rows that are one JSON text column with nothing to mask."""
    return [r[0].encode() for r in rows]


def with_fields(fields: dict[str, Any], rest: str) -> bytes:
    """``fields`` (serialised here) and the database's JSON object text, as one object."""
    head = orjson.dumps(fields)
    return head[:-1] + b"," + rest[1:].encode() if len(rest) > 2 else head


def region_filter(column: str) -> str:
    """The project's one region-scope condition, with the region bound as ``$1``."""
    return scope_sql(column, "scope").replace(":scope", "$1")


def export_rights(caller: Identity, region: str, masked: bool) -> bool:
    """Whether the rows go out masked. The gateway signs the export's region and the
    caller's personal-data right into the service identity; both are checked again."""
    if not in_scope(caller.region, region):
        raise ProblemError(
            403,
            "region_out_of_scope",
            detail={
                "en": f"Region {region or 'national'} is outside the export's scope.",
                "id": f"Wilayah {region or 'nasional'} di luar cakupan ekspor.",
            },
        )
    return masked or not caller.pii


def unknown_dataset(name: str, known: Sequence[str]) -> ProblemError:
    return ProblemError(
        404,
        "dataset_unknown",
        detail={
            "en": f"No dataset {name!r} here; known: {', '.join(known)}.",
            "id": f"Tidak ada dataset {name!r} di sini; yang ada: {', '.join(known)}.",
        },
    )


async def ndjson_rows(
    engine: AsyncEngine, dataset: Dataset, region: str, masked: bool, chunk_rows: int = CHUNK_ROWS
) -> AsyncIterator[bytes]:
    """The framed NDJSON stream; one ``bytes`` per chunk of rows."""
    async with engine.connect() as conn:
        raw = await raw_connection(conn)
        async with raw.transaction(isolation="repeatable_read", readonly=True):
            estimated = await raw.fetchval(dataset.count, region)
            header = {
                "dataset": dataset.name,
                "columns": list(dataset.columns),
                "estimated_rows": estimated,
                "masked": masked,
                "region": region,
            }
            yield orjson.dumps({"kkb_export": header}) + b"\n"
            cursor = await raw.cursor(dataset.select, region)
            total = 0
            while rows := await cursor.fetch(chunk_rows):
                total += len(rows)
                yield b"\n".join(dataset.shape(rows, masked)) + b"\n"
            yield orjson.dumps({"kkb_export_end": {"rows": total}}) + b"\n"


def export_router(datasets: dict[str, Dataset]) -> APIRouter:
    """``GET /internal/export/{dataset}`` over ``datasets``, for the gateway's export jobs."""
    router = APIRouter(tags=["internal"], include_in_schema=False)

    @router.get("/internal/export/{dataset}", dependencies=[Depends(require_service)])
    async def export_dataset(
        dataset: str,
        request: Request,
        caller: Caller,
        region: Annotated[str, Query(pattern=REGION_PATTERN)],
        masked: bool = True,
    ) -> StreamingResponse:
        """Every row of ``dataset`` under ``region`` as framed NDJSON."""
        spec = datasets.get(dataset)
        if spec is None:
            raise unknown_dataset(dataset, list(datasets))
        hide = export_rights(caller, region, masked)
        return StreamingResponse(
            ndjson_rows(request.app.state.engine, spec, region, hide),
            media_type="application/x-ndjson",
        )

    return router
