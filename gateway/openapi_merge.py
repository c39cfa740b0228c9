"""One OpenAPI document for the whole API: the gateway's own paths plus each service's.

Pure functions over JSON documents. What the merge does:

* keeps only public paths: ``/internal/*``, health, readiness and metrics are left out,
  and a service path is kept only if the gateway routes it to that service;
* merges ``components`` without name collisions: a component whose name is taken by a
  different definition is renamed ``<service>_<name>`` and every reference to it
  within that service's document is rewritten;
* describes authentication once (bearer JWT and the OAuth2 token endpoint) and the
  problem+json errors every secured call can answer, with examples;
* names the services whose documents could not be fetched in ``info.description``.
"""

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

from gateway.operations import HTTP_METHODS, declared_operations

EXCLUDED_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})
PUBLIC_PATHS = frozenset(
    {"/v1/auth/token", "/.well-known/jwks.json", "/.well-known/openid-configuration"}
)
_REF_PREFIX = "#/components/"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details, in the caller's language (Accept-Language).",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable machine-readable error code."},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    },
                    "msg": {"type": "string"},
                    "code": {"type": "string"},
                },
                "required": ["loc", "msg"],
            },
        },
    },
    "required": ["type", "title", "status"],
}

_EXAMPLES: dict[str, dict[str, Any]] = {
    "Unauthorized": {
        "description": "Missing, expired or otherwise invalid access token.",
        "example": {
            "type": "/problems/token-expired",
            "title": "Authentication required",
            "status": 401,
            "code": "token_expired",
            "detail": "Authentication failed: Signature has expired.",
            "request_id": "5f0c6c1e2b7f4d0e9a3c1b2d4e6f8a10",
        },
    },
    "Forbidden": {
        "description": "The caller's role or client scopes do not allow this operation.",
        "example": {
            "type": "/problems/forbidden",
            "title": "Not allowed",
            "status": 403,
            "code": "forbidden",
            "detail": "Your role may not perform registry.household.write.",
        },
    },
    "ValidationFailed": {
        "description": "Invalid input; ``errors`` says which field and why.",
        "example": {
            "type": "/problems/validation-error",
            "title": "Invalid input",
            "status": 422,
            "code": "validation_error",
            "detail": "Some fields are invalid; see errors.",
            "errors": [{"loc": ["body", "village_code"], "msg": "Field required"}],
        },
    },
    "TooManyRequests": {
        "description": "Rate limit of this client exceeded; retry after ``Retry-After``.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "example": {
            "type": "/problems/rate-limited",
            "title": "Too many requests",
            "status": 429,
            "code": "rate_limited",
        },
    },
    "ServiceUnavailable": {
        "description": "The service behind this path is down; retry after ``Retry-After``.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "example": {
            "type": "/problems/service-unavailable",
            "title": "Service unavailable",
            "status": 503,
            "code": "service_unavailable",
            "service": "reporting",
        },
    },
}


def _problem_response(name: str) -> dict[str, Any]:
    spec = _EXAMPLES[name]
    response: dict[str, Any] = {
        "description": spec["description"],
        "content": {
            "application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "example": spec["example"],
            }
        },
    }
    if "headers" in spec:
        response["headers"] = spec["headers"]
    return response


