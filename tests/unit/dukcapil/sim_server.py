"""Run the Dukcapil simulator as a real uvicorn server on a free loopback port."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import uvicorn

from dukcapil_sim.app import SimSettings, create_app, regency_villages, region_names
from services.registry.seed.population import Population, generate

SIM_SETTINGS = SimSettings(
    regency="61.04",
    households=300,
    seed=5,
    as_of=date(2026, 7, 1),
    user_id="kkb-test",
    password="rahasia-uji",
    ip_user="10.1.2.3",
    daily_quota=10_000,
)


@dataclass(frozen=True)
class RunningSim:
    base_url: str
    settings: SimSettings
    population: Population


@contextmanager
def running_sim() -> Iterator[RunningSim]:
    settings = SIM_SETTINGS
    villages = regency_villages(region_names(settings.regency), settings.regency)
    population = generate(
        settings.regency, settings.households, villages, settings.seed, as_of=settings.as_of
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, population), log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the Dukcapil simulator did not start")
        time.sleep(0.02)
    try:
        yield RunningSim(f"http://127.0.0.1:{port}", settings, population)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
