"""The senders: one worker per subscription, each with a bounded number of requests in
flight, so a slow or dead subscriber only ever occupies its own slots.

A worker claims due deliveries (a lease in the database, so replicas share the work),
signs and posts them, and writes the outcomes back in one transaction per round:
delivered, retried later with backoff, or abandoned after the retry window; the
subscription's failure count moves with them and pauses it at the threshold.
"""

import asyncio
import time
import uuid
from collections import deque
from datetime import UTC, datetime

import aiohttp
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.integration import repository as repo
from gateway.integration.delivery_rules import (
    AttemptResult,
    RetryPolicy,
    health_after,
    settle,
)
from gateway.integration.secret_box import SecretBox
from gateway.integration.settings import IntegrationSettings
from gateway.integration.signing import signed_headers
from gateway.integration.ssrf import (
    AddressPolicy,
    GuardedResolver,
    TargetRefused,
    check_literal,
    parse_target,
)

log = structlog.get_logger()

USER_AGENT = "kkb-webhooks/1"
# Bytes of a receiver's answer read before the connection is released.
RESPONSE_READ_LIMIT = 4096
ERROR_TEXT_LIMIT = 300
LINGER_S = 0.02
# Claimed deliveries kept per subscription, in multiples of its concurrency.
QUEUED_ROUNDS = 4


