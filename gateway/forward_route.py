"""The forwarding fast path: a route placed before every other one that claims the paths
a service owns, so a forwarded call skips the matching of the gateway's own routes and
FastAPI's dependency resolution (most of the gateway's per-request cost otherwise)."""

from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from gateway.routes_table import service_for

FORWARDED_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


class ForwardRoute(BaseRoute):
    # The template, not the concrete path: metrics and logs label requests by it.
    path = "/v1/{path:path}"

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["method"] in FORWARDED_METHODS:
            service = service_for(scope["path"])
            if service is not None:
                return Match.FULL, {"kkb_service": service, "route": self}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        from gateway.security import authorise_and_forward

        # A ProblemError raised here reaches the app's handlers like any route's.
        response = await authorise_and_forward(Request(scope, receive), scope["kkb_service"])
        await response(scope, receive, send)
