"""Bulk export of 1,000,000 persons as NDJSON through the asynchronous export job.

Seeds a regency through the registry's bulk seed path, starts the gateway and the
registry as real processes, asks ``POST /v1/exports`` for the persons dataset as a
system client (masked: no personal-data scope) and polls until the file is written.
Target: under 60 s with flat memory; the peak RSS of the registry and gateway processes
is sampled every 0.1 s and compared with their RSS before the export. Also measures
the registry's internal stream alone (read and discarded by this script).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.bench_export [--persons 1000000] [--format ndjson|csv] \\
            [--unmasked]
"""

import argparse
import asyncio
import json
import tempfile
import threading
import time
from dataclasses import dataclass, field

import httpx
import psutil

from bench._harness import free_port, machine, scratch_database
from common.http import IDENTITY_HEADER
from common.identity import encode_identity, service_identity
from common.settings import CommonSettings
from gateway.cli import add_client
from kkb.bootstrap import as_service
from kkb.database import service_url
from kkb.stack import Stack
from services.registry.seed.loader import seed_regency

REGENCY = "61.04"
PERSONS_PER_HOUSEHOLD = 3.64  # the generator's average with default rates
APPS = ("gateway", "registry")


@dataclass
class RssSampler:
    """Peak resident memory of each process, sampled on a thread."""

    pids: dict[str, int]
    interval_s: float = 0.1
    peak: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def now(self) -> dict[str, int]:
        return {name: psutil.Process(pid).memory_info().rss for name, pid in self.pids.items()}

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, rss in self.now().items():
                self.peak[name] = max(self.peak.get(name, 0), rss)
            time.sleep(self.interval_s)

    def __enter__(self) -> "RssSampler":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def mib(n: int) -> float:
    return round(n / 2**20, 1)


def cpu_seconds(pids: dict[str, int], db_url: str) -> dict[str, float]:
    """User + system CPU of the apps and of the registry's database backends (the
    database runs on this machine): a figure that the machine's load does not inflate
    as much as wall time."""
    out = {name: sum(psutil.Process(pid).cpu_times()[:2]) for name, pid in pids.items()}

    async def backends() -> list[int]:
        async with as_service(db_url, "registry") as conn:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'kkb-registry'"
            )
        return [r["pid"] for r in rows]

    total = 0.0
    for pid in asyncio.run(backends()):
        try:
            total += sum(psutil.Process(pid).cpu_times()[:2])
        except psutil.Error:
            continue
    out["registry_db"] = total
    return out


async def seed(db_url: str, persons: int) -> dict:
    households = round(persons / PERSONS_PER_HOUSEHOLD)
    async with as_service(db_url, "registry") as conn:
        start = time.perf_counter()
        result = await seed_regency(conn, REGENCY, households, seed=1)
        await conn.execute("ANALYZE")
    return {
        "households": result.households,
        "persons": result.persons,
        "seconds": round(time.perf_counter() - start, 1),
    }


def token(gateway: str, db_url: str, scopes: list[str]) -> str:
    client_id, secret = asyncio.run(
        add_client(service_url(db_url, "gateway"), "bench export", scopes, REGENCY, None)
    )
    resp = httpx.post(
        f"{gateway}/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    resp.raise_for_status()
    return resp.json()["access_token"]


def run_job(
    gateway: str, bearer: str, fmt: str, sampler_pids: dict[str, int], db_url: str, **headers: str
) -> dict:
    headers = {"Authorization": f"Bearer {bearer}", **headers}
    with httpx.Client(base_url=gateway, headers=headers, timeout=60) as client:
        sampler = RssSampler(sampler_pids)
        before = sampler.now()
        cpu_before = cpu_seconds(sampler_pids, db_url)
        with sampler:
            start = time.perf_counter()
            created = client.post(
                "/v1/exports", json={"region": REGENCY, "datasets": ["persons"], "format": fmt}
            )
            created.raise_for_status()
            while True:
                job = client.get(f"/v1/exports/{created.json()['id']}").json()
                if job["status"] in ("done", "failed"):
                    break
                time.sleep(0.2)
            elapsed = time.perf_counter() - start
        cpu_after = cpu_seconds(sampler_pids, db_url)
    if job["status"] != "done":
        raise SystemExit(f"export failed: {job['error']}")
    [file] = job["files"]
    return {
        "format": fmt,
        "masked": job["masked"],
        "rows": file["rows"],
        "bytes": file["bytes"],
        "seconds": round(elapsed, 1),
        "rows_per_s": round(file["rows"] / elapsed),
        "cpu_seconds": {k: round(cpu_after[k] - cpu_before.get(k, 0.0), 1) for k in cpu_after},
        "rss_before_mib": {k: mib(v) for k, v in before.items()},
        "rss_peak_mib": {k: mib(v) for k, v in sampler.peak.items()},
        "rss_growth_mib": {k: mib(sampler.peak[k] - before[k]) for k in before},
    }


def direct_stream(registry: str) -> dict:
    """The registry's own stream, read and thrown away: the service's share of the time."""
    identity = service_identity("bench", request_id="bench-export", region=REGENCY)
    headers = {IDENTITY_HEADER: encode_identity(identity, CommonSettings().internal_secret)}
    rows = size = 0
    start = time.perf_counter()
    with httpx.stream(
        "GET",
        f"{registry}/internal/export/persons",
        params={"region": REGENCY, "masked": "true"},
        headers=headers,
        timeout=120,
    ) as resp:
        resp.raise_for_status()
        for chunk in resp.iter_raw():
            rows += chunk.count(b"\n")
            size += len(chunk)
    elapsed = time.perf_counter() - start
    return {
        "rows": rows - 2,  # header and footer lines
        "bytes": size,
        "seconds": round(elapsed, 1),
        "rows_per_s": round((rows - 2) / elapsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("ndjson", "csv"), default="ndjson")
    parser.add_argument(
        "--unmasked", action="store_true", help="also export with pii:read and a purpose"
    )
    args = parser.parse_args()
    results: dict = {"machine": machine(), "load_avg": psutil.getloadavg()}
    with scratch_database("export") as db_url, tempfile.TemporaryDirectory() as folder:
        results["seed"] = asyncio.run(seed(db_url, args.persons))
        stack = Stack(
            db_url,
            ports={name: free_port() for name in APPS},
            extra_env={
                "KKB_LOG_LEVEL": "WARNING",
                "GATEWAY_EXPORT_DIR": folder,
                "REGISTRY_DUKCAPIL_WORKER_ENABLED": "false",
                "GATEWAY_WEBHOOK_ENABLED": "false",
            },
        )
        stack.start(only=APPS)
        try:
            stack.wait_ready(timeout_s=120, only=APPS)
            pids = {name: stack.processes[name].pid for name in APPS}
            gateway = stack.url("gateway")
            results["registry_stream_only"] = direct_stream(stack.url("registry"))
            masked = token(gateway, db_url, ["export:bulk"])
            results["export_job"] = run_job(gateway, masked, args.format, pids, db_url)
            if args.unmasked:
                full = token(gateway, db_url, ["export:bulk", "pii:read"])
                results["export_job_unmasked"] = run_job(
                    gateway, full, args.format, pids, db_url, **{"X-KKB-Purpose": "verification"}
                )
        finally:
            stack.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
