"""Interleave pages of several source feeds into one page (pure).

Events are merged by time of occurrence, but each source's events keep their own feed
order, and a page takes a prefix of every source's list: the cursor of each source then
moves exactly past what was taken. Taking a prefix is what makes the composite cursor
safe, whatever order the merge chose across sources.
"""

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Event = dict[str, Any]


@dataclass(frozen=True)
class SourcePage:
    """One source's answer: events after its cursor, and whether more were left."""

    events: list[Event]
    has_more: bool


@dataclass
class MergedPage:
    scanned: list[tuple[str, Event]] = field(default_factory=list)
    moves: dict[str, str] = field(default_factory=dict)
    has_more: bool = False


def merge_pages(
    pages: dict[str, SourcePage],
    *,
    scan_limit: int,
    keep: Callable[[Event], bool] = lambda _e: True,
    keep_limit: int | None = None,
) -> MergedPage:
    """Walk the sources' events oldest first, at most ``scan_limit`` of them, stopping
    early once ``keep_limit`` kept events are found. ``scanned`` holds the kept events
    with their source; ``moves`` the new position of each source that advanced."""
    heap: list[tuple[datetime, int, int, str]] = []
    order = sorted(pages)
    for rank, source in enumerate(order):
        if pages[source].events:
            heap.append((_at(pages[source].events[0]), rank, 0, source))
    heapq.heapify(heap)
    merged = MergedPage()
    walked = 0
    while heap and walked < scan_limit:
        if keep_limit is not None and len(merged.scanned) >= keep_limit:
            break
        _, rank, index, source = heapq.heappop(heap)
        event = pages[source].events[index]
        walked += 1
        merged.moves[source] = event["position"]
        if keep(event):
            merged.scanned.append((source, event))
        if index + 1 < len(pages[source].events):
            nxt = pages[source].events[index + 1]
            heapq.heappush(heap, (_at(nxt), rank, index + 1, source))
    merged.has_more = bool(heap) or any(p.has_more for p in pages.values())
    return merged


def _at(event: Event) -> datetime:
    return datetime.fromisoformat(event["occurred_at"])
