"""Reporting service: read models from the feeds, indicators, exports, charts."""

from fastapi import FastAPI

from common.app import create_service_app
from services.reporting.charts_routes import router as charts_router
from services.reporting.drilldown import router as drilldown_router
from services.reporting.feeds.consumers import start_consumers, stop_consumers
from services.reporting.freshness import router as freshness_router
from services.reporting.publications.routes import router as publications_router
from services.reporting.scorecard_routes import router as scorecard_router
from services.reporting.settings import ReportingSettings
from services.reporting.values.routes import router as values_router
from services.reporting.values.snapshot import close_second_connections, open_second_connections


def create_app() -> FastAPI:
    return create_service_app(
        name="reporting",
        schema="reporting",
        title="Kampung KB reporting",
        description="Indicators by region and period, published figures, exports, charts.",
        settings=ReportingSettings(),
        routers=[
            freshness_router,
            values_router,
            drilldown_router,
            publications_router,
            charts_router,
            scorecard_router,
        ],
        on_startup=[start_consumers, open_second_connections],
        on_shutdown=[stop_consumers, close_second_connections],
    )
