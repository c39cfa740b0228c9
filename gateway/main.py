"""The gateway: the only public door. Authenticates, authorises by role and region,
audits, routes to the services, and serves one merged OpenAPI document."""

import asyncio

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from common.app import create_service_app
from common.permissions import SYSTEM_SCOPES
from gateway import proxy
from gateway.forward_route import ForwardRoute
from gateway.identity_signer import IdentitySigner
from gateway.integration.startup import start_integration, stop_integration
from gateway.openapi_merge import merge_documents
from gateway.routes_table import service_for
from gateway.service_docs import ServiceDocs
from gateway.settings import GatewaySettings

SERVICES = ("registry", "interventions", "reporting")


def create_app() -> FastAPI:
    settings = GatewaySettings()

    async def start(app: FastAPI) -> None:
        app.state.forwarder = proxy.make_forwarder(settings.proxy_transport)
        app.state.identity_signer = IdentitySigner(app.state.common.internal_secret)
        app.state.service_urls = {
            "registry": settings.registry_url,
            "interventions": settings.interventions_url,
            "reporting": settings.reporting_url,
        }
        app.state.docs_client = httpx.AsyncClient(timeout=5.0)
        app.state.service_docs = ServiceDocs(
            app.state.docs_client,
            app.state.service_urls,
            app.state.common.internal_secret,
            ttl_s=settings.openapi_ttl_s,
            retry_s=settings.openapi_retry_s,
        )
        from gateway.security import startup as security_startup

        await security_startup(app)

    async def stop(app: FastAPI) -> None:
        await app.state.forwarder.aclose()
        await app.state.docs_client.aclose()

    from gateway.routes import routers

    app = create_service_app(
        name="gateway",
        schema="gateway",
        title="Kampung KB API",
        description=open_api_description(),
        settings=settings,
        routers=routers(),
        on_startup=[start, start_integration],
        on_shutdown=[stop, stop_integration],
        with_feed=False,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "If-Match",
                "Accept-Language",
                "X-Request-ID",
                "X-KKB-Purpose",
            ],
            expose_headers=["ETag", "X-Request-ID", "Retry-After", "Location"],
        )

    # The merged document replaces FastAPI's own at the same URL, so /docs shows it.
    app.router.routes[:] = [
        r for r in app.router.routes if getattr(r, "path", None) != app.openapi_url
    ]

    @app.get(app.openapi_url, include_in_schema=False)
    async def merged_openapi(request: Request) -> JSONResponse:
        return JSONResponse(await merged_document(request.app))

    app.router.routes.insert(0, ForwardRoute())
    return app


async def merged_document(app: FastAPI) -> dict:
    """The gateway's paths and every reachable service's, merged; cached per input."""
    docs: ServiceDocs = app.state.service_docs
    fetched = await asyncio.gather(*(docs.document(s) for s in SERVICES))
    cached = getattr(app.state, "merged_openapi", None)
    if cached is not None and all(a is b for a, b in zip(cached[0], fetched, strict=True)):
        return cached[1]
    settings: GatewaySettings = app.state.settings
    document = merge_documents(
        app.openapi(),
        dict(zip(SERVICES, fetched, strict=True)),
        route_owner=service_for,
        token_url="/v1/auth/token",
        scopes={name: scope.label["en"] for name, scope in SYSTEM_SCOPES.items()},
        server_url=settings.public_url,
    )
    app.state.merged_openapi = (fetched, document)
    return document


def open_api_description() -> str:
    return (
        "One API for the Kampung KB stunting-convergence backend. Authenticate with "
        "`POST /v1/auth/token`, send `Authorization: Bearer <token>`. Errors are RFC 9457 "
        "problem+json; lists use cursor pagination; POST accepts `Idempotency-Key`; "
        "updates need `If-Match`. `Accept-Language: id` answers in Indonesian.\n\n"
        "Each operation names the permission it needs (`x-kkb-operation`); the table of "
        "roles and permissions is in the README. Personal data is masked unless the "
        "caller's role may see it and the request states a purpose in `X-KKB-Purpose`; "
        "every unmasked read and every write is recorded in the audit log."
    )
