"""Merging the gateway's and the services' OpenAPI documents into one."""

from gateway.openapi_merge import merge_documents
from gateway.routes_table import service_for


def _op(op_id: str, *, operation: str | None = None, ref: str | None = None) -> dict:
    body: dict = {"operationId": op_id, "responses": {"200": {"description": "OK"}}}
    if ref:
        body["responses"]["200"]["content"] = {"application/json": {"schema": {"$ref": ref}}}
    if operation:
        body["x-kkb-operation"] = operation
    return body


VALIDATION_422 = {
    "description": "Validation Error",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
    },
}
FASTAPI_ERRORS = {
    "HTTPValidationError": {
        "type": "object",
        "properties": {
            "detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}
        },
    },
    "ValidationError": {"type": "object", "properties": {"msg": {"type": "string"}}},
}

GATEWAY = {
    "openapi": "3.1.0",
    "info": {"title": "Kampung KB API", "version": "0.1.0", "description": "One API."},
    "paths": {
        "/healthz": {"get": _op("gateway_healthz")},
        "/v1/auth/token": {"post": _op("gateway_issue_token")},
        "/v1/admin/users": {
            "post": {
                **_op("gateway_create_user", operation="admin.users"),
                "responses": {"201": {"description": "Created"}, "422": VALIDATION_422},
            }
        },
    },
    "components": {"schemas": {**FASTAPI_ERRORS, "Role": {"type": "string", "enum": ["admin"]}}},
}
REGISTRY = {
    "openapi": "3.1.0",
    "info": {"title": "registry", "version": "0"},
    "paths": {
        "/healthz": {"get": _op("registry_healthz")},
        "/internal/subjects/{id}": {"get": _op("registry_subject")},
        "/v1/households": {
            "post": _op(
                "registry_create_household",
                operation="registry.household.write",
                ref="#/components/schemas/DeliveryCreate",
            )
        },
        "/v1/not-routed": {"get": _op("registry_orphan")},
        "/v1/households/{household_id}/card": {
            "get": {**_op("registry_card"), "security": []}  # a signed link, say
        },
    },
    "components": {
        "schemas": {
            **FASTAPI_ERRORS,
            "Role": {"type": "string", "enum": ["admin"]},
            "DeliveryCreate": {"title": "DeliveryCreate", "properties": {"born_on": {}}},
        }
    },
}
INTERVENTIONS = {
    "openapi": "3.1.0",
    "info": {"title": "interventions", "version": "0"},
    "paths": {
        "/v1/interventions/deliveries": {
            "post": _op(
                "interventions_create_delivery",
                operation="interventions.delivery.write",
                ref="#/components/schemas/Wrapper",
            )
        }
    },
    "components": {
        "schemas": {
            # Same name as the registry's, another meaning: must be kept apart.
            "DeliveryCreate": {"title": "DeliveryCreate", "properties": {"quantity": {}}},
            # Identical text, but it points to the colliding schema: also kept apart.
            "Wrapper": {
                "oneOf": [{"$ref": "#/components/schemas/DeliveryCreate"}],
                "discriminator": {
                    "propertyName": "kind",
                    "mapping": {"d": "#/components/schemas/DeliveryCreate"},
                },
            },
        }
    },
}


def merge(**services) -> dict:
    return merge_documents(
        GATEWAY,
        services or {"registry": REGISTRY, "interventions": INTERVENTIONS, "reporting": None},
        route_owner=service_for,
        token_url="/v1/auth/token",
        scopes={"growth:read": "Read growth measurements"},
        server_url="https://api.example",
    )


def test_public_paths_only_and_only_routed_ones() -> None:
    paths = set(merge()["paths"])
    assert paths == {
        "/v1/auth/token",
        "/v1/admin/users",
        "/v1/households",
        "/v1/households/{household_id}/card",
        "/v1/interventions/deliveries",
    }


def test_colliding_components_are_prefixed_and_references_follow() -> None:
    doc = merge()
    schemas = doc["components"]["schemas"]
    assert schemas["DeliveryCreate"]["properties"] == {"born_on": {}}
    assert schemas["interventions_DeliveryCreate"]["properties"] == {"quantity": {}}
    assert schemas["interventions_DeliveryCreate"]["title"] == "interventions_DeliveryCreate"
    wrapper = schemas["Wrapper"]
    assert wrapper["oneOf"] == [{"$ref": "#/components/schemas/interventions_DeliveryCreate"}]
    assert wrapper["discriminator"]["mapping"] == {
        "d": "#/components/schemas/interventions_DeliveryCreate"
    }
    deliveries = doc["paths"]["/v1/interventions/deliveries"]["post"]
    assert deliveries["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Wrapper"
    }
    households = doc["paths"]["/v1/households"]["post"]
    assert households["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DeliveryCreate"
    }
    # Identical definitions are kept once.
    assert "registry_Role" not in schemas
    assert schemas["Role"] == {"type": "string", "enum": ["admin"]}


def test_security_errors_and_permission_notes() -> None:
    doc = merge()
    assert doc["security"] == [{"bearerAuth": []}, {"oauth2": []}]
    flows = doc["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["clientCredentials"]["scopes"] == {"growth:read": "Read growth measurements"}
    assert doc["paths"]["/v1/auth/token"]["post"]["security"] == []
    card = doc["paths"]["/v1/households/{household_id}/card"]["get"]
    assert card["security"] == []
    assert "401" not in card["responses"]
    users = doc["paths"]["/v1/admin/users"]["post"]
    assert users["responses"]["403"] == {"$ref": "#/components/responses/Forbidden"}
    assert users["responses"]["422"] == {"$ref": "#/components/responses/ValidationFailed"}
    assert "`admin.users`" in users["description"]
    assert "x-kkb-service" not in users
    households = doc["paths"]["/v1/households"]["post"]
    assert households["x-kkb-service"] == "registry"
    assert households["responses"]["503"] == {"$ref": "#/components/responses/ServiceUnavailable"}
    # FastAPI's own 422 schemas are unused once every 422 is a problem.
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert "ValidationError" not in doc["components"]["schemas"]
    assert doc["servers"] == [{"url": "https://api.example", "description": "Gateway"}]


def test_unreachable_service_is_named() -> None:
    doc = merge()
    assert doc["info"]["x-kkb-missing-services"] == ["reporting"]
    assert "reporting" in doc["info"]["description"]
    complete = merge(registry=REGISTRY, interventions=INTERVENTIONS, reporting=None)
    assert complete["info"]["x-kkb-missing-services"] == ["reporting"]
    whole = merge(registry=REGISTRY)
    assert "x-kkb-missing-services" not in whole["info"]
    assert whole["info"]["description"] == "One API."


def test_inputs_are_not_modified() -> None:
    import copy

    before = copy.deepcopy((GATEWAY, REGISTRY, INTERVENTIONS))
    merge()
    assert (GATEWAY, REGISTRY, INTERVENTIONS) == before
