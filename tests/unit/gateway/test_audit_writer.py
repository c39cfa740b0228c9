"""Group commit of audit entries: concurrent callers share a batch, each returns only
after its own entry is written, a failed write reaches every caller of that batch."""

import asyncio

import pytest

from gateway.audit.writer import AuditWriter


class Store:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[dict]] = []
        self.fail = fail
        self.release = asyncio.Event()

    async def append(self, entries: list[dict]) -> None:
        await self.release.wait()
        if self.fail:
            raise RuntimeError("database away")
        self.batches.append(entries)


async def test_waiting_callers_share_one_batch_and_return_after_it():
    store = Store()
    writer = AuditWriter(store.append)
    first = asyncio.create_task(writer.append({"n": 0}))
    await asyncio.sleep(0)  # the first batch (n=0) is being written
    rest = [asyncio.create_task(writer.append({"n": i})) for i in range(1, 40)]
    await asyncio.sleep(0)
    assert not first.done() and not any(t.done() for t in rest)
    store.release.set()
    await asyncio.gather(first, *rest)
    assert [len(b) for b in store.batches] == [1, 39]
    assert [e["n"] for b in store.batches for e in b] == list(range(40))


async def test_a_failed_write_is_raised_to_each_caller_of_the_batch():
    store = Store(fail=True)
    store.release.set()
    writer = AuditWriter(store.append)
    results = await asyncio.gather(
        *(writer.append({"n": i}) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_a_caller_that_goes_away_does_not_cancel_the_others_batch():
    store = Store()
    writer = AuditWriter(store.append)
    gone = asyncio.create_task(writer.append({"n": "gone"}))
    stays = asyncio.create_task(writer.append({"n": "stays"}))
    await asyncio.sleep(0)
    gone.cancel()
    store.release.set()
    await stays
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert [e["n"] for b in store.batches for e in b] == ["gone", "stays"]


async def test_batches_are_capped():
    store = Store()
    store.release.set()
    writer = AuditWriter(store.append, max_batch=10)
    first = asyncio.create_task(writer.append({"n": 0}))
    await asyncio.sleep(0)
    await asyncio.gather(first, *(writer.append({"n": i}) for i in range(1, 25)))
    assert max(len(b) for b in store.batches) <= 10
    assert sum(len(b) for b in store.batches) == 25
