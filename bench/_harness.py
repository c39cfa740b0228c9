"""Shared set-up for benchmarks: a scratch database, migrated, optionally the apps."""

import asyncio
import os
import platform
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


# A server sized for a regency's registry: a million people is ~1.5 GB with its indexes,
# and a server sized for it keeps them in memory (the default 128 MB reads them back from
# disk on every batch) and does not checkpoint every few seconds of a bulk load.
REGENCY_SERVER = {"shared_buffers": "2GB", "max_wal_size": "8GB", "checkpoint_timeout": "30min"}


@contextmanager
def private_server(label: str, settings: dict[str, str]) -> Iterator[tuple[database.Server, Path]]:
    """An embedded PostgreSQL of our own in a temporary folder, with ``settings`` (ALTER
    SYSTEM, then a restart), whatever DATABASE_URL says: never tune a server others
    share, and let nobody else's work share its cache or its checkpoints."""
    os.environ.pop("DATABASE_URL", None)
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-{label}-pg-"))
    server = database.start_server(data_dir)
    try:
        asyncio.run(_alter_system(server.admin_url, settings))
        server.stop()
        server = database.start_server(data_dir)
        yield server, data_dir
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def _alter_system(admin_url: str, settings: dict[str, str]) -> None:
    conn = await database.connect(admin_url)
    try:
        for name, value in settings.items():
            await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    finally:
        await conn.close()


@contextmanager
def bench_server(choice: str, label: str) -> Iterator[database.Server | None]:
    """``private``: a server of our own sized for a regency; ``shared``: None, meaning the
    project's server (DATABASE_URL, or the embedded default) as configured."""
    if choice == "private":
        with private_server(label, REGENCY_SERVER) as (server, _):
            yield server
    else:
        yield None


def add_server_option(parser) -> None:
    parser.add_argument(
        "--server",
        choices=("private", "shared"),
        default="private",
        help="private: an embedded PostgreSQL of its own, sized for a regency (default);"
        " shared: the project's server (DATABASE_URL), as configured",
    )


@contextmanager
def scratch_database(
    label: str,
    *,
    regions: bool = True,
    server: database.Server | None = None,
    keep: bool = False,
):
    """A migrated database of its own on ``server`` (default: the project's server);
    ``keep``: left in place afterwards (named ``kkb_bench_<label>_kept_…``; drop it by
    hand), for a bench to measure again on it."""
    own = server is None
    server = server or database.start_server()
    name = f"kkb_bench_{label}_{'kept_' if keep else ''}{uuid.uuid4().hex[:6]}"
    asyncio.run(database.create_database(server.admin_url, name))
    url = database.with_database(server.admin_url, name)
    try:
        asyncio.run(database.provision(url))
        upgrade_all(url)
        if regions:
            asyncio.run(load_reference_data(url))
        yield url
    finally:
        if not keep:
            asyncio.run(database.drop_database(server.admin_url, name))
        if own:
            server.stop()


@contextmanager
def running_stack(db_url: str, only: tuple[str, ...] | None = None, **extra_env: str):
    """The apps (``only`` some of them) on free ports, stopped on exit."""
    stack = Stack(
        db_url,
        ports={n: free_port() for n in ("gateway", "registry", "interventions", "reporting")},
        extra_env={"KKB_LOG_LEVEL": "WARNING", **extra_env},
    )
    stack.start(only=only)
    try:
        stack.wait_ready(timeout_s=60, only=only)
        yield stack
    finally:
        stack.stop()
