"""Registry service: regions, Kampung KB sites, households, persons, growth, risk, Dukcapil."""

from fastapi import FastAPI

from common.app import create_service_app
from services.registry.dukcapil.routes import router as dukcapil_router
from services.registry.dukcapil.routes import verification_router as dukcapil_verification_router
from services.registry.dukcapil.worker import start_dukcapil, stop_dukcapil
from services.registry.duplicates.routes import router as duplicates_router
from services.registry.events.routes import router as life_events_router
from services.registry.exports.routes import router as exports_router
from services.registry.fhir.routes import router as fhir_router
from services.registry.growth.routes import router as growth_router
from services.registry.households.routes import router as households_router
from services.registry.persons.routes import router as persons_router
from services.registry.regions.routes import router as regions_router
from services.registry.risk.daily import start_krs_daily
from services.registry.risk.routes import router as krs_router
from services.registry.search.routes import router as search_router
from services.registry.settings import RegistrySettings
from services.registry.sites.routes import lokus_router
from services.registry.sites.routes import router as sites_router
from services.registry.subjects.routes import router as subjects_router


def create_app() -> FastAPI:
    return create_service_app(
        name="registry",
        schema="registry",
        title="Kampung KB registry",
        description="Regions, Kampung KB sites, families and persons, target groups, "
        "family stunting risk, child growth, civil-registry integration.",
        settings=RegistrySettings(),
        routers=[
            regions_router,
            sites_router,
            lokus_router,
            households_router,
            persons_router,
            life_events_router,
            krs_router,
            search_router,
            duplicates_router,
            subjects_router,
            growth_router,
            fhir_router,
            exports_router,
            dukcapil_verification_router,
            dukcapil_router,
        ],
        on_startup=[start_dukcapil, start_krs_daily],
        on_shutdown=[stop_dukcapil],
    )
