"""The caller as services see it: the identity the gateway verified and forwarded.

Services refuse any /v1 or /internal call without a valid ``X-KKB-Identity`` (401), and
re-check the permission and region scope themselves: a gateway bug must not leak data.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from common.errors import ProblemError
from common.http import IDENTITY_HEADER
from common.i18n import current_lang
from common.identity import Identity, IdentityError, decode_identity
from common.permissions import allowed


def _unauthorized(reason: str) -> ProblemError:
    return ProblemError(
        401,
        detail={
            "en": f"Missing or invalid internal credentials ({reason}); "
            "call this API through the gateway.",
            "id": f"Kredensial internal tidak ada atau tidak valid ({reason}); "
            "panggil API ini melalui gateway.",
        },
    )


def caller_dependency(request: Request) -> Identity:
    token = request.headers.get(IDENTITY_HEADER)
    if not token:
        raise _unauthorized("no identity")
    try:
        identity = decode_identity(token, request.app.state.common.internal_secret)
    except IdentityError as exc:
        raise _unauthorized(str(exc)) from exc
    request.state.identity = identity
    if identity.lang and "accept-language" not in request.headers:
        current_lang.set(identity.lang)
    return identity


Caller = Annotated[Identity, Depends(caller_dependency)]


def forbidden(operation: str) -> ProblemError:
    return ProblemError(
        403,
        "forbidden",
        detail={
            "en": f"Your role may not perform {operation}.",
            "id": f"Peran Anda tidak boleh melakukan {operation}.",
        },
    )


def require(operation: str) -> Callable[[Identity], Identity]:
    """Dependency: the caller's role (or client scopes) must allow ``operation``."""

    def check(caller: Caller) -> Identity:
        if caller.role == "service":
            return caller
        if not allowed(caller.role, operation, sector=caller.sector, scopes=caller.scopes):
            raise forbidden(operation)
        return caller

    check.__name__ = f"require_{operation.replace('.', '_')}"
    # Read by common.app to publish the route's operation for the gateway's own check.
    check.operation = operation  # type: ignore[attr-defined]
    return check


def require_service(caller: Caller) -> Identity:
    if caller.role != "service":
        raise forbidden("internal feed")
    return caller
