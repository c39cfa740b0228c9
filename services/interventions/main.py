"""Interventions service: catalogue, targets, deliveries, referrals, TPK visits."""

from fastapi import APIRouter, Depends, FastAPI

from common.app import create_service_app
from common.auth import require
from services.interventions.settings import InterventionsSettings


def sectors_router() -> APIRouter:
    from services.interventions.sectors import SECTORS

    router = APIRouter(prefix="/v1/interventions", tags=["catalogue"])

    @router.get(
        "/sectors",
        summary="The sectors (agencies) that deliver interventions.",
        dependencies=[Depends(require("interventions.catalogue.read"))],
    )
    async def list_sectors() -> list[dict]:
        return [
            {
                "code": info.sector.value,
                "label": info.label,
                "agency": info.agency,
                "agency_short": info.agency_short,
            }
            for info in SECTORS.values()
        ]

    return router


def create_app() -> FastAPI:
    return create_service_app(
        name="interventions",
        schema="interventions",
        title="Kampung KB interventions",
        description="Cross-sector intervention catalogue, targets and gaps, deliveries, "
        "referrals between agencies, family-assistance team (TPK) visits.",
        settings=InterventionsSettings(),
        routers=[sectors_router()],
    )
