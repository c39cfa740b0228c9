"""Real webhook receivers: small threaded HTTP servers on free 127.0.0.1 ports that
record every request and answer as told (accept, fail, hang, fail-then-accept)."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Mode = Literal["ok", "fail", "slow", "flaky"]


@dataclass
class Hit:
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    answered: int  # 0: the receiver hung past the sender's timeout
    at: float


@dataclass
class Receiver:
    mode: Mode = "ok"
    slow_s: float = 3.0
    # flaky: this many requests answered 500 before it starts accepting.
    fail_first: int = 0
    hits: list[Hit] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status = receiver.answer()
                with receiver._lock:  # in order of arrival, before any hanging
                    receiver.hits.append(
                        Hit(
                            self.headers.get("webhook-id", ""),
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            status,
                            time.time(),
                        )
                    )
                if status == 0:
                    time.sleep(receiver.slow_s)
                    status = 200
                try:
                    self.send_response(status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def answer(self) -> int:
        with self._lock:
            if self.mode == "fail":
                return 500
            if self.mode == "slow":
                return 0
            if self.mode == "flaky" and self.fail_first > 0:
                self.fail_first -= 1
                return 500
            return 200

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def snapshot(self) -> list[Hit]:
        with self._lock:
            return list(self.hits)

    def accepted_ids(self) -> list[str]:
        return [h.webhook_id for h in self.snapshot() if h.answered == 200]