class SubscriptionWorker:
    """Sends one subscription's deliveries, at most ``concurrency`` at a time.

    Claimed deliveries wait in a short local queue, and each finished attempt starts
    the next one at once, so sending never waits for the database; the worker's rounds
    (record what finished, claim more) run alongside, batching whatever finished
    meanwhile.
    """

    def __init__(self, sender: "Sender", subscription_id: uuid.UUID) -> None:
        self.sender = sender
        self.id = subscription_id
        self.concurrency = sender.settings.webhook_concurrency
        self.wakeup = asyncio.Event()
        self.queue: deque[dict] = deque()
        self.inflight: set[asyncio.Task] = set()
        self.done: list[AttemptResult] = []
        # False once a claim found less than it asked for, until told of new work.
        self.may_have_work = True
        self.url = ""
        self.secret = ""
        self.refused: str | None = None

    def notify(self) -> None:
        self.may_have_work = True
        self.wakeup.set()

    async def load(self) -> bool:
        async with self.sender.sessionmaker() as session:
            row = await repo.sending_details(session, self.id)
        if row is None:
            return False
        self.url, self.secret = row["url"], self.sender.box.open(row["secret_enc"])
        try:
            # IP-literal hosts never reach the resolver: checked here, once (the policy
            # is fixed for the life of the process); host names at every new connection.
            check_literal(parse_target(self.url), self.sender.policy)
        except TargetRefused as exc:
            self.refused = f"refused: {exc}"
        return True

    def _fill(self) -> None:
        while self.queue and len(self.inflight) < self.concurrency:
            task = asyncio.create_task(self._attempt(self.queue.popleft()))
            self.inflight.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self.inflight.discard(task)
        self._fill()
        self.wakeup.set()

    async def round(self, want: int) -> None:
        """Record what finished, then claim up to ``want`` more."""
        finished, self.done = self.done, []
        try:
            async with self.sender.sessionmaker() as session, session.begin():
                paused = await self._record(session, finished) if finished else False
                claimed = (
                    await repo.claim(session, self.id, want, self.sender.lease_s)
                    if want > 0 and not paused
                    else []
                )
        except BaseException:
            self.done[:0] = finished  # recorded by the next round
            raise
        if paused:
            # Claimed but not yet sent: their leases run out and they wait for resume.
            self.queue.clear()
        if want > 0:
            self.may_have_work = len(claimed) == want
        self.queue.extend(claimed)
        self._fill()

    async def _record(self, session: AsyncSession, finished: list[AttemptResult]) -> bool:
        """Write the attempts; True when the subscription is (now) paused."""
        outcomes = [settle(r, self.sender.retry) for r in finished]
        await repo.record_attempts(session, outcomes)
        current = await repo.lock_subscription_health(session, self.id)
        if current is None:
            return True  # deleted meanwhile; its deliveries went with it
        health = health_after(
            current["status"],
            current["consecutive_failures"],
            finished,
            self.sender.settings.webhook_pause_after_failures,
        )
        await repo.save_subscription_health(session, self.id, health)
        if health["pause"]:
            log.warning("webhook_subscription_paused", subscription=str(self.id))
        return health["status"] == "paused"

    async def _attempt(self, delivery: dict) -> None:
        body = delivery["body"].encode()
        headers = signed_headers(self.secret, str(delivery["event_id"]), int(time.time()), body)
        headers["user-agent"] = USER_AGENT
        started_at, started = datetime.now(UTC), time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            if self.refused is not None:
                raise TargetRefused("webhook_address_forbidden")
            async with self.sender.http.post(
                self.url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                status = resp.status
                await resp.content.read(RESPONSE_READ_LIMIT)
        except TargetRefused as exc:
            error = self.refused or f"refused: {exc}"
        except TimeoutError:
            error = f"timeout after {self.sender.settings.webhook_timeout_s:g} s"
        except (aiohttp.ClientError, ValueError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT]
        self.done.append(
            AttemptResult(
                delivery_id=delivery["id"],
                attempt=delivery["attempts"],
                at=started_at,
                expires_at=delivery["expires_at"],
                status_code=status,
                error=error,
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        )

    async def run(self, stop: asyncio.Event) -> None:
        if not await self.load():
            return
        while not stop.is_set():
            self.wakeup.clear()
            # Keep several rounds' worth claimed: the queue refills while attempts run.
            room = QUEUED_ROUNDS * self.concurrency - len(self.queue) - len(self.inflight)
            want = room if self.may_have_work and room >= self.concurrency // 2 else 0
            if self.done or want:
                try:
                    await self.round(want)
                except Exception as exc:  # noqa: BLE001 - a database hiccup must not end it
                    log.warning("webhook_round_failed", subscription=str(self.id), error=repr(exc))
                    await asyncio.sleep(self.sender.settings.webhook_poll_s)
                if self.inflight:
                    await asyncio.sleep(LINGER_S)  # let more finish: one round records them
                continue
            # Nothing to record or claim: wait for an attempt to finish or news of work.
            await self.wakeup.wait()

    async def drain(self) -> None:
        """Let attempts in flight finish (bounded by the timeout) and record them."""
        self.queue.clear()
        if self.inflight:
            await asyncio.wait(self.inflight, timeout=self.sender.settings.webhook_timeout_s + 1)
        if self.done:
            await self.round(0)


class Sender:
    """Keeps one worker per subscription; wakes those with work due."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: IntegrationSettings,
        policy: AddressPolicy,
        retry: RetryPolicy,
        box: SecretBox,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.policy = policy
        self.retry = retry
        self.box = box
        # A claimed delivery is someone else's to retry only after it surely ended: it
        # may wait behind the queued rounds of attempts, then take its own.
        self.lease_s = settings.webhook_timeout_s * (QUEUED_ROUNDS + 1) + 10
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=settings.webhook_max_connections,
                resolver=GuardedResolver(policy),
                ttl_dns_cache=10,
            ),
            timeout=aiohttp.ClientTimeout(total=settings.webhook_timeout_s),
            auto_decompress=False,
        )
        self.workers: dict[uuid.UUID, tuple[SubscriptionWorker, asyncio.Task]] = {}
        self._stop = asyncio.Event()

    def wake(self, subscription_ids: set[uuid.UUID]) -> None:
        for sid in subscription_ids:
            entry = self.workers.get(sid)
            if entry is not None:
                entry[0].notify()

    async def sync_workers(self) -> None:
        async with self.sessionmaker() as session:
            live = set(await repo.subscription_ids(session))
            due = set(await repo.due_subscriptions(session))
        for sid in live - self.workers.keys():
            worker = SubscriptionWorker(self, sid)
            self.workers[sid] = (worker, asyncio.create_task(worker.run(self._stop)))
        for sid in self.workers.keys() - live:
            worker, task = self.workers.pop(sid)
            task.cancel()
        self.wake(due)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sync_workers()
            except Exception as exc:  # noqa: BLE001 - keep supervising after any fault
                log.warning("webhook_supervisor_failed", error=repr(exc))
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.settings.webhook_poll_s)
            except TimeoutError:
                pass

    async def aclose(self) -> None:
        self._stop.set()
        for _worker, task in self.workers.values():
            task.cancel()
        await asyncio.gather(*(t for _, t in self.workers.values()), return_exceptions=True)
        await asyncio.gather(*(w.drain() for w, _ in self.workers.values()), return_exceptions=True)
        await self.http.close()
