"""Start the four apps as separate processes, wait until each is ready, stop them all."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx

from kkb.database import service_url


@dataclass(frozen=True)
class AppSpec:
    name: str
    factory: str
    default_port: int


APPS = (
    AppSpec("gateway", "gateway.main:create_app", 8000),
    AppSpec("registry", "services.registry.main:create_app", 8001),
    AppSpec("interventions", "services.interventions.main:create_app", 8002),
    AppSpec("reporting", "services.reporting.main:create_app", 8003),
)


@dataclass
class Stack:
    db_url: str
    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    log_dir: str | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def port(self, app: str) -> int:
        spec = next(a for a in APPS if a.name == app)
        env_port = os.environ.get(f"KKB_{app.upper()}_PORT")
        return self.ports.get(app) or int(env_port or spec.default_port)

    def url(self, app: str) -> str:
        return f"http://{self.host}:{self.port(app)}"

    def environment(self, app: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                f"{app.upper()}_DATABASE_URL": service_url(self.db_url, app),
                "GATEWAY_REGISTRY_URL": self.url("registry"),
                "GATEWAY_INTERVENTIONS_URL": self.url("interventions"),
                "GATEWAY_REPORTING_URL": self.url("reporting"),
                "INTERVENTIONS_REGISTRY_URL": self.url("registry"),
                "REPORTING_REGISTRY_URL": self.url("registry"),
                "REPORTING_INTERVENTIONS_URL": self.url("interventions"),
                "GATEWAY_PUBLIC_URL": self.url("gateway"),
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, only: tuple[str, ...] | None = None) -> None:
        for spec in APPS:
            if only and spec.name not in only:
                continue
            self.start_app(spec.name)

    def start_app(self, name: str) -> None:
        spec = next(a for a in APPS if a.name == name)
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            spec.factory,
            "--host",
            self.host,
            "--port",
            str(self.port(name)),
            "--no-access-log",
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "5",
        ]
        out = None
        if self.log_dir:
            os.makedirs(self.log_dir, exist_ok=True)
            out = open(os.path.join(self.log_dir, f"{name}.log"), "ab")  # noqa: SIM115
        self.processes[name] = subprocess.Popen(
            cmd,
            env=self.environment(name),
            stdout=out,
            stderr=out,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the children in order
        )

    def wait_ready(self, timeout_s: float = 30.0, only: tuple[str, ...] | None = None) -> None:
        pending = {n for n in self.processes if not only or n in only}
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for name in sorted(pending):
                    proc = self.processes[name]
                    if proc.poll() is not None:
                        raise RuntimeError(f"{name} exited with code {proc.returncode}")
                    try:
                        if client.get(self.url(name) + "/readyz").status_code == 200:
                            pending.discard(name)
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(f"not ready after {timeout_s}s: {sorted(pending)}")
                if pending:
                    time.sleep(0.05)

    def stop_app(self, name: str, timeout_s: float = 10.0) -> None:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        for name in list(self.processes):
            proc = self.processes[name]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name in list(self.processes):
            self.stop_app(name)
