"""The integration layer's pure parts, without a database: signatures, the composite
cursor and merge, masking, type permissions, address policy, retries and pausing."""

import asyncio
import base64
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from common.errors import ProblemError
from common.identity import Identity, Role
from gateway.integration.cursor import CompositeCursor
from gateway.integration.delivery_rules import (
    AttemptResult,
    RetryPolicy,
    health_after,
    settle,
)
from gateway.integration.envelope import mask_payload, public_event, visible
from gateway.integration.event_types import (
    matches,
    may_see_type,
    pattern_known,
    pattern_permitted,
)
from gateway.integration.fanout import Subscriber, fan_out
from gateway.integration.merge import SourcePage, merge_pages
from gateway.integration.signing import generate_secret, sign, signed_headers
from gateway.integration.ssrf import (
    AddressPolicy,
    TargetRefused,
    address_kind,
    check_addresses,
    check_url,
    parse_target,
)

# --- signatures ---------------------------------------------------------------------------


def test_signature_matches_the_published_standard_webhooks_vector():
    # From the Standard Webhooks / Svix documentation.
    assert (
        sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_fresh_secret_and_headers_verify_with_the_reference_library():
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert generate_secret() != secret
    body = b'{"id":"e1","type":"measurement.recorded"}'
    now = int(datetime.now(UTC).timestamp())
    headers = signed_headers(secret, "e1", now, body)
    assert Webhook(secret).verify(body, headers) == {"id": "e1", "type": "measurement.recorded"}
    tampered = dict(headers, **{"webhook-id": "e2"})
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(body, tampered)


# --- composite cursor and merge -----------------------------------------------------------


def test_cursor_round_trip_and_refusals():
    cursor = CompositeCursor({"registry": "812.4", "interventions": ""})
    decoded = CompositeCursor.decode(cursor.encode())
    assert decoded.position("registry") == "812.4"
    assert decoded.position("interventions") == ""
    assert decoded.position("reporting") == ""  # a source added later starts at its beginning
    assert CompositeCursor.decode(None).positions == {}
    assert decoded.advanced({"interventions": "9.1"}).positions == {
        "registry": "812.4",
        "interventions": "9.1",
    }
    bad_position = CompositeCursor({"registry": "812.x"}).encode()
    for bad in ("garbage!", base64.urlsafe_b64encode(b'{"v":9,"p":{}}').decode(), bad_position):
        with pytest.raises(ProblemError) as err:
            CompositeCursor.decode(bad)
        assert err.value.status == 400 and err.value.code == "invalid_cursor"


def _event(source: str, xid: int, seq: int, at: datetime, region: str = "61.04") -> dict:
    return {
        "position": f"{xid}.{seq}",
        "event_id": f"{source}-{xid}-{seq}",
        "type": "person.updated",
        "aggregate_type": "person",
        "aggregate_id": str(uuid.uuid4()),
        "region_code": region,
        "occurred_at": at.isoformat(),
        "payload": {},
    }


def _after(events: list[dict], position: str, limit: int) -> SourcePage:
    """A source feed: events ordered by (xid, id), those after ``position``."""
    key = tuple(int(p) for p in position.split(".")) if position else (0, 0)
    later = [e for e in events if tuple(int(p) for p in e["position"].split(".")) > key]
    return SourcePage(later[:limit], len(later) > limit)


@pytest.mark.parametrize("seed", range(25))
def test_merged_paging_never_skips_or_repeats(seed):
    """Two sources growing while a consumer pages with random limits and a filter: the
    consumer ends with every kept event of each source exactly once, in source order."""
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    sources: dict[str, list[dict]] = {"registry": [], "interventions": []}
    xid = {"registry": 100, "interventions": 5}

    def grow(n: int) -> None:
        for _ in range(n):
            name = rng.choice(list(sources))
            xid[name] += rng.randint(1, 3)
            at = t0 + timedelta(seconds=rng.uniform(0, 1000))  # not monotonic in position
            region = rng.choice(["61.04.01.2011", "62.01.01.1011"])
            sources[name].append(_event(name, xid[name], xid[name] * 10, at, region))

    def keep(e: dict) -> bool:
        return e["region_code"].startswith("61.")

    cursor, seen = CompositeCursor(), []
    grow(rng.randint(0, 30))
    for _ in range(60):
        limit = rng.randint(1, 7)
        pages = {n: _after(evs, cursor.position(n), limit) for n, evs in sources.items()}
        merged = merge_pages(
            pages, scan_limit=rng.randint(1, 10), keep=keep, keep_limit=rng.randint(1, 5)
        )
        seen += [e for _, e in merged.scanned]
        cursor = CompositeCursor.decode(cursor.advanced(merged.moves).encode())
        if rng.random() < 0.3:
            grow(rng.randint(1, 5))
    for _ in range(1000):  # drain
        pages = {n: _after(evs, cursor.position(n), 50) for n, evs in sources.items()}
        merged = merge_pages(pages, scan_limit=100, keep=keep)
        seen += [e for _, e in merged.scanned]
        cursor = cursor.advanced(merged.moves)
        if not merged.has_more:
            break
    ids = [e["event_id"] for e in seen]
    assert len(ids) == len(set(ids))
    for name, events in sources.items():
        assert [e["event_id"] for e in seen if e["event_id"].startswith(name)] == [
            e["event_id"] for e in events if keep(e)
        ]


def test_merge_interleaves_by_time_and_moves_only_past_what_was_walked():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    reg = [_event("r", 1, 1, t0), _event("r", 2, 2, t0 + timedelta(seconds=10))]
    itv = [_event("i", 7, 1, t0 + timedelta(seconds=5))]
    merged = merge_pages(
        {"registry": SourcePage(reg, True), "interventions": SourcePage(itv, False)},
        scan_limit=2,
    )
    assert [e["event_id"] for _, e in merged.scanned] == ["r-1-1", "i-7-1"]
    assert merged.moves == {"registry": "1.1", "interventions": "7.1"}
    assert merged.has_more


# --- masking and visibility ---------------------------------------------------------------


def test_masking_drops_names_and_addresses_and_keeps_the_birth_month():
    payload = {
        "person_id": "p1",
        "birth_date": "2024-09-17",
        "full_name": "Ani",
        "mother_name": "Sari",
        "nik": "6104164509240001",
        "address": "Jl. X",
        "name": "Ani",
        "members": [{"birth_date": "2020-01-31", "full_name": "Budi", "sex": 1}],
        "criteria": {"too_young": True},
    }
    assert mask_payload(payload) == {
        "person_id": "p1",
        "birth_date": "2024-09",
        "members": [{"birth_date": "2020-01", "sex": 1}],
        "criteria": {"too_young": True},
    }
    site = {"site_id": "s1", "name": "Posyandu Melati", "village_code": "61.04.16.2007"}
    assert mask_payload(site, personal=False) == site


def test_public_envelope():
    raw = _event("r", 3, 4, datetime(2026, 5, 1, tzinfo=UTC))
    raw["payload"] = {"birth_date": "2024-01-02", "full_name": "X"}
    shown = public_event(raw, unmasked=False)
    assert shown == {
        "id": raw["event_id"],
        "type": "person.updated",
        "occurred_at": raw["occurred_at"],
        "region_code": "61.04",
        "subject": {"type": "person", "id": raw["aggregate_id"]},
        "data": {"birth_date": "2024-01"},
    }
    assert public_event(raw, unmasked=True)["data"] == raw["payload"]


def _client(scopes: list[str], region: str = "61", pii: bool = False) -> Identity:
    return Identity(
        sub="client:c",
        role=Role.SYSTEM,
        region=region,
        scopes=tuple(scopes),
        pii=pii,
        client_id="c",
        request_id="r",
    )


@pytest.mark.parametrize(
    ("scope", "visible_types", "hidden_types"),
    [
        (
            "growth:read",
            ["measurement.recorded", "measurement.corrected"],
            ["person.registered", "delivery.recorded", "household.updated"],
        ),
        (
            "registry:read",
            ["person.registered", "person.merged", "household.updated", "krs.assessed"],
            ["measurement.recorded", "delivery.recorded", "referral.created"],
        ),
        (
            "interventions:read",
            ["delivery.voided", "referral.transitioned", "tpk.visit.recorded"],
            ["person.registered", "measurement.recorded"],
        ),
        ("webhooks", [], ["person.registered", "measurement.recorded", "delivery.recorded"]),
    ],
)
def test_event_types_by_scope(scope, visible_types, hidden_types):
    client = _client([scope])
    assert all(may_see_type(client, t) for t in visible_types)
    assert not any(may_see_type(client, t) for t in hidden_types)
    assert not may_see_type(_client(["registry:read", "growth:read"]), "unknown.kind")


def test_region_scope_of_events():
    client = _client(["growth:read"], region="61.04")
    event = {"type": "measurement.recorded", "region_code": "61.04.16.2007"}
    assert visible(client, event)
    assert not visible(client, {**event, "region_code": "62.01.01.1011"})
    assert not visible(client, {**event, "region_code": "61.040.1"})
    assert not visible(client, {**event, "region_code": ""})


def test_subscription_patterns():
    assert matches(["measurement.*"], "measurement.corrected")
    assert not matches(["measurement.*"], "measurementx.recorded")
    assert matches(["*"], "tpk.visit.recorded")
    assert matches(["tpk.visit.recorded"], "tpk.visit.recorded")
    assert not matches(["person.registered"], "person.updated")
    assert pattern_known("person.*") and pattern_known("*") and pattern_known("lokus.revoked")
    assert not pattern_known("people.*") and not pattern_known("person.deleted")
    growth = _client(["growth:read"])
    assert pattern_permitted(growth, "measurement.*")
    assert pattern_permitted(growth, "*")
    assert not pattern_permitted(growth, "person.registered")


def test_fan_out_respects_type_region_and_pii():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    measurement = _event("r", 1, 1, t0, "61.04.16.2007")
    measurement.update(type="measurement.recorded", payload={"birth_date": "2024-09-17"})
    person = _event("r", 1, 2, t0, "61.04.16.2007")
    far = {**_event("r", 1, 3, t0, "62.01.01.1011"), "type": "measurement.recorded"}

    def sub(scopes: list[str], purpose: str | None, patterns: tuple[str, ...]) -> Subscriber:
        row = {
            "id": uuid.uuid4(),
            "client_id": "c",
            "event_types": list(patterns),
            "purpose": purpose,
            "scopes": scopes,
            "region": "61",
            "sector": None,
        }
        return Subscriber.from_row(row)

    masked = sub(["webhooks", "growth:read"], None, ("*",))
    unmasked = sub(["webhooks", "growth:read", "pii:read"], "case_review", ("measurement.*",))
    plan = fan_out([masked, unmasked], [measurement, person, far])
    got = {(d["subscription_id"], d["event_id"]): d["body"] for d in plan.deliveries}
    assert set(got) == {(masked.id, "r-1-1"), (unmasked.id, "r-1-1")}
    assert '"birth_date":"2024-09"' in got[(masked.id, "r-1-1")]
    assert '"birth_date":"2024-09-17"' in got[(unmasked.id, "r-1-1")]
    assert list(plan.unmasked) == [unmasked.id]


# --- where webhooks may go ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("93.184.216.34", "public"),
        ("2606:4700:4700::1111", "public"),
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.31.255.255", "private"),
        ("192.168.0.1", "private"),
        ("100.64.0.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("::ffff:169.254.169.254", "metadata"),
        ("169.254.1.1", "link_local"),
        ("fe80::1", "link_local"),
        ("0.0.0.0", "reserved"),
        ("0.1.2.3", "reserved"),
        ("::", "reserved"),
        ("224.0.0.1", "reserved"),
        ("240.0.0.1", "reserved"),
        ("64:ff9b::a9fe:a9fe", "metadata"),
    ],
)
def test_address_kinds(address, kind):
    assert address_kind(address) == kind


