"""Signed webhooks through the real gateway to real receivers on 127.0.0.1: exactly the
events a subscription may see, each accepted once; retries with backoff; pausing after
repeated failures; resuming and redelivering with nothing lost."""

import time
from datetime import date, timedelta

import pytest

from tests.auth_helpers import system_client, user_client
from tests.integration.conftest import DELIVERY_WAIT_S, FEED_WAIT_S, PAUSE_AFTER, TIMEOUT_S
from tests.integration.producers import (
    emit_direct,
    family_body,
    measurement,
    register_family,
    wait_until,
)
from tests.integration.receivers import Receiver
from tests.integration.webhook_checks import (
    assert_duplicates_only_retries,
    expected_ids,
    subscribe,
    subscription,
    verify_hit,
    wait_accepted,
)

REGISTRY_FAMILIES = {"person", "household"}


def _family_events(hooks, village: str) -> set[str]:
    """Register a family in ``village`` and return the person and household events of
    that village once they are on the registry's feed."""
    with system_client(hooks.stack, hooks.db_url, ["registry:write"], village) as writer:
        family = register_family(writer, village)
    members = {m["id"] for m in family["members"]}

    def arrived() -> set[str]:
        found = expected_ids(hooks.stack, village, REGISTRY_FAMILIES)
        return found if len(found) >= len(members) + 1 else set()

    return wait_until(arrived, FEED_WAIT_S, f"events of the family in {village}")


def test_signed_deliveries_exactly_as_expected(hooks, receiver: Receiver):
    village = "61.04.03.2001"
    scopes = ["webhooks", "registry:read", "growth:read"]
    with system_client(hooks.stack, hooks.db_url, scopes, village) as client:
        created = subscribe(client, receiver.url, ["person.*", "household.registered"])
        secret = created["secret"]
        assert secret.startswith("whsec_")
        emit_direct(hooks.db_url, "registry", [measurement(village)])  # not subscribed
        expected = _family_events(hooks, village)
        expected_household = {e for e in expected_ids(hooks.stack, village, {"household"})}
        wait_accepted(receiver, expected)
        time.sleep(1.0)  # anything extra would arrive by now
        hits = receiver.snapshot()
        assert sorted(h.webhook_id for h in hits) == sorted(expected)  # once each, no others
        bodies = [verify_hit(secret, h) for h in hits]
        assert {b["type"].split(".")[0] for b in bodies} == REGISTRY_FAMILIES
        assert expected_household <= {b["id"] for b in bodies if b["type"].startswith("house")}
        for body in bodies:
            assert body["region_code"] == village
            if body["type"].startswith("person"):
                assert len(body["data"]["birth_date"]) == 7  # YYYY-MM without pii:read
        state = subscription(client, created["id"])
        assert state["status"] == "active"
        assert state["consecutive_failures"] == 0
        assert state["pending_deliveries"] == 0
        assert state["last_success_at"] is not None
        assert "secret" not in state


def test_failing_receiver_is_paused_then_resumed_without_loss(hooks, receiver: Receiver):
    village = "61.04.01.2011"
    receiver.mode = "fail"
    with system_client(hooks.stack, hooks.db_url, ["webhooks", "registry:read"], village) as c:
        created = subscribe(c, receiver.url, ["person.*", "household.*"])
        expected = _family_events(hooks, village)
        paused = wait_until(
            lambda: (s := subscription(c, created["id"]))["status"] == "paused" and s,
            30,
            "the subscription to pause",
        )
        assert paused["consecutive_failures"] >= PAUSE_AFTER
        assert paused["last_error"] == "HTTP 500"
        assert paused["paused_reason"]["code"] == "consecutive_failures"
        assert "resume" in paused["paused_reason"]["message"]["en"]
        assert paused["pending_deliveries"] == len(expected)
        time.sleep(TIMEOUT_S + 0.5)  # attempts in flight when it paused have ended
        quiet = len(receiver.snapshot())
        time.sleep(2.0)
        assert len(receiver.snapshot()) == quiet, "a paused subscription is not called"

        receiver.mode = "ok"
        resumed = c.post(f"/v1/webhooks/subscriptions/{created['id']}/resume")
        assert resumed.status_code == 200, resumed.text
        assert resumed.json()["status"] == "active"
        assert resumed.json()["consecutive_failures"] == 0
        wait_accepted(receiver, expected)
        assert set(receiver.accepted_ids()) == expected
        assert_duplicates_only_retries(receiver)
        for hit in receiver.snapshot():
            verify_hit(created["secret"], hit)


