"""Registry service: regions, Kampung KB sites, households, persons, growth, risk, Dukcapil."""

from fastapi import FastAPI

from common.app import create_service_app
from services.registry.regions.routes import router as regions_router
from services.registry.settings import RegistrySettings


def create_app() -> FastAPI:
    return create_service_app(
        name="registry",
        schema="registry",
        title="Kampung KB registry",
        description="Regions, Kampung KB sites, families and persons, target groups, "
        "family stunting risk, child growth, civil-registry integration.",
        settings=RegistrySettings(),
        routers=[regions_router],
    )
