"""Reporting service: read models from the feeds, indicators, exports, charts."""

from fastapi import FastAPI

from common.app import create_service_app
from services.reporting.freshness import router as freshness_router
from services.reporting.settings import ReportingSettings


def create_app() -> FastAPI:
    return create_service_app(
        name="reporting",
        schema="reporting",
        title="Kampung KB reporting",
        description="Indicators by region and period, published figures, exports, charts.",
        settings=ReportingSettings(),
        routers=[freshness_router],
    )