def test_slow_receiver_times_out_and_does_not_delay_others(hooks):
    village = "61.04.01.2012"
    slow, fast = Receiver(mode="slow", slow_s=3.0), Receiver()
    slow.start()
    fast.start()
    try:
        with system_client(hooks.stack, hooks.db_url, ["webhooks", "registry:read"], village) as c:
            slow_sub = subscribe(c, slow.url, ["person.*", "household.*"])
            subscribe(c, fast.url, ["person.*", "household.*"])
            expected = _family_events(hooks, village)
            wait_accepted(fast, expected)
            # Had the fast subscriber waited behind the slow one, its events would come
            # only as the slow one's first attempts time out.
            first_slow = min(h.at for h in wait_until(slow.snapshot, 10, "slow hits"))
            last_fast = max(h.at for h in fast.snapshot())
            assert last_fast < first_slow + TIMEOUT_S, "the fast subscriber waited"
            paused = wait_until(
                lambda: (s := subscription(c, slow_sub["id"]))["status"] == "paused" and s,
                60,
                "the slow subscription to pause",
            )
            assert paused["last_error"] == f"timeout after {TIMEOUT_S:g} s"
            slow.mode = "ok"
            resp = c.post(f"/v1/webhooks/subscriptions/{slow_sub['id']}/resume")
            assert resp.status_code == 200
            wait_accepted(slow, expected)
            assert set(slow.accepted_ids()) == expected
            assert_duplicates_only_retries(slow)
            assert sorted(fast.accepted_ids()) == sorted(expected)
    finally:
        slow.stop()
        fast.stop()


def test_receiver_failing_before_accepting_gets_retries_with_the_same_id(hooks, receiver: Receiver):
    village = "61.04.01.2013"
    receiver.mode, receiver.fail_first = "flaky", 3
    with system_client(hooks.stack, hooks.db_url, ["webhooks", "registry:read"], village) as c:
        created = subscribe(c, receiver.url, ["person.*", "household.*"])
        expected = _family_events(hooks, village)
        wait_accepted(receiver, expected)
        hits = receiver.snapshot()
        assert [h.answered for h in hits].count(500) == 3
        retried = {h.webhook_id for h in hits if h.answered == 500}
        assert retried and retried <= expected
        assert_duplicates_only_retries(receiver)
        first_try = {h.webhook_id: h for h in reversed(hits)}  # earliest hit per id
        for hit in hits:
            verify_hit(created["secret"], hit)  # every attempt signed afresh
        for event_id in retried:
            accepted = next(h for h in hits if h.webhook_id == event_id and h.answered == 200)
            assert accepted.body == first_try[event_id].body
            assert accepted.at - first_try[event_id].at >= 0.1  # after a backoff
        state = subscription(c, created["id"])
        assert state["status"] == "active"
        assert state["consecutive_failures"] == 0


