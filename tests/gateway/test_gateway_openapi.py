"""One OpenAPI document for the whole API, fetched through the real stack: valid, without
internal paths, every service path the gateway routes, security described, and good
enough to generate a working Python client from."""

import importlib
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from common.permissions import Operation
from gateway.routes_table import service_for

SERVICES = ("registry", "interventions", "reporting")
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def document(stack) -> dict:
    resp = httpx.get(f"{stack.url('gateway')}/openapi.json", timeout=60)
    assert resp.status_code == 200
    return resp.json()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_document_is_valid_openapi(document):
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_it_holds_every_public_path_of_every_service_and_the_gateway(stack, document):
    for service in SERVICES:
        own = httpx.get(f"{stack.url(service)}/openapi.json", timeout=60).json()
        public = {p for p in own["paths"] if p.startswith("/v1/")}
        assert public, f"{service} publishes no /v1 paths"
        unrouted = {p for p in public if service_for(p) != service}
        assert not unrouted, f"{service} paths the gateway does not route to it: {unrouted}"
        assert public <= set(document["paths"]), public - set(document["paths"])
    for path in ("/v1/auth/token", "/v1/me", "/v1/admin/users", "/v1/audit/entries"):
        assert path in document["paths"]
    assert "/.well-known/jwks.json" in document["paths"]


def test_internal_and_operational_paths_are_left_out(document):
    for path in document["paths"]:
        assert not path.startswith("/internal"), path
        assert path not in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs")


def test_operation_ids_are_unique_and_operations_known(document):
    ids = [op["operationId"] for _, _, op in _operations(document)]
    assert len(ids) == len(set(ids))
    known = {o.value for o in Operation}
    for path, method, operation in _operations(document):
        declared = operation.get("x-kkb-operation")
        names = [declared] if isinstance(declared, str) else declared or []
        assert set(names) <= known, (method, path, names)


def test_security_is_described(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["bearerAuth"]["description"],
    }
    flows = schemes["oauth2"]["flows"]
    assert flows["password"]["tokenUrl"] == "/v1/auth/token"
    assert "growth:read" in flows["clientCredentials"]["scopes"]
    assert {"bearerAuth": []} in document["security"]
    token = document["paths"]["/v1/auth/token"]["post"]
    assert token["security"] == []
    households = document["paths"]["/v1/households"]["post"]
    assert households["x-kkb-operation"] == "registry.household.write"
    assert households["responses"]["403"] == {"$ref": "#/components/responses/Forbidden"}
    assert households["responses"]["401"] == {"$ref": "#/components/responses/Unauthorized"}
    assert households["x-kkb-service"] == "registry"
    example = document["components"]["responses"]["Forbidden"]["content"][
        "application/problem+json"
    ]["example"]
    assert example["status"] == 403


def test_component_references_all_resolve(document):
    import re

    text = str(document)

    for ref in set(re.findall(r"#/components/(\w+)/([\w.\-]+)", text)):
        section, name = ref
        assert name in document["components"].get(section, {}), ref


def test_docs_page_points_at_the_merged_document(stack):
    page = httpx.get(f"{stack.url('gateway')}/docs")
    assert page.status_code == 200
    assert "swagger-ui" in page.text.lower()
    assert "/openapi.json" in page.text


def test_a_python_client_generates_and_imports(document, tmp_path: Path):
    import json

    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    out = tmp_path / "kkb_client"
    generated = subprocess.run(
        [
            str(Path(sys.executable).parent / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(out),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    # Anything it could not parse is left out of the client with a warning.
    assert "will not be generated" not in generated.stdout, generated.stdout
    assert "Unable to parse" not in generated.stdout, generated.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        package = importlib.import_module("kkb_client")
        client = package.AuthenticatedClient(base_url="http://gateway", token="t")
        assert client.token == "t"
        api = importlib.import_module("kkb_client.api")
        modules = {p.name for p in Path(api.__path__[0]).iterdir() if p.is_dir()}
        assert {"regions", "households", "admin", "audit", "auth"} <= modules
        importlib.import_module("kkb_client.api.regions.registry_get_region")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("kkb_client")]:
            del sys.modules[name]
