"""The integration tests' own stack: a fresh database and all four apps, the gateway
allowed to call webhook receivers on 127.0.0.1 and tuned for quick retries and pauses;
and small real HTTP receivers on free local ports."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from kkb import database
from kkb.bootstrap import load_reference_data
from kkb.migrate import upgrade_all
from kkb.stack import Stack
from tests.conftest import free_port, fresh_database
from tests.integration.receivers import Receiver

# Settings the tests below rely on; each is also read back by the tests that use it.
HOOK_ENV = {
    "KKB_ENV": "test",
    "KKB_LOG_LEVEL": "WARNING",
    "GATEWAY_WEBHOOK_ALLOW_LOOPBACK": "true",
    "GATEWAY_WEBHOOK_TIMEOUT_S": "1",
    "GATEWAY_WEBHOOK_PAUSE_AFTER_FAILURES": "5",
    "GATEWAY_WEBHOOK_BACKOFF_BASE_S": "0.2",
    "GATEWAY_WEBHOOK_BACKOFF_MAX_S": "1",
    "GATEWAY_WEBHOOK_POLL_S": "0.1",
    "GATEWAY_WEBHOOK_CONCURRENCY": "4",
}
PAUSE_AFTER = int(HOOK_ENV["GATEWAY_WEBHOOK_PAUSE_AFTER_FAILURES"])
TIMEOUT_S = float(HOOK_ENV["GATEWAY_WEBHOOK_TIMEOUT_S"])
# Feeds serve an event once every older transaction on the PostgreSQL server has ended,
# databases of other test runs included: waits allow for someone else's long one.
FEED_WAIT_S = 120.0
# A requeued delivery waits its turn behind every other test's subscriptions (slow and
# failing receivers included) in the one dispatcher: over 15 s on a loaded 2-core machine.
DELIVERY_WAIT_S = 60.0


@dataclass
class HookStack:
    stack: Stack
    db_url: str

    @property
    def gateway(self) -> str:
        return self.stack.url("gateway")


@pytest.fixture(scope="session")
def hooks(
    pg_server: database.Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HookStack]:
    url = fresh_database(pg_server, "hooks")
    upgrade_all(url)
    asyncio.run(load_reference_data(url))
    logs = tmp_path_factory.mktemp("hook-logs")
    names = ("gateway", "registry", "interventions", "reporting")
    stack = Stack(url, ports={n: free_port() for n in names}, extra_env=HOOK_ENV, log_dir=str(logs))
    stack.start()
    try:
        stack.wait_ready(timeout_s=60)
    except Exception:
        stack.stop()
        for f in sorted(logs.iterdir()):
            print(f"--- {f.name}\n{f.read_text()[-3000:]}")
        raise
    yield HookStack(stack, url)
    stack.stop()
    for f in sorted(logs.iterdir()):
        text = f.read_text()
        if "Traceback" in text:
            print(f"--- {f.name}\n{text[-4000:]}")
    asyncio.run(database.drop_database(pg_server.admin_url, database.database_of(url)))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()