def test_redelivery_of_one_event_and_since_a_time(hooks, receiver: Receiver):
    village = "61.04.01.2014"
    with system_client(hooks.stack, hooks.db_url, ["webhooks", "registry:read"], village) as c:
        created = subscribe(c, receiver.url, ["person.*", "household.*"])
        sid = created["id"]
        expected = _family_events(hooks, village)
        wait_accepted(receiver, expected)
        bodies = {h.webhook_id: verify_hit(created["secret"], h) for h in receiver.snapshot()}
        one = sorted(expected)[0]
        before = len(receiver.snapshot())
        resp = c.post(f"/v1/webhooks/subscriptions/{sid}/redeliver", json={"event_id": one})
        assert resp.status_code == 202, resp.text
        assert resp.json() == {"requeued": 1, "status": "active"}
        # Compared by id: a late event of the family may arrive in between.
        wait_until(
            lambda: any(h.webhook_id == one for h in receiver.snapshot()[before:]),
            DELIVERY_WAIT_S,
            "the redelivery",
        )
        again = next(h for h in receiver.snapshot()[before:] if h.webhook_id == one)
        assert verify_hit(created["secret"], again) == bodies[one]

        by_time = sorted(bodies.values(), key=lambda b: (b["occurred_at"], b["id"]))
        since = by_time[len(by_time) // 2]["occurred_at"]
        later = {b["id"] for b in bodies.values() if b["occurred_at"] >= since}
        before = len(receiver.snapshot())
        resp = c.post(f"/v1/webhooks/subscriptions/{sid}/redeliver", json={"since": since})
        assert resp.status_code == 202
        assert resp.json()["requeued"] == len(later)
        wait_until(
            lambda: len(receiver.snapshot()) >= before + len(later), DELIVERY_WAIT_S, "redeliveries"
        )
        time.sleep(0.5)
        again_ids = [h.webhook_id for h in receiver.snapshot()[before:] if h.webhook_id in bodies]
        assert sorted(again_ids) == sorted(later), (again_ids, later, since, bodies)

        missing = c.post(
            f"/v1/webhooks/subscriptions/{sid}/redeliver",
            json={"event_id": "00000000-0000-7000-8000-000000000000"},
        )
        assert missing.status_code == 404
        assert missing.json()["code"] == "delivery_not_found"
        both = c.post(
            f"/v1/webhooks/subscriptions/{sid}/redeliver",
            json={"event_id": one, "since": since},
        )
        assert both.status_code == 422

        listed = c.get(f"/v1/webhooks/subscriptions/{sid}/deliveries", params={"limit": 500})
        assert listed.status_code == 200
        items = listed.json()["items"]
        assert {d["event_id"] for d in items} == expected
        assert all(d["status"] == "delivered" for d in items)


def _child_measured(hooks, village: str) -> tuple[str, date]:
    """A family registered in ``village`` and its child measured, both through the API
    (via the gateway); the measurement id and the child's birth date."""
    born = date.today() - timedelta(days=500)
    scopes = ["registry:write", "growth:write"]
    with system_client(hooks.stack, hooks.db_url, scopes, village) as writer:
        family = writer.post("/v1/households", json=family_body(village, child_born=born))
        assert family.status_code == 201, family.text
        child = next(m for m in family.json()["members"] if m["relationship"] == 4)
        resp = writer.post(
            "/v1/growth/measurements",
            json={
                "person_id": child["id"],
                "visit_date": date.today().isoformat(),
                "weight_kg": 8.1,
                "height_cm": 71.5,
            },
        )
    assert resp.status_code == 201, resp.text
    return resp.json()["id"], born


def test_scenario_8_provincial_health_office(hooks, receiver: Receiver):
    """The provincial health office subscribes to growth measurements for Kalimantan
    Barat (61): it gets them signed, never another province's, never personal data."""
    with system_client(hooks.stack, hooks.db_url, ["webhooks", "growth:read"], "61") as c:
        created = subscribe(c, receiver.url, ["measurement.*"])
        ours, born = _child_measured(hooks, "61.04.16.2007")
        theirs, _ = _child_measured(hooks, "62.01.01.1012")
        # A payload that (against the contract) names the child: the name must not pass.
        named = emit_direct(
            hooks.db_url,
            "registry",
            [measurement("61.04.03.2002", nik="6104164509240001", full_name="Ani")],
        )[0]

        def arrived() -> list[dict]:
            bodies = [verify_hit(created["secret"], h) for h in receiver.snapshot()]
            subjects = {b["subject"]["id"] for b in bodies}
            return bodies if ours in subjects and named in {b["id"] for b in bodies} else []

        bodies = wait_until(arrived, FEED_WAIT_S, "the province's measurements")
        time.sleep(1.0)
        bodies = [verify_hit(created["secret"], h) for h in receiver.snapshot()]
        assert theirs not in {b["subject"]["id"] for b in bodies}
        assert all(b["type"].startswith("measurement.") for b in bodies)
        assert all(b["region_code"].startswith("61.") for b in bodies)
        recorded = next(b for b in bodies if b["subject"]["id"] == ours)
        assert recorded["data"]["birth_date"] == born.isoformat()[:7]  # year-month only
        assert recorded["data"]["class_len"]  # the growth data itself passes
        injected = next(b for b in bodies if b["id"] == named)
        assert not {"nik", "full_name"} & injected["data"].keys()
        assert injected["data"]["birth_date"] == "2024-09"


def test_subscription_rules_and_ownership(hooks, receiver: Receiver):
    region = "61.04.03"
    with system_client(hooks.stack, hooks.db_url, ["webhooks", "growth:read"], region) as c:
        unknown = c.post(
            "/v1/webhooks/subscriptions",
            json={"url": receiver.url, "event_types": ["measurement.*", "nothing.here"]},
        )
        assert unknown.status_code == 422
        assert [e["code"] for e in unknown.json()["errors"]] == ["unknown_event_type"]
        refused = c.post(
            "/v1/webhooks/subscriptions",
            json={"url": receiver.url, "event_types": ["delivery.*"]},
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["code"] == "event_type_not_permitted"
        purpose = c.post(
            "/v1/webhooks/subscriptions",
            json={"url": receiver.url, "event_types": ["*"], "purpose": "service_delivery"},
        )
        assert purpose.status_code == 422
        assert purpose.json()["code"] == "purpose_needs_pii"
        created = subscribe(c, receiver.url, ["*"], description="Dinkes Provinsi")
        assert created["status"] == "active"
        sid = created["id"]
        listed = c.get("/v1/webhooks/subscriptions").json()["items"]
        assert [s["id"] for s in listed] == [sid]
        assert "secret" not in listed[0]
        with system_client(hooks.stack, hooks.db_url, ["webhooks"], region) as other:
            assert other.get(f"/v1/webhooks/subscriptions/{sid}").status_code == 404
            assert other.delete(f"/v1/webhooks/subscriptions/{sid}").status_code == 404
            assert other.get("/v1/webhooks/subscriptions").json()["items"] == []
        assert c.delete(f"/v1/webhooks/subscriptions/{sid}").status_code == 204
        assert c.get(f"/v1/webhooks/subscriptions/{sid}").status_code == 404
    with system_client(hooks.stack, hooks.db_url, ["growth:read"], region) as no_scope:
        resp = no_scope.post(
            "/v1/webhooks/subscriptions", json={"url": receiver.url, "event_types": ["*"]}
        )
        assert resp.status_code == 403
    with user_client(hooks.stack, hooks.db_url, "admin", region) as admin:
        resp = admin.get("/v1/webhooks/subscriptions")
        assert resp.status_code == 403
        assert resp.json()["code"] == "webhooks_client_only"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.org/hook", "webhook_url_scheme"),
        ("file:///etc/passwd", "webhook_url_scheme"),
        ("https://user:pw@example.org/hook", "webhook_url_credentials"),
        ("http://169.254.169.254/latest/meta-data/", "webhook_address_forbidden"),
        ("http://169.254.7.7/hook", "webhook_address_forbidden"),
        ("http://[fd00:ec2::254]/hook", "webhook_address_forbidden"),
        ("http://[::ffff:169.254.169.254]/hook", "webhook_address_forbidden"),
        ("http://10.20.30.40/hook", "webhook_address_forbidden"),
        ("http://192.168.1.10/hook", "webhook_address_forbidden"),
        ("http://172.16.5.5/hook", "webhook_address_forbidden"),
        ("http://0.0.0.0:8080/hook", "webhook_address_forbidden"),
        ("http://no-such-host.invalid/hook", "webhook_host_unresolvable"),
    ],
)
def test_ssrf_targets_are_refused(hooks, url, code):
    with system_client(hooks.stack, hooks.db_url, ["webhooks", "growth:read"], "61.04.16") as c:
        resp = c.post("/v1/webhooks/subscriptions", json={"url": url, "event_types": ["*"]})
        assert resp.status_code == 422, resp.text
        assert resp.json()["code"] == code
        assert resp.json()["errors"][0]["loc"] == ["body", "url"]
        assert c.get("/v1/webhooks/subscriptions").json()["items"] == []


