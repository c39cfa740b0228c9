"""Interventions service: catalogue, targets, deliveries, referrals, TPK visits."""

from fastapi import APIRouter, Depends, FastAPI

from common.app import create_service_app
from common.auth import require
from services.interventions.catalogue.routes import router as catalogue_router
from services.interventions.catalogue.service import start_seeding
from services.interventions.deliveries.routes import router as deliveries_router
from services.interventions.exports.routes import router as exports_router
from services.interventions.fhir.routes import router as fhir_router
from services.interventions.referrals.routes import router as referrals_router
from services.interventions.referrals.rules import configure_referral_types
from services.interventions.settings import InterventionsSettings
from services.interventions.subjects.consumer import registry_client, start_registry_consumer
from services.interventions.subjects.routes import router as subjects_router
from services.interventions.targets.routes import router as targets_router
from services.interventions.tpk.routes import router as tpk_router
from services.interventions.tpk.rules import CatinRiskSettings, configure_visit_schedules


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


async def start(app: FastAPI) -> None:
    settings: InterventionsSettings = app.state.settings
    app.state.referral_types = configure_referral_types(settings.referral_types)
    app.state.visit_schedules = configure_visit_schedules(settings.visit_schedules)
    app.state.catin_risk = CatinRiskSettings(
        use_unconfirmed_rules=settings.catin_use_unconfirmed_rules
    )
    app.state.registry_client = registry_client(app)
    await start_seeding(app)
    if settings.consume_feeds:
        await start_registry_consumer(app)


async def stop(app: FastAPI) -> None:
    await app.state.registry_client.aclose()


def create_app() -> FastAPI:
    return create_service_app(
        name="interventions",
        schema="interventions",
        title="Kampung KB interventions",
        description="Cross-sector intervention catalogue, targets and gaps, deliveries, "
        "referrals between agencies, family-assistance team (TPK) visits.",
        settings=InterventionsSettings(),
        routers=[
            sectors_router(),
            catalogue_router,
            subjects_router,
            targets_router,
            deliveries_router,
            referrals_router,
            tpk_router,
            fhir_router,
            exports_router,
        ],
        on_startup=[start],
        on_shutdown=[stop],
    )
