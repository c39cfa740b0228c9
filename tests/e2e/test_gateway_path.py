"""client → gateway → service → database, with the real processes, and how the door
behaves on bad requests and faults."""

import httpx

from common.identity import Identity, Role, encode_identity
from common.settings import CommonSettings
from tests.auth_helpers import user_client

PROBLEM = "application/problem+json"


def test_region_through_gateway(stack, db_url):
    with user_client(stack, db_url, "village_operator", "61.04.16.2007") as client:
        resp = client.get("/v1/regions/61.04.16.2007", headers={"X-Request-ID": "trace-me-1"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["name"] == "Kali Nilam"
    assert [a["code"] for a in body["ancestors"]] == ["61", "61.04", "61.04.16"]
    assert resp.headers["x-request-id"] == "trace-me-1"


def test_each_service_answers_through_gateway(stack, db_url):
    with user_client(stack, db_url, "admin", "61.04") as client:
        assert (
            client.get("/v1/regions", params={"q": "kali nilam"}).json()["items"][0]["code"]
            == "61.04.16.2007"
        )
        assert client.get("/v1/interventions/sectors").status_code == 200
        assert client.get("/v1/reporting/freshness").status_code == 200


def test_unknown_route_wrong_method_malformed_json(stack, db_url):
    with user_client(stack, db_url, "admin", "61.04") as client:
        unknown = client.get("/v1/nothing-here")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith(PROBLEM)
        wrong_method = client.delete("/v1/regions/61.04")
        assert wrong_method.status_code == 405
        assert wrong_method.json()["status"] == 405
        malformed = client.post(
            "/v1/admin/users", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert malformed.status_code == 400
        assert malformed.json()["code"] == "malformed_json"
        too_big = client.post(
            "/v1/admin/users",
            content=b"x" * (1024 * 1024 + 1),
            headers={"Content-Type": "application/json"},
        )
        assert too_big.status_code == 413
        assert too_big.headers["content-type"].startswith(PROBLEM)


def test_no_token_or_bad_token_is_401(stack):
    gw = stack.url("gateway")
    assert httpx.get(f"{gw}/v1/regions/61").status_code == 401
    resp = httpx.get(f"{gw}/v1/regions/61", headers={"Authorization": "Bearer abc.def.ghi"})
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith(PROBLEM)


def test_service_refuses_direct_calls_without_gateway_identity(stack):
    direct = stack.url("registry")
    assert httpx.get(f"{direct}/v1/regions/61").status_code == 401
    forged = encode_identity(
        Identity(sub="x", role=Role.ADMIN, region="", request_id="r"),
        "another-secret-that-is-long-enough-0123456789",
    )
    resp = httpx.get(f"{direct}/v1/regions/61", headers={"X-KKB-Identity": forged})
    assert resp.status_code == 401


def test_client_sent_identity_header_is_stripped(stack, db_url):
    """A caller cannot pose as someone else by sending the internal header."""
    admin_identity = encode_identity(
        Identity(sub="evil", role=Role.ADMIN, region="", request_id="r"),
        CommonSettings().internal_secret,
    )
    with user_client(stack, db_url, "analyst", "61.04") as client:
        me = client.get("/v1/me", headers={"X-KKB-Identity": admin_identity})
    assert me.json()["role"] == "analyst"


def test_service_down_is_503_naming_it_and_recovers(stack, db_url):
    with user_client(stack, db_url, "admin", "61.04") as client:
        stack.stop_app("reporting")
        try:
            resp = client.get("/v1/reporting/freshness")
            assert resp.status_code == 503
            assert resp.json()["service"] == "reporting"
            assert "reporting" in resp.json()["detail"]
            assert client.get("/v1/regions/61").status_code == 200  # others unaffected
        finally:
            stack.start_app("reporting")
            stack.wait_ready(only=("reporting",))
        assert client.get("/v1/reporting/freshness").status_code == 200


def test_database_unreachable_at_startup_reports_not_ready(stack):
    from kkb.stack import Stack
    from tests.conftest import free_port

    broken = Stack(
        "postgresql://nobody@127.0.0.1:1/none",
        ports={"registry": free_port()},
        extra_env={"KKB_ENV": "test"},
    )
    broken.start(only=("registry",))
    try:
        import time

        deadline = time.monotonic() + 20
        while True:
            try:
                resp = httpx.get(broken.url("registry") + "/readyz")
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "registry did not start"
                time.sleep(0.1)
        assert resp.status_code == 503
        assert resp.json()["code"] == "database_unavailable"
        assert httpx.get(broken.url("registry") + "/healthz").status_code == 200
    finally:
        broken.stop()


def test_request_id_reaches_the_service_log_and_metrics_count_requests(stack, db_url):
    import os
    import time

    with user_client(stack, db_url, "admin", "61.04") as client:
        assert (
            client.get("/v1/regions/61.04", headers={"X-Request-ID": "log-trace-42"}).status_code
            == 200
        )
    log_path = os.path.join(stack.log_dir, "registry.log")
    deadline = time.monotonic() + 5
    while "log-trace-42" not in open(log_path).read():
        assert time.monotonic() < deadline, "request id not in the registry's JSON log"
        time.sleep(0.1)
    line = next(ln for ln in open(log_path) if "log-trace-42" in ln)
    import json

    entry = json.loads(line)
    assert entry["route"] == "/v1/regions/{code}"  # the template, never concrete values
    metrics = httpx.get(stack.url("registry") + "/metrics").text
    assert (
        'kkb_http_requests_total{app="registry",method="GET",route="/v1/regions/{code}"' in metrics
    )
