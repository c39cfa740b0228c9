"""Reporting operator commands: ``kkb reporting rebuild`` replays both feeds from zero."""

import argparse
import asyncio
import os

from common.db import make_engine, make_sessionmaker
from common.settings import CommonSettings
from services.reporting.feeds.consumers import RebuildResult, rebuild, source_clients
from services.reporting.settings import ReportingSettings


def register_reporting_commands(sub: argparse._SubParsersAction) -> None:
    reporting = sub.add_parser("reporting", help="reporting service tasks")
    tasks = reporting.add_subparsers(dest="task", required=True)
    again = tasks.add_parser(
        "rebuild",
        help="empty the read models and replay the registry and interventions feeds to "
        "their heads (the services must be running)",
    )
    again.add_argument("--db", help="database name (default: from DATABASE_URL, or kkb)")
    again.add_argument("--registry-url", help="default: REPORTING_REGISTRY_URL")
    again.add_argument("--interventions-url", help="default: REPORTING_INTERVENTIONS_URL")
    again.set_defaults(func=cmd_rebuild)
    doc = tasks.add_parser("indicators-doc", help="print docs/INDICATORS.md from the catalogue")
    doc.set_defaults(func=cmd_indicators_doc)


def cmd_indicators_doc(args: argparse.Namespace) -> int:  # noqa: ARG001
    from services.reporting.indicators_doc import render_markdown

    print(render_markdown(), end="")
    return 0


async def run_rebuild(
    database_url: str, registry_url: str, interventions_url: str
) -> RebuildResult:
    """Rebuild with the reporting role's connection ``database_url``."""
    common = CommonSettings()
    engine = make_engine(database_url, "reporting", pool_size=2, app_name="kkb-reporting-rebuild")
    clients = source_clients(
        registry_url, interventions_url, common.internal_secret, common.service_timeout_s
    )
    try:
        return await rebuild(make_sessionmaker(engine), clients)
    finally:
        for client in clients.values():
            await client.aclose()
        await engine.dispose()


def cmd_rebuild(args: argparse.Namespace) -> int:
    from kkb import database
    from kkb.database import DEFAULT_DATA_DIR, service_url

    settings = ReportingSettings()
    registry_url = args.registry_url or settings.registry_url
    interventions_url = args.interventions_url or settings.interventions_url
    if settings.database_url and not args.db:
        result = asyncio.run(run_rebuild(settings.database_url, registry_url, interventions_url))
    else:
        url = os.environ.get("DATABASE_URL")
        name = args.db or (database.database_of(url) if url else "kkb")
        server = database.start_server(DEFAULT_DATA_DIR)
        try:
            db_url = service_url(database.with_database(server.admin_url, name), "reporting")
            result = asyncio.run(run_rebuild(db_url, registry_url, interventions_url))
        finally:
            server.stop()
    for feed, count in result.events.items():
        print(f"{feed}: {count} events replayed, now at {result.positions[feed] or 'start'}")
    return 0