def is_public_path(path: str) -> bool:
    return path not in EXCLUDED_PATHS and not path.startswith("/internal/")


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    """A copy of ``node`` with ``$ref`` values renamed (keys: ``section/name``)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_REF_PREFIX):
                out[key] = _renamed(value, renames)
            elif key == "mapping" and isinstance(value, dict):  # a discriminator's
                out[key] = {
                    k: _renamed(v, renames) if isinstance(v, str) else v for k, v in value.items()
                }
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def _renamed(ref: str, renames: Mapping[str, str]) -> str:
    if not ref.startswith(_REF_PREFIX):
        return ref
    target = ref[len(_REF_PREFIX) :]
    return _REF_PREFIX + renames.get(target, target)


def _collision_renames(
    merged: Mapping[str, Mapping[str, Any]], incoming: Mapping[str, Mapping[str, Any]], prefix: str
) -> dict[str, str]:
    """``section/name`` -> ``section/<prefix>_name`` for components that collide.

    Compared after renaming, to a fixed point: two identical definitions that point to
    components which themselves collide are different definitions.
    """
    renames: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for section, items in incoming.items():
            taken = merged.get(section, {})
            for name, definition in items.items():
                key = f"{section}/{name}"
                if key in renames or name not in taken:
                    continue
                if _canonical(taken[name]) != _canonical(_rewrite_refs(definition, renames)):
                    new_name, n = f"{prefix}_{name}", 2
                    while new_name in taken or new_name in items:
                        new_name, n = f"{prefix}_{name}_{n}", n + 1
                    renames[key] = f"{section}/{new_name}"
                    changed = True
    return renames


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _decorate(path: str, method: str, operation: dict[str, Any], service: str | None) -> None:
    """Security, error responses and the permission note of one operation."""
    responses = operation.setdefault("responses", {})
    if "422" in responses:
        responses["422"] = {"$ref": "#/components/responses/ValidationFailed"}
    if path in PUBLIC_PATHS or operation.get("security") == []:
        operation["security"] = []  # e.g. the token endpoint, a signed download link
        return
    responses.setdefault("401", {"$ref": "#/components/responses/Unauthorized"})
    responses.setdefault("429", {"$ref": "#/components/responses/TooManyRequests"})
    ops = declared_operations(operation)
    if ops:
        responses.setdefault("403", {"$ref": "#/components/responses/Forbidden"})
        note = "Permission: " + ", ".join(f"`{op}`" for op in ops) + "."
        description = operation.get("description", "")
        operation["description"] = f"{description}\n\n{note}".strip()
    if service is not None:
        operation["x-kkb-service"] = service
        responses.setdefault("503", {"$ref": "#/components/responses/ServiceUnavailable"})


def merge_documents(
    gateway: Mapping[str, Any],
    services: Mapping[str, Mapping[str, Any] | None],
    *,
    route_owner: Callable[[str], str | None],
    token_url: str,
    scopes: Mapping[str, str],
    server_url: str | None = None,
) -> dict[str, Any]:
    """The public document: ``gateway``'s own paths, then each service's in order.

    ``services`` maps a service name to its document, or ``None`` when it could not be
    fetched; ``route_owner(path)`` names the service the gateway routes ``path`` to.
    """
    merged: dict[str, Any] = {
        "openapi": gateway.get("openapi", "3.1.0"),
        "info": copy.deepcopy(dict(gateway.get("info", {}))),
        "paths": {},
        "components": copy.deepcopy(dict(gateway.get("components", {}))),
    }
    if server_url:
        merged["servers"] = [{"url": server_url, "description": "Gateway"}]
    for path, item in gateway.get("paths", {}).items():
        if is_public_path(path):
            merged["paths"][path] = copy.deepcopy(dict(item))
    owners: dict[str, str | None] = dict.fromkeys(merged["paths"])

    missing: list[str] = []
    for service, document in services.items():
        if document is None:
            missing.append(service)
            continue
        incoming = document.get("components", {})
        renames = _collision_renames(merged["components"], incoming, service)
        for section, items in incoming.items():
            target = merged["components"].setdefault(section, {})
            for name, definition in items.items():
                new_key = renames.get(f"{section}/{name}", f"{section}/{name}")
                new_name = new_key.split("/", 1)[1]
                if new_name not in target:
                    target[new_name] = _rewrite_refs(definition, renames)
                    if new_name != name and target[new_name].get("title") == name:
                        # Generators name classes by title: keep them apart too.
                        target[new_name]["title"] = new_name
        for path, item in document.get("paths", {}).items():
            if is_public_path(path) and route_owner(path) == service and path not in owners:
                merged["paths"][path] = _rewrite_refs(item, renames)
                owners[path] = service

    for path, item in merged["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS and isinstance(operation, dict):
                _decorate(path, method, operation, owners[path])

    components = merged["components"]
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = {**PROBLEM_SCHEMA, "example": _EXAMPLES["Forbidden"]["example"]}
    components.setdefault("responses", {}).update(
        {name: _problem_response(name) for name in _EXAMPLES}
    )
    components["securitySchemes"] = {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Access token from the token endpoint (or a trusted OIDC issuer).",
        },
        "oauth2": {
            "type": "oauth2",
            "description": "Users: password grant. Systems: client credentials.",
            "flows": {
                "password": {"tokenUrl": token_url, "scopes": {}},
                "clientCredentials": {"tokenUrl": token_url, "scopes": dict(scopes)},
            },
        },
    }
    merged["security"] = [{"bearerAuth": []}, {"oauth2": []}]
    _drop_unreferenced_schemas(merged, {"HTTPValidationError", "ValidationError"})

    if missing:
        note = (
            "\n\n**Incomplete document:** the "
            + ", ".join(missing)
            + " service(s) could not be reached; their paths are missing until they are back."
        )
        merged["info"]["description"] = merged["info"].get("description", "") + note
        merged["info"]["x-kkb-missing-services"] = missing
    return merged


def _drop_unreferenced_schemas(document: dict[str, Any], candidates: set[str]) -> None:
    """FastAPI's default 422 schemas are unused once 422 points to ``Problem``."""
    schemas = document["components"].get("schemas", {})
    text = _canonical({k: v for k, v in document.items() if k != "components"}) + _canonical(
        {k: v for k, v in document["components"].items() if k != "schemas"}
        | {"schemas": {k: v for k, v in schemas.items() if k not in candidates}}
    )
    for name in candidates:
        if f'"#/components/schemas/{name}"' not in text:
            schemas.pop(name, None)
