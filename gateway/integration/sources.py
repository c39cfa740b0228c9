"""The services' internal feeds, read over HTTP with the gateway's service identity."""

import asyncio
from dataclasses import dataclass

import httpx
import structlog

from common.http import service_client
from gateway.integration.cursor import CompositeCursor
from gateway.integration.merge import SourcePage

log = structlog.get_logger()

# The services whose feeds make up the public feed, in the cursor's key order.
SOURCES = ("registry", "interventions")


@dataclass
class FetchResult:
    pages: dict[str, SourcePage]
    unavailable: list[str]


class FeedSources:
    """One pooled client per source service."""

    def __init__(self, urls: dict[str, str], secret: str, timeout_s: float) -> None:
        self.clients = {
            name: service_client(urls[name], caller="gateway", secret=secret, timeout_s=timeout_s)
            for name in SOURCES
        }

    async def fetch(self, cursor: CompositeCursor, limit: int) -> FetchResult:
        """A page from every source at once; a source that fails is reported, not fatal:
        the others' events are still served and the failed one resumes where it was."""
        names = list(self.clients)
        answers = await asyncio.gather(
            *(self._page(n, cursor.position(n), limit) for n in names), return_exceptions=True
        )
        pages: dict[str, SourcePage] = {}
        unavailable: list[str] = []
        for name, answer in zip(names, answers, strict=True):
            if isinstance(answer, SourcePage):
                pages[name] = answer
            elif isinstance(answer, httpx.HTTPError | OSError | ValueError):
                log.warning("event_source_unavailable", source=name, error=repr(answer))
                unavailable.append(name)
            else:
                raise answer
        return FetchResult(pages, unavailable)

    async def _page(self, name: str, after: str, limit: int) -> SourcePage:
        params: dict[str, str | int] = {"limit": limit}
        if after:
            params["after"] = after
        resp = await self.clients[name].get("/internal/feed", params=params)
        resp.raise_for_status()
        body = resp.json()
        return SourcePage(events=body["events"], has_more=body["has_more"])

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.clients.values()))