def test_policy_settings():
    strict, loop, private = (
        AddressPolicy(),
        AddressPolicy(allow_loopback=True),
        AddressPolicy(allow_private=True),
    )
    assert strict.allows("public") and not strict.allows("loopback")
    assert loop.allows("loopback") and not loop.allows("private")
    assert private.allows("private") and not private.allows("loopback")
    for policy in (strict, loop, private, AddressPolicy(True, True)):
        assert not policy.allows("metadata")
        assert not policy.allows("link_local")
        assert not policy.allows("reserved")


def test_every_resolved_address_must_pass():
    with pytest.raises(TargetRefused) as err:
        check_addresses(["93.184.216.34", "10.0.0.1"], 443, AddressPolicy())
    assert err.value.kind == "private"
    internal = AddressPolicy(allow_loopback=True, internal=frozenset({("127.0.0.1", 8000)}))
    check_addresses(["127.0.0.1"], 8001, internal)
    with pytest.raises(TargetRefused) as err:
        check_addresses(["::ffff:127.0.0.1"], 8000, internal)
    assert err.value.code == "webhook_url_internal"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("gopher://x.org/", "webhook_url_scheme"),
        ("//x.org/hook", "webhook_url_scheme"),
        ("http://a:b@x.org/", "webhook_url_credentials"),
        ("http:///hook", "webhook_url_host"),
        ("http://x.org:99999/", "webhook_url_host"),
    ],
)
def test_url_shape(url, code):
    with pytest.raises(TargetRefused) as err:
        parse_target(url)
    assert err.value.code == code


