"""The public feed: the sources merged, filtered for the caller, in the public form."""

from dataclasses import dataclass
from typing import Any

from common.identity import Identity
from gateway.integration.cursor import CompositeCursor
from gateway.integration.envelope import public_event, subject_person_ids, visible
from gateway.integration.merge import merge_pages
from gateway.integration.sources import FeedSources


@dataclass
class CallerPage:
    events: list[dict[str, Any]]
    next_cursor: str
    has_more: bool
    unavailable: list[str]
    # Ids of events and persons shown unmasked, for the audit log.
    unmasked_events: list[str]
    unmasked_persons: list[str]


async def read_page(
    sources: FeedSources, caller: Identity, after: str | None, limit: int, scan_limit: int
) -> CallerPage:
    """Up to ``limit`` events the caller may see, scanning at most ``scan_limit`` per
    source: events it may not see still move its cursor, so a page can be short (even
    empty) while ``has_more`` is true."""
    cursor = CompositeCursor.decode(after)
    fetched = await sources.fetch(cursor, scan_limit)
    merged = merge_pages(
        fetched.pages,
        scan_limit=scan_limit,
        keep=lambda e: visible(caller, e),
        keep_limit=limit,
    )
    unmasked = caller.may_unmask
    raw = [event for _, event in merged.scanned]
    persons = sorted({p for e in raw for p in subject_person_ids(e)}) if unmasked else []
    return CallerPage(
        events=[public_event(e, unmasked=unmasked) for e in raw],
        next_cursor=cursor.advanced(merged.moves).encode(),
        has_more=merged.has_more,
        unavailable=fetched.unavailable,
        unmasked_events=[e["event_id"] for e in raw] if unmasked else [],
        unmasked_persons=persons,
    )
