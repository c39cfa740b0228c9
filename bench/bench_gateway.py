"""The gateway's cost: one request direct to a service vs through the gateway, side by
side in one run, and the gateway's proxy transports compared.

    .venv/bin/python bench/bench_gateway.py [--duration 10] [--connections 50]
        [--tool wrk|python] [--transports aiohttp,httpx-aiohttp,httpx]
        [--record bench/gateway_compare/results.md]

The request is ``GET /v1/regions/61.04.16.2007``: FastAPI + asyncpg, one indexed lookup
plus ancestors (the shape DESIGN.md measured). Direct calls carry a signed identity
header as the gateway would; gateway calls carry a user's bearer token. One registry
process serves both; one gateway process per transport (``GATEWAY_PROXY_TRANSPORT``).
Targets: added p50 < 2 ms, gateway throughput >= 70 % of direct.

Besides latency and throughput, the CPU time each server process spends per request is
read from /proc: on a machine shared with other work it is the steadier number, and it
says which process limits throughput once each has a core of its own.

Load: ``wrk`` when installed (``apt-get install wrk``), else a bounded asyncio load
generator on aiohttp with ``--connections`` concurrent clients.
"""

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import free_port, machine, scratch_database  # noqa: E402
from common.http import IDENTITY_HEADER  # noqa: E402
from common.identity import Identity, Role, encode_identity  # noqa: E402
from common.settings import CommonSettings  # noqa: E402
from gateway.cli import add_user  # noqa: E402
from kkb.database import service_url  # noqa: E402
from kkb.stack import Stack  # noqa: E402

PATH = "/v1/regions/61.04.16.2007"
ISSUER = "http://bench-gateway"
TRANSPORTS = ("aiohttp", "httpx-aiohttp", "httpx")
WARM_UP_S = 2.0


@dataclass(frozen=True)
class Result:
    target: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    # CPU milliseconds per request of each server process: name -> ms.
    cpu_ms: dict[str, float] = field(default_factory=dict)


Load = Callable[[str, str, dict, int, float], Result]


async def _python_load(url: str, headers: dict[str, str], connections: int, duration: float):
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal errors
            while (start := time.perf_counter()) < deadline:
                async with session.get(url) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def load_python(target: str, url: str, headers: dict, connections: int, duration: float) -> Result:
    latencies, errors, elapsed = asyncio.run(_python_load(url, headers, connections, duration))
    ordered = sorted(latencies)
    return Result(
        target,
        len(ordered),
        len(ordered) / elapsed,
        statistics.median(ordered) * 1000,
        ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000,
        errors,
    )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * _UNITS[unit]


