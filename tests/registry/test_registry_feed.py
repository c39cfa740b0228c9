"""The registry's /internal/feed serves what the outbox holds, to services only."""

from tests.registry import factories as f


def test_feed_serves_the_registration_events(operator, feed, watch, client_for):
    before = watch.position()
    created = operator.post("/v1/households", json=f.couple())
    assert created.status_code == 201
    committed = watch.since(before)
    assert [e["type"] for e in committed] == [
        "household.registered",
        "person.registered",
        "person.registered",
        "krs.assessed",
    ]
    # Wait (patiently: long transactions elsewhere on the server hold the feed back)
    # until the feed shows a marker written after the registration.
    f.marker(feed, client_for("regency_officer", "61.04"))
    served = [e for e in f.feed_events(feed) if e["position"] in {c["position"] for c in committed}]
    assert [(e["type"], e["payload"]) for e in served] == [
        (c["type"], c["payload"]) for c in committed
    ]
    assert all(e["region_code"] == f.KALI_NILAM for e in served)
    # Not for users: the feed needs a service identity.
    assert operator.get("/internal/feed").status_code == 403