def test_names_are_resolved_and_checked():
    with pytest.raises(TargetRefused) as err:
        asyncio.run(check_url("http://localhost:9/hook", AddressPolicy()))
    assert err.value.kind == "loopback"
    target = asyncio.run(check_url("http://localhost:9/hook", AddressPolicy(allow_loopback=True)))
    assert (target.host, target.port) == ("localhost", 9)
    assert parse_target("https://Example.ORG./x").host == "example.org"


# --- retries and pausing ------------------------------------------------------------------

POLICY = RetryPolicy(base_s=5, max_s=3600, window=timedelta(hours=24))


def test_backoff_doubles_with_jitter_and_is_capped():
    rng = random.Random(1)
    for failures, ceiling in [(1, 5), (2, 10), (3, 20), (8, 640), (12, 3600), (40, 3600)]:
        delays = [POLICY.delay_s(failures, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not fixed


def _result(attempt: int, at: datetime, expires: datetime, status: int | None, error=None):
    return AttemptResult(1, attempt, at, expires, status, error, 12)


def test_failed_deliveries_are_retried_for_the_whole_window_then_abandoned():
    """Simulate a receiver that is down: attempts go on for 24 h, then stop."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    expires = start + POLICY.window
    at, attempt, rng = start, 1, random.Random(7)
    while True:
        outcome = settle(_result(attempt, at, expires, 503), POLICY, rng)
        if outcome["state"] == "failed":
            break
        assert outcome["state"] == "pending"
        at, attempt = outcome["next_attempt_at"], attempt + 1
    assert at >= start + timedelta(hours=24)
    assert 20 < attempt < 60
    ok = settle(_result(1, start, expires, 204), POLICY)
    assert ok["state"] == "delivered" and ok["next_attempt_at"] is None
    timeout = settle(_result(1, start, expires, None, "timeout after 5 s"), POLICY)
    assert timeout["state"] == "pending"
    redirect = settle(_result(1, start, expires, 302), POLICY)
    assert redirect["state"] == "pending"  # redirects are not followed: a failure


def test_pause_after_consecutive_failures_and_reset_on_success():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    fail, ok = _result(1, t, t + timedelta(days=1), 500), _result(1, t, t + timedelta(days=1), 200)
    health = health_after("active", 3, [fail], pause_after=5)
    assert (health["status"], health["consecutive_failures"], health["pause"]) == (
        "active",
        4,
        False,
    )
    assert health["last_error"] == "HTTP 500"
    health = health_after("active", 3, [fail, fail], pause_after=5)
    assert (health["status"], health["pause"]) == ("paused", True)
    health = health_after("active", 4, [ok, fail], pause_after=5)
    assert (health["status"], health["consecutive_failures"]) == ("active", 1)
    assert health["last_success_at"] == t
    already = health_after("paused", 9, [fail], pause_after=5)
    assert already["status"] == "paused" and not already["pause"]
