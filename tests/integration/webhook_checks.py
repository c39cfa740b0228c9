"""Checks a receiver would make, written independently of the gateway's code: the
Standard Webhooks library, and the HMAC computed by hand from the published rule."""

import base64
import hashlib
import hmac
import json
import time
from collections import Counter
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from tests.integration.conftest import FEED_WAIT_S
from tests.integration.producers import raw_feed, wait_until
from tests.integration.receivers import Hit, Receiver


def verify_hit(secret: str, hit: Hit) -> dict[str, Any]:
    """The body, after both verifications pass; fails the test otherwise."""
    payload = Webhook(secret).verify(hit.body, hit.headers)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{hit.webhook_id}.{hit.headers['webhook-timestamp']}.".encode() + hit.body
    by_hand = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert hit.headers["webhook-signature"] == f"v1,{by_hand}"
    assert abs(int(hit.headers["webhook-timestamp"]) - time.time()) < 120
    assert payload["id"] == hit.webhook_id, "webhook-id is the event id"
    assert json.loads(hit.body) == payload
    return payload


def subscribe(client: httpx.Client, url: str, event_types: list[str], **extra: Any) -> dict:
    resp = client.post(
        "/v1/webhooks/subscriptions", json={"url": url, "event_types": event_types, **extra}
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


def expected_ids(stack, region: str, families: set[str]) -> set[str]:
    found = set()
    for service in ("registry", "interventions"):
        for e in raw_feed(stack, service):
            in_region = e["region_code"] == region or e["region_code"].startswith(region + ".")
            if in_region and e["type"].split(".")[0] in families:
                found.add(e["event_id"])
    return found


def wait_accepted(receiver: Receiver, ids: set[str], timeout_s: float = FEED_WAIT_S) -> None:
    wait_until(
        lambda: ids <= set(receiver.accepted_ids()),
        timeout_s,
        f"{len(ids)} events accepted (have {len(set(receiver.accepted_ids()) & ids)})",
    )


def assert_duplicates_only_retries(receiver: Receiver) -> None:
    """Each event accepted exactly once; any earlier request for it was answered with a
    failure (or hung), i.e. was a retry the receiver had not accepted."""
    hits = receiver.snapshot()
    accepted = Counter(h.webhook_id for h in hits if h.answered == 200)
    assert all(n == 1 for n in accepted.values()), {k: n for k, n in accepted.items() if n > 1}
    for webhook_id in accepted:
        answers = [h.answered for h in hits if h.webhook_id == webhook_id]
        assert answers[-1] == 200 and all(a != 200 for a in answers[:-1]), answers


def subscription(client: httpx.Client, subscription_id: str) -> dict:
    resp = client.get(f"/v1/webhooks/subscriptions/{subscription_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()
