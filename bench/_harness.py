"""Shared set-up for benchmarks: a scratch database, migrated, optionally the apps."""

import asyncio
import os
import platform
import socket
import uuid
from contextlib import contextmanager

from kkb import database
from kkb.bootstrap import load_reference_data
from kkb.migrate import upgrade_all
from kkb.stack import Stack


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def scratch_database(label: str, *, regions: bool = True):
    server = database.start_server()
    name = f"kkb_bench_{label}_{uuid.uuid4().hex[:6]}"
    asyncio.run(database.create_database(server.admin_url, name))
    url = database.with_database(server.admin_url, name)
    try:
        asyncio.run(database.provision(url))
        upgrade_all(url)
        if regions:
            asyncio.run(load_reference_data(url))
        yield url
    finally:
        asyncio.run(database.drop_database(server.admin_url, name))
        server.stop()


@contextmanager
def running_stack(db_url: str, only: tuple[str, ...] | None = None, **extra_env: str):
    """The apps (``only`` some of them) on free ports, stopped on exit."""
    stack = Stack(db_url, ports={n: free_port() for n in
                                 ("gateway", "registry", "interventions", "reporting")},
                  extra_env={"KKB_LOG_LEVEL": "WARNING", **extra_env})
    stack.start(only=only)
    try:
        stack.wait_ready(timeout_s=60, only=only)
        yield stack
    finally:
        stack.stop()
