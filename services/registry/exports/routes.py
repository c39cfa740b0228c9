"""Internal streaming export of registry datasets, read by the gateway's export job."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from common.auth import Caller, require_service
from services.registry.exports.datasets import DATASETS
from services.registry.exports.stream import (
    REGION_PATTERN,
    export_rights,
    ndjson_rows,
    unknown_dataset,
)

router = APIRouter(tags=["internal"], include_in_schema=False)


@router.get("/internal/export/{dataset}", dependencies=[Depends(require_service)])
async def export_dataset(
    dataset: str,
    request: Request,
    caller: Caller,
    region: Annotated[str, Query(pattern=REGION_PATTERN)],
    masked: bool = True,
) -> StreamingResponse:
    """Every row of ``dataset`` under ``region`` as framed NDJSON (see ``stream``)."""
    spec = DATASETS.get(dataset)
    if spec is None:
        raise unknown_dataset(dataset, list(DATASETS))
    hide = export_rights(caller, region, masked)
    return StreamingResponse(
        ndjson_rows(request.app.state.engine, spec, region, hide),
        media_type="application/x-ndjson",
    )
