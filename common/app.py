"""One factory that gives every app the same plumbing: settings, database, errors,
request context, health, metrics, and the change feed."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import orjson
import structlog
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from common.auth import require_service
from common.db import make_engine, make_sessionmaker, ping
from common.errors import ProblemError, install_error_handlers, problem_response
from common.feed import Position, read_feed
from common.idempotency import IdempotencyMiddleware
from common.logging import configure_logging
from common.middleware import RequestContextMiddleware
from common.settings import CommonSettings, ServiceSettings

log = structlog.get_logger()

Hook = Callable[[FastAPI], Awaitable[None]]


def operation_ids(prefix: str) -> Callable[[APIRoute], str]:
    """Stable operationIds (``registry_get_household``): clients are generated from them."""

    def generate(route: APIRoute) -> str:
        return f"{prefix}_{route.name}"

    return generate


def create_service_app(
    *,
    name: str,
    schema: str,
    title: str,
    description: str,
    settings: ServiceSettings,
    routers: Sequence[APIRouter] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    with_feed: bool = True,
    version: str = "0.1.0",
) -> FastAPI:
    common = CommonSettings()
    configure_logging(name, common.log_level, common.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.stop = asyncio.Event()
        app.state.background = []
        try:
            await ping(app.state.engine)
            log.info("database_ready", schema=schema)
        except Exception as exc:  # noqa: BLE001 - any failure here means "not ready"
            # Keep serving: /readyz reports 503 until the database answers.
            log.error("database_unreachable_at_startup", schema=schema, error=str(exc))
        for hook in on_startup:
            await hook(app)
        yield
        app.state.stop.set()
        for task in app.state.background:
            task.cancel()
        await asyncio.gather(*app.state.background, return_exceptions=True)
        for hook in on_shutdown:
            await hook(app)
        await app.state.engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        generate_unique_id_function=operation_ids(name),
    )
    app.state.name = name
    app.state.schema = schema
    app.state.settings = settings
    app.state.common = common
    app.state.engine = make_engine(
        settings.database_url, schema, pool_size=settings.db_pool_size, app_name=f"kkb-{name}"
    )
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    app.state.readiness_checks = []

    install_error_handlers(app)
    if with_feed:  # the gateway forwards writes; the services keep their keys
        app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(
        RequestContextMiddleware,
        app_name=name,
        body_limit=common.body_limit_bytes,
        upload_limit=common.upload_body_limit_bytes,
    )
    app.include_router(health_router())
    if with_feed:
        app.include_router(feed_router())
    for router in routers:
        declare_operations(router)
        app.include_router(router)
    return app


def declare_operations(router: APIRouter) -> None:
    """Publish each route's permission as ``x-kkb-operation`` in the OpenAPI document,
    so the gateway can refuse a call before forwarding it (defence in depth). Runs
    before inclusion: included routes copy ``openapi_extra`` from these originals."""

    def operations(dependant: Any) -> list[str]:
        found = [dependant.call.operation] if hasattr(dependant.call, "operation") else []
        for sub in dependant.dependencies:
            found += [op for op in operations(sub) if op not in found]
        return found

    for route in router.routes:
        if isinstance(route, APIRoute) and (ops := operations(route.dependant)):
            extension = ops[0] if len(ops) == 1 else ops
            route.openapi_extra = {**(route.openapi_extra or {}), "x-kkb-operation": extension}
        elif isinstance(nested := getattr(route, "original_router", None), APIRouter):
            declare_operations(nested)


def start_background(app: FastAPI, coro: Awaitable[Any]) -> None:
    app.state.background.append(asyncio.create_task(coro))


def health_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process answers.")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: database and dependencies answer.")
    async def readyz(request: Request) -> Response:
        app = request.app
        try:
            await asyncio.wait_for(ping(app.state.engine), timeout=3)
        except Exception as exc:  # noqa: BLE001
            return problem_response(
                ProblemError(
                    503,
                    "database_unavailable",
                    detail={
                        "en": f"Database not reachable: {type(exc).__name__}",
                        "id": f"Basis data tidak dapat dihubungi: {type(exc).__name__}",
                    },
                ),
                request,
            )
        for check in app.state.readiness_checks:
            problem = await check(app)
            if problem is not None:
                return problem_response(problem, request)
        return JSONResponse({"status": "ready"})

    @router.get("/metrics", summary="Prometheus metrics.", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def feed_router() -> APIRouter:
    router = APIRouter(tags=["internal"], include_in_schema=False)

    @router.get("/internal/feed", dependencies=[Depends(require_service)])
    async def internal_feed(
        request: Request,
        after: Annotated[str | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    ) -> Response:
        async with request.app.state.engine.connect() as conn:
            page = await read_feed(conn, after, limit, raw=True)
        # orjson straight to bytes: FastAPI's generic encoder is the bottleneck at 5k events.
        return Response(orjson.dumps(page), media_type="application/json")

    @router.get("/internal/feed/head", dependencies=[Depends(require_service)])
    async def internal_feed_head(
        request: Request, after: Annotated[str | None, Query()] = None
    ) -> dict:
        """The newest position the feed serves, and how many events follow ``after``."""
        pos = Position.decode(after)
        async with request.app.state.engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT (SELECT xid::text || '.' || id FROM outbox_event"
                        "        WHERE xid < pg_snapshot_xmin(pg_current_snapshot())"
                        "        ORDER BY xid DESC, id DESC LIMIT 1) AS head,"
                        " (SELECT count(*) FROM outbox_event"
                        "   WHERE (xid, id) > (CAST(CAST(:xid AS text) AS xid8), :id)"
                        "     AND xid < pg_snapshot_xmin(pg_current_snapshot())) AS behind"
                    ),
                    {"xid": str(pos.xid), "id": pos.id},
                )
            ).one()
        return {"head": row.head or "", "behind": row.behind}

    return router
