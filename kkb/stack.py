"""Start the apps as separate processes, wait until each is ready, stop them all.

Four apps make the system; a fifth, the Dukcapil simulator, stands in for the civil
registry's web service (synthetic data only) and the registry is pointed at it. It
serves the population ``kkb seed`` and the ``make run`` demo load (same regency,
household count, seed and date), so demo persons verify against it.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx

from kkb.bootstrap import DEMO_HOUSEHOLDS
from kkb.database import service_url
from services.registry.settings import RegistrySettings


@dataclass(frozen=True)
class AppSpec:
    name: str
    factory: str
    default_port: int
    ready_path: str = "/readyz"


DUKCAPIL_SIM = "dukcapil_sim"
APPS = (
    AppSpec(DUKCAPIL_SIM, "dukcapil_sim.app:create_app", 8900, "/healthz"),
    AppSpec("gateway", "gateway.main:create_app", 8000),
    AppSpec("registry", "services.registry.main:create_app", 8001),
    AppSpec("interventions", "services.interventions.main:create_app", 8002),
    AppSpec("reporting", "services.reporting.main:create_app", 8003),
)
# The demo seed's regency and random seed (kkb/bootstrap.load_demo, `kkb seed`).
DEMO_REGENCY = "61.04"
DEMO_SEED = "1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dukcapil_environment(sim_url: str) -> dict[str, str]:
    """The registry pointed at the simulator, and the simulator accepting the registry's
    credentials and serving the demo population; variables already set win."""
    fields = RegistrySettings.model_fields
    user = os.environ.get("REGISTRY_DUKCAPIL_USER", fields["dukcapil_user"].default)
    password = os.environ.get("REGISTRY_DUKCAPIL_PASSWORD", fields["dukcapil_password"].default)
    ip = os.environ.get("REGISTRY_DUKCAPIL_IP", fields["dukcapil_ip"].default)
    wanted = {
        "REGISTRY_DUKCAPIL_URL": sim_url,
        "DUKCAPIL_SIM_REGENCY": DEMO_REGENCY,
        "DUKCAPIL_SIM_HOUSEHOLDS": str(DEMO_HOUSEHOLDS),
        "DUKCAPIL_SIM_SEED": DEMO_SEED,
        "DUKCAPIL_SIM_USER_ID": user,
        "DUKCAPIL_SIM_PASSWORD": password,
        "DUKCAPIL_SIM_IP_USER": ip,
    }
    return {k: v for k, v in wanted.items() if k not in os.environ}


@dataclass
class Stack:
    db_url: str
    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    log_dir: str | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Callers that choose ports (tests, benchmarks) name the four apps; the
        # simulator then gets a free port too, so parallel stacks do not collide.
        if self.ports and DUKCAPIL_SIM not in self.ports:
            self.ports[DUKCAPIL_SIM] = _free_port()

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
                **dukcapil_environment(self.url(DUKCAPIL_SIM)),
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
                        path = next(a for a in APPS if a.name == name).ready_path
                        if client.get(self.url(name) + path).status_code == 200:
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
