"""Matching a request to the operation its route declares, as Starlette would route it."""

from gateway.operations import RouteTable, declared_operations

PATHS = {
    "/v1/households": {
        "get": {"x-kkb-operation": "registry.household.read"},
        "post": {"x-kkb-operation": "registry.household.write"},
    },
    "/v1/households/{household_id}": {
        "get": {"x-kkb-operation": "registry.household.read"},
        "patch": {"x-kkb-operation": "registry.household.write"},
    },
    # Registered before the templated route, so it wins, as in the service.
    "/v1/interventions/referrals/incoming": {
        "get": {"x-kkb-operation": "interventions.referral.read"}
    },
    "/v1/interventions/referrals/{referral_id}": {
        "get": {"x-kkb-operation": "interventions.referral.read"}
    },
    "/v1/interventions/referrals/{referral_id}/{action}": {
        "post": {"x-kkb-operation": "interventions.referral.transition"}
    },
    "/v1/lokus/{village_code}/{year}": {
        "put": {"x-kkb-operation": "registry.lokus.write"},
        "delete": {"x-kkb-operation": "registry.lokus.write"},
    },
    "/v1/things/{thing_id}": {"get": {"summary": "declares nothing"}},
    "/v1/both": {"get": {"x-kkb-operation": ["registry.person.read", "registry.krs.read"]}},
    "/v1/{anything}/x": {"get": {"x-kkb-operation": "admin.users"}},
}


def table() -> RouteTable:
    return RouteTable(PATHS)


def test_literal_and_templated_paths() -> None:
    t = table()
    assert t.operations("GET", "/v1/households") == ("registry.household.read",)
    assert t.operations("POST", "/v1/households") == ("registry.household.write",)
    hid = "01935c9e-0000-7000-8000-000000000001"
    assert t.operations("PATCH", f"/v1/households/{hid}") == ("registry.household.write",)
    assert t.operations("PUT", "/v1/lokus/61.04.16.2007/2026") == ("registry.lokus.write",)


def test_unknown_route_or_method_is_none() -> None:
    t = table()
    assert t.operations("DELETE", "/v1/households") is None
    assert t.operations("GET", "/v1/households/a/b/c") is None
    assert t.operations("GET", "/v1/nothing") is None
    # A template parameter never spans a slash.
    assert t.operations("GET", "/v1/households/a/b") is None


def test_document_order_decides_like_starlette() -> None:
    t = table()
    assert t.operations("GET", "/v1/interventions/referrals/incoming") == (
        "interventions.referral.read",
    )
    assert t.operations("POST", "/v1/interventions/referrals/abc/accept") == (
        "interventions.referral.transition",
    )


def test_declared_nothing_and_several() -> None:
    t = table()
    assert t.operations("GET", "/v1/things/1") == ()
    assert t.operations("GET", "/v1/both") == ("registry.person.read", "registry.krs.read")
    assert t.operations("GET", "/v1/whatever/x") == ("admin.users",)
    assert declared_operations({"x-kkb-operation": 5}) == ()


def test_regex_metacharacters_in_paths_are_literal() -> None:
    t = RouteTable({"/v1/a.b/{id}": {"get": {"x-kkb-operation": "admin.users"}}})
    assert t.operations("GET", "/v1/a.b/1") == ("admin.users",)
    assert t.operations("GET", "/v1/aXb/1") is None
