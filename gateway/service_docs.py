"""The services' OpenAPI documents, fetched lazily over HTTP and cached.

Nothing is fetched at startup, so a service that is down cannot stop the gateway. The
first request for a service fetches its document (one fetch however many requests wait
for it); a fresh copy is served from memory, a stale one is served while a background
fetch replaces it, and a failed fetch is retried no sooner than ``retry_s`` later.
"""

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from common.http import IDENTITY_HEADER, service_token
from gateway.operations import RouteTable

log = structlog.get_logger()


@dataclass(frozen=True)
class ServiceDoc:
    document: dict[str, Any] | None
    table: RouteTable | None
    fetched_at: float
    error: str | None = None


class ServiceDocs:
    def __init__(
        self,
        client: httpx.AsyncClient,
        urls: Mapping[str, str],
        internal_secret: str,
        *,
        ttl_s: float = 300.0,
        retry_s: float = 10.0,
        timeout_s: float = 10.0,
        request_wait_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._urls = dict(urls)
        self._secret = internal_secret
        self._ttl_s = ttl_s
        self._retry_s = retry_s
        self._timeout_s = timeout_s
        self._request_wait_s = request_wait_s
        self._clock = clock
        self._entries: dict[str, ServiceDoc] = {}
        self._inflight: dict[str, asyncio.Task[ServiceDoc]] = {}

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(self._urls)

    async def entry(self, service: str, wait_s: float | None = None) -> ServiceDoc:
        """The cached document, fetching it first if there is none; with ``wait_s``,
        give up waiting after that long (the fetch goes on) and answer "unknown"."""
        current = self._entries.get(service)
        now = self._clock()
        if current is not None:
            age = now - current.fetched_at
            if current.document is not None:
                if age >= self._ttl_s:
                    self._start_fetch(service)  # serve the stale copy meanwhile
                return current
            if age < self._retry_s:
                return current
        fetch = asyncio.shield(self._start_fetch(service))
        if wait_s is None:
            return await fetch
        try:
            return await asyncio.wait_for(fetch, wait_s)
        except TimeoutError:
            return ServiceDoc(None, None, now, "still fetching")

    async def document(self, service: str) -> dict[str, Any] | None:
        return (await self.entry(service)).document

    async def operations(self, service: str, method: str, path: str) -> tuple[str, ...] | None:
        """What ``method path`` requires, or ``None`` when the gateway cannot tell.

        A request does not wait long for a slow first fetch: the service checks the
        permission itself, the gateway's check is the second line.
        """
        entry = await self.entry(service, wait_s=self._request_wait_s)
        if entry.table is None:
            return None
        found = entry.table.operations(method, path)
        if found is None and self._clock() - entry.fetched_at > self._retry_s:
            # Perhaps the service gained routes since: look again, in the background.
            self._start_fetch(service)
        return found

    def _start_fetch(self, service: str) -> asyncio.Task[ServiceDoc]:
        task = self._inflight.get(service)
        if task is None or task.done():
            task = asyncio.create_task(self._fetch(service))
            self._inflight[service] = task
        return task

    async def _fetch(self, service: str) -> ServiceDoc:
        rid = uuid.uuid4().hex
        try:
            response = await self._client.get(
                self._urls[service] + "/openapi.json",
                headers={
                    IDENTITY_HEADER: service_token("gateway", self._secret, rid),
                    "x-request-id": rid,
                },
                timeout=self._timeout_s,
            )
            response.raise_for_status()
            document = response.json()
            if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
                raise ValueError("not an OpenAPI document")
            entry = ServiceDoc(document, RouteTable.from_document(document), self._clock())
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("service_openapi_unavailable", service=service, error=str(exc))
            previous = self._entries.get(service)
            if previous is not None and previous.document is not None:
                # Keep checking with the last known routes; try again after retry_s.
                entry = ServiceDoc(
                    previous.document,
                    previous.table,
                    self._clock() - self._ttl_s + self._retry_s,
                    str(exc),
                )
            else:
                entry = ServiceDoc(None, None, self._clock(), f"{type(exc).__name__}: {exc}")
        self._entries[service] = entry
        return entry
