"""Group commit for the audit chain.

Every audited request appends to one hash chain, so appends are serialised on the chain
head's row lock. One transaction per request made the head lock plus a commit flush the
ceiling of the whole gateway (about 150 audited requests/s on the development machine).
Here the requests waiting at the same moment share one transaction: each caller still
returns only once its own entry is committed — nothing is answered unaudited — but the
lock and the flush are paid once per batch.
"""

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger()

AppendBatch = Callable[[list[dict]], Awaitable[None]]


class AuditWriter:
    def __init__(self, append_batch: AppendBatch, max_batch: int = 500) -> None:
        self._append_batch = append_batch
        self._max_batch = max_batch
        self._pending: list[tuple[dict, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def append(self, entry: dict) -> None:
        """Queue ``entry``; return once it is committed, or raise what the write raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((entry, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        # Shielded: a caller that goes away must not cancel the batch others wait on.
        await asyncio.shield(done)

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                await self._append_batch([entry for entry, _ in batch])
            except BaseException as exc:  # noqa: BLE001 - every waiter learns of it
                log.error("audit_append_failed", entries=len(batch), error=repr(exc))
                failure = exc if isinstance(exc, Exception) else RuntimeError(repr(exc))
                for _, done in batch:
                    if not done.done():
                        done.set_exception(failure)
                if not isinstance(exc, Exception):
                    raise
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
