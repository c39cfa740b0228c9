"""Gateway tests: the shared stack, plus extra gateway processes with other settings,
small HTTP servers standing in for an identity provider or a slow service, and the
gateway's own signing key for forging tokens."""

import asyncio
import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from common.settings import CommonSettings
from gateway.auth.keys import SigningKey
from kkb import database
from kkb.stack import Stack
from tests.conftest import free_port

SERVICES = ("registry", "interventions", "reporting")


def start_gateway(stack: Stack, db_url: str, log_dir: str, **env: str) -> Stack:
    """Another gateway process on the same database and services, with other settings.

    Its issuer is the shared gateway's, as for replicas behind one load balancer, so
    tokens from either work on both (unless ``GATEWAY_ISSUER`` is given).
    """
    ports = {name: stack.port(name) for name in SERVICES}
    extra = {
        "KKB_ENV": "test",
        "KKB_LOG_LEVEL": "WARNING",
        "GATEWAY_ISSUER": stack.url("gateway"),
        **env,
    }
    variant = Stack(
        db_url, ports={**ports, "gateway": free_port()}, extra_env=extra, log_dir=log_dir
    )
    variant.start(only=("gateway",))
    try:
        variant.wait_ready(timeout_s=120, only=("gateway",))
    except Exception:
        variant.stop()
        raise
    return variant


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""


@dataclass
class FakeService:
    """A stand-in service: serves an OpenAPI document, records every other request,
    and answers after ``delays[path]`` seconds."""

    openapi: dict[str, Any]
    delays: dict[str, float] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def requests_to(self, path: str, method: str | None = None) -> list[Seen]:
        return [s for s in self.seen if s.path == path and (method is None or s.method == method)]


def _serve(handler_factory: Callable[[], type[BaseHTTPRequestHandler]]) -> tuple[str, Callable]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_factory())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_address[1]}", stop


def serve_fake(fake: FakeService) -> Callable[[], None]:
    def factory() -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                if path == "/openapi.json":
                    payload = json.dumps(fake.openapi).encode()
                else:
                    fake.seen.append(
                        Seen(
                            self.command,
                            path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            query,
                        )
                    )
                    time.sleep(fake.delays.get(path, 0))
                    payload = json.dumps({"ok": True, "path": path}).encode()
                try:
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the gateway gave up waiting and closed the connection

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        return Handler

    fake.url, stop = _serve(factory)
    return stop


def serve_json(documents: dict[str, Any]) -> tuple[str, Callable[[], None]]:
    """A tiny HTTP server answering GET ``path`` with ``documents[path]`` (mutable)."""

    def factory() -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path not in documents:
                    self.send_error(404)
                    return
                payload = json.dumps(documents[self.path]).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    return _serve(factory)


async def _active_key_row(db_url: str) -> dict:
    conn = await database.connect(db_url)
    try:
        row = await conn.fetchrow(
            "SELECT kid, private_key_enc, created_at FROM gateway.signing_key"
            " WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1"
        )
        return dict(row)
    finally:
        await conn.close()


def gateway_signing_key(db_url: str) -> SigningKey:
    """The key the gateways sign with now, read as an operator with database access."""
    row = asyncio.run(_active_key_row(db_url))
    password = base64.b64decode(CommonSettings().pii_key)
    return SigningKey.from_pem(
        row["private_key_enc"], created_at=row["created_at"], password=password
    )


@pytest.fixture(scope="session")
def gateway_logs(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("gateway-variants"))


@pytest.fixture(scope="session")
def gateway_url(stack: Stack) -> str:
    return stack.url("gateway")


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def http_get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, timeout=30, **kwargs)
