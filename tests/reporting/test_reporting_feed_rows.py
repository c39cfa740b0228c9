"""Feed events to read-model rows (pure code, no database): dates taken from the
payload, or from the event's day in western Indonesia when the payload has none."""

from datetime import UTC, datetime

from common.feed import FeedEvent
from services.reporting.feeds.interventions import _waves, referral_row
from services.reporting.feeds.registry import site_rows

AT = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # already 28 November in Jakarta


def event(kind: str, payload: dict, position: str = "7.1") -> FeedEvent:
    return FeedEvent(position, "e", kind, "a", "x", "", AT, payload)


SITE = {
    "site_id": "s1",
    "village_code": "65.01.01.1001",
    "name": "KB",
    "established_on": "2025-01-01",
}


def test_new_site_holds_its_level_from_establishment():
    site, levels, whole = site_rows(event("site.registered", {**SITE, "maturity_level": "dasar"}))
    assert levels == [{"site_id": "s1", "effective_on": "2025-01-01", "level": "dasar"}]
    assert not whole and site["pos_xid"] == 7 and site["pos_id"] == 1


def test_level_change_without_history_counts_from_the_local_day():
    _, levels, _ = site_rows(event("site.updated", {**SITE, "maturity_level": "mandiri"}))
    assert levels == [{"site_id": "s1", "effective_on": "2026-11-28", "level": "mandiri"}]


def test_history_sent_with_the_event_replaces_the_kept_one():
    history = [
        {"level": "dasar", "effective_date": "2025-01-01"},
        {"level": "berkembang", "effective_date": "2026-02-01"},
    ]
    payload = {**SITE, "maturity_level": "berkembang", "maturity_history": history}
    _, levels, whole = site_rows(event("site.updated", payload))
    assert whole
    assert [(r["effective_on"], r["level"]) for r in levels] == [
        ("2025-01-01", "dasar"),
        ("2026-02-01", "berkembang"),
    ]


def test_referral_completion_day_is_the_local_day_of_the_move():
    payload = {
        "referral_id": "r1",
        "village_code": "65.01.01.1001",
        "state": "completed",
        "at": "2026-11-27T18:30:00+00:00",
        "action": "complete",
    }
    row = referral_row(event("referral.transitioned", payload))
    assert row["completed_on"] == "2026-11-28"
    assert (
        referral_row(event("referral.created", {**payload, "state": "created"}))["completed_on"]
        is None
    )


def test_waves_keep_each_referral_once_per_statement_in_feed_order():
    rows = [{"referral_id": r, "n": i} for i, r in enumerate(["a", "b", "a", "a", "c"])]
    assert [[r["n"] for r in wave] for wave in _waves(rows)] == [[0, 1, 4], [2], [3]]