def test_gateway_and_services_are_refused_even_with_loopback_allowed(hooks, receiver):
    port = hooks.stack.port("gateway")
    targets = [
        f"{hooks.gateway}/v1/events",
        f"http://localhost:{port}/v1/events",
        f"{hooks.stack.url('registry')}/internal/feed",
        f"{hooks.stack.url('interventions')}/internal/feed",
    ]
    with system_client(hooks.stack, hooks.db_url, ["webhooks", "growth:read"], "61.04.16") as c:
        for url in targets:
            resp = c.post("/v1/webhooks/subscriptions", json={"url": url, "event_types": ["*"]})
            assert resp.status_code == 422, url
            assert resp.json()["code"] == "webhook_url_internal", url
        assert subscribe(c, receiver.url, ["*"])["url"] == receiver.url  # loopback allowed


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "127.1", "2130706433", "[::1]", "[::ffff:127.0.0.1]"]
)
def test_loopback_refused_by_default(stack, db_url, host):
    """The shared gateway runs with the default settings: loopback is not allowed."""
    with system_client(stack, db_url, ["webhooks", "growth:read"], "61") as c:
        resp = c.post(
            "/v1/webhooks/subscriptions",
            json={"url": f"http://{host}:9/hook", "event_types": ["measurement.*"]},
        )
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "webhook_address_forbidden"
    assert "loopback" in resp.json()["detail"]