def load_wrk(target: str, url: str, headers: dict, connections: int, duration: float) -> Result:
    flags = [arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")]
    seconds = max(1, round(duration))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *flags, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.MULTILINE))
    if set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output for {target}:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"Socket errors: .*timeout (\d+)", out)
    return Result(
        target,
        int(re.search(r"(\d+) requests in", out).group(1)),
        float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        _ms(percentiles["50"]),
        _ms(percentiles["99"]),
        (int(non_2xx.group(1)) if non_2xx else 0) + (int(timeouts.group(1)) if timeouts else 0),
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(load: Load, pids: dict[str, int], target: str, url: str, headers: dict, args) -> Result:
    load(target, url, headers, args.connections, WARM_UP_S)
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    result = load(target, url, headers, args.connections, args.duration)
    spent = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    per_request = {n: 1000 * t / max(1, result.requests) for n, t in spent.items() if t > 0}
    return replace(result, cpu_ms=per_request)


def identity_header(secret: str) -> dict[str, str]:
    """What the gateway would forward for an analyst of Kalimantan Barat (60 s life)."""
    identity = Identity(sub="bench", role=Role.ANALYST, region="61", request_id="bench")
    return {IDENTITY_HEADER: encode_identity(identity, secret)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--tool", choices=("wrk", "python"), default=None)
    parser.add_argument("--transports", default=",".join(TRANSPORTS))
    parser.add_argument("--record", type=Path, help="append the results table to this file")
    parser.add_argument(
        "--upstream",
        choices=("registry", "trivial"),
        default="registry",
        help="trivial: a raw ASGI app answering at once, to isolate the gateway's own cost",
    )
    args = parser.parse_args()
    if args.duration + WARM_UP_S > 50:
        parser.error("--duration must stay under the identity header's 60 s lifetime")
    tool = args.tool or ("wrk" if shutil.which("wrk") else "python")
    load: Load = load_wrk if tool == "wrk" else load_python
    transports = [t for t in args.transports.split(",") if t]

    env = {"KKB_LOG_LEVEL": "WARNING", "KKB_ENV": "test"}
    results: list[Result] = []
    with scratch_database("gateway") as db_url:
        registry = Stack(db_url, ports={"registry": free_port()}, extra_env=env)
        gateways: dict[str, Stack] = {}
        if args.upstream == "trivial":
            registry.processes["registry"] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "bench.gateway_compare.upstream:create_app",
                    "--port",
                    str(registry.port("registry")),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                cwd=Path(__file__).resolve().parent.parent,
            )
        else:
            registry.start(only=("registry",))
        try:
            for transport in transports:
                gateways[transport] = Stack(
                    db_url,
                    ports={"gateway": free_port(), "registry": registry.port("registry")},
                    extra_env={
                        **env,
                        "GATEWAY_PROXY_TRANSPORT": transport,
                        "GATEWAY_ISSUER": ISSUER,
                        "GATEWAY_RATE_LIMIT_PER_S": "1000000",
                        "GATEWAY_RATE_LIMIT_BURST": "1000000",
                        # The webhook dispatcher polls the database in the background;
                        # its cost is not the proxy path's (see results.md).
                        "GATEWAY_WEBHOOK_ENABLED": "false",
                    },
                )
                gateways[transport].start(only=("gateway",))
            if args.upstream == "registry":
                registry.wait_ready(only=("registry",))
            else:
                _wait_for(registry.url("registry") + "/openapi.json")
            for stack in gateways.values():
                stack.wait_ready(only=("gateway",))
            asyncio.run(
                add_user(
                    service_url(db_url, "gateway"),
                    "bench.analyst",
                    "bench-password-1",
                    "analyst",
                    "61",
                    None,
                    None,
                )
            )
            first = next(iter(gateways.values())).url("gateway")
            token = httpx.post(
                f"{first}/v1/auth/token",
                data={
                    "grant_type": "password",
                    "username": "bench.analyst",
                    "password": "bench-password-1",
                },
            ).json()["access_token"]
            secret = CommonSettings().internal_secret
            registry_pid = registry.processes["registry"].pid
            print(f"{machine()}; load: {tool}, {args.connections} connections", flush=True)
            # Interleaved, so drift in the machine's load hits both sides alike.
            for transport, stack in gateways.items():
                results.append(
                    measure(
                        load,
                        {"registry": registry_pid},
                        "direct",
                        registry.url("registry") + PATH,
                        identity_header(secret),
                        args,
                    )
                )
                results.append(
                    measure(
                        load,
                        {"registry": registry_pid, "gateway": stack.processes["gateway"].pid},
                        f"gateway ({transport})",
                        stack.url("gateway") + PATH,
                        {"Authorization": f"Bearer {token}"},
                        args,
                    )
                )
                print(_row(results[-2]), _row(results[-1]), sep="\n", flush=True)
        finally:
            for stack in gateways.values():
                stack.stop()
            registry.stop()

    table = report(results, tool, args.connections, args.duration, args.upstream)
    print("\n" + table)
    if args.record:
        with args.record.open("a") as f:
            f.write(table + "\n")
    return 0


def _cpu(r: Result, name: str) -> str:
    return f"{r.cpu_ms[name]:.2f}" if name in r.cpu_ms else "–"


def _row(r: Result) -> str:
    return (
        f"| {r.target} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.requests:,} "
        f"| {r.errors} | {_cpu(r, 'registry')} | {_cpu(r, 'gateway')} |"
    )


def _wait_for(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(url)


def report(
    results: list[Result], tool: str, connections: int, duration: float, upstream: str
) -> str:
    upstream_name = "the registry" if upstream == "registry" else "a trivial ASGI upstream"
    lines = [
        f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine()}, load average "
        f"{os.getloadavg()[0]:.1f}",
        f"load: {tool}, {connections} connections, {duration:g} s per run, GET {PATH} "
        f"answered by {upstream_name} (its CPU in the registry column)",
        "",
        "| target | req/s | p50 ms | p99 ms | requests | errors | registry CPU ms/req "
        "| gateway CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(_row(r) for r in results),
        "",
        "| transport | added p50 ms | throughput vs direct | gateway CPU vs registry CPU |",
        "|---|---:|---:|---:|",
    ]
    for direct, through in zip(results[::2], results[1::2], strict=True):
        ratio = through.cpu_ms.get("gateway", 0) / max(1e-9, direct.cpu_ms.get("registry", 0))
        lines.append(
            f"| {through.target.removeprefix('gateway (').rstrip(')')} "
            f"| {through.p50_ms - direct.p50_ms:.2f} | {through.rps / max(direct.rps, 1e-9):.0%} "
            f"| {ratio:.2f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
