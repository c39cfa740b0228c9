"""The gateway: the only public door. Authenticates, authorises by role and region,
audits, routes to the services, and serves one merged OpenAPI document."""

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.responses import Response

from common.app import create_service_app
from common.errors import ProblemError
from gateway import proxy
from gateway.routes_table import service_for
from gateway.settings import GatewaySettings


def create_app() -> FastAPI:
    settings = GatewaySettings()

    async def start(app: FastAPI) -> None:
        app.state.proxy_client = proxy.make_client()
        app.state.service_urls = {
            "registry": settings.registry_url,
            "interventions": settings.interventions_url,
            "reporting": settings.reporting_url,
        }
        from gateway.security import startup as security_startup

        await security_startup(app)

    async def stop(app: FastAPI) -> None:
        await app.state.proxy_client.aclose()

    from gateway.routes import routers

    app = create_service_app(
        name="gateway",
        schema="gateway",
        title="Kampung KB API",
        description=open_api_description(),
        settings=settings,
        routers=routers(),
        on_startup=[start],
        on_shutdown=[stop],
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

    @app.api_route(
        "/v1/{path:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    async def to_service(request: Request, path: str) -> Response:  # noqa: ARG001
        service = service_for(request.url.path)
        if service is None:
            raise ProblemError(
                404,
                detail={
                    "en": f"No route {request.method} {request.url.path}",
                    "id": f"Tidak ada rute {request.method} {request.url.path}",
                },
            )
        from gateway.security import authorise_and_forward

        return await authorise_and_forward(request, service)

    return app


def open_api_description() -> str:
    return (
        "One API for the Kampung KB stunting-convergence backend. Authenticate with "
        "`POST /v1/auth/token`, send `Authorization: Bearer <token>`. Errors are RFC 9457 "
        "problem+json; lists use cursor pagination; POST accepts `Idempotency-Key`; "
        "updates need `If-Match`. `Accept-Language: id` answers in Indonesian."
    )
