"""Test harness: a fresh database per run (per xdist worker), migrated and loaded,
and the real apps started as separate processes against it."""

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator

import pytest

from kkb import database
from kkb.bootstrap import load_reference_data
from kkb.migrate import upgrade_all
from kkb.stack import Stack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[database.Server]:
    server = database.start_server()
    yield server
    server.stop()


def fresh_database(server: database.Server, label: str) -> str:
    name = f"kkb_test_{label}_{uuid.uuid4().hex[:8]}"
    asyncio.run(database.create_database(server.admin_url, name))
    db_url = database.with_database(server.admin_url, name)
    asyncio.run(database.provision(db_url))
    return db_url


@pytest.fixture(scope="session")
def db_url(pg_server: database.Server, worker_id: str = "main") -> Iterator[str]:
    url = fresh_database(pg_server, os.environ.get("PYTEST_XDIST_WORKER", "main"))
    upgrade_all(url)
    asyncio.run(load_reference_data(url))
    yield url
    if not os.environ.get("KKB_KEEP_TEST_DB"):
        asyncio.run(database.drop_database(pg_server.admin_url, database.database_of(url)))


@pytest.fixture(scope="session")
def stack(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("logs")
    s = Stack(
        db_url,
        ports={name: free_port() for name in ("gateway", "registry", "interventions", "reporting")},
        extra_env={"KKB_ENV": "test", "KKB_LOG_LEVEL": "INFO"},
        log_dir=str(logs),
    )
    s.start()
    try:
        s.wait_ready(timeout_s=60)
    except Exception:
        s.stop()
        for f in sorted(logs.iterdir()):
            print(f"--- {f.name}\n{f.read_text()[-3000:]}")
        raise
    yield s
    s.stop()
