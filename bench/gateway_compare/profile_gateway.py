"""Where the gateway spends its CPU per forwarded request: the gateway app runs in a
thread of this process under cProfile (per-thread CPU clock, so a busy machine does not
inflate it) while ``wrk`` drives ``GET /v1/regions/61.04.16.2007`` through it.

    .venv/bin/python bench/gateway_compare/profile_gateway.py [--duration 10]
        [--transport aiohttp] [--upstream trivial|registry] [--top 35]

``--upstream trivial`` (default) forwards to ``upstream.py``, a raw ASGI app answering
at once, so the profile is the gateway's alone; ``registry`` uses the real service.
"""

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench._harness import free_port, scratch_database  # noqa: E402
from bench.bench_gateway import PATH, load_python, load_wrk  # noqa: E402
from gateway.cli import add_user  # noqa: E402
from kkb.database import service_url  # noqa: E402
from kkb.stack import Stack  # noqa: E402


def wait_ready(url: str) -> None:
    while True:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--transport", default="aiohttp")
    parser.add_argument("--upstream", choices=("trivial", "registry"), default="trivial")
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    load = load_wrk if shutil.which("wrk") else load_python

    with scratch_database("gwprof", regions=args.upstream == "registry") as db_url:
        registry = Stack(
            db_url, ports={"registry": free_port()}, extra_env={"KKB_LOG_LEVEL": "WARNING"}
        )
        trivial: subprocess.Popen | None = None
        if args.upstream == "registry":
            registry.start(only=("registry",))
            registry.wait_ready(only=("registry",))
            upstream_url = registry.url("registry")
        else:
            port = free_port()
            trivial = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "bench.gateway_compare.upstream:create_app",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                cwd=ROOT,
            )
            upstream_url = f"http://127.0.0.1:{port}"
            wait_ready(upstream_url + "/openapi.json")
        try:
            port = free_port()
            os.environ.update(
                {
                    "GATEWAY_DATABASE_URL": service_url(db_url, "gateway"),
                    "GATEWAY_REGISTRY_URL": upstream_url,
                    "GATEWAY_PROXY_TRANSPORT": args.transport,
                    "GATEWAY_RATE_LIMIT_PER_S": "1000000",
                    "GATEWAY_RATE_LIMIT_BURST": "1000000",
                    "GATEWAY_WEBHOOK_ENABLED": "false",
                    "KKB_LOG_LEVEL": "WARNING",
                }
            )
            from gateway.main import create_app

            server = uvicorn.Server(
                uvicorn.Config(
                    create_app(),
                    host="127.0.0.1",
                    port=port,
                    log_level="warning",
                    access_log=False,
                    loop="uvloop",
                    http="httptools",
                )
            )
            profiler = cProfile.Profile(time.thread_time)
            enabled = threading.Event()

            def serve() -> None:
                async def run() -> None:
                    task = asyncio.create_task(server.serve())
                    await asyncio.to_thread(enabled.wait)
                    profiler.enable()
                    await task
                    profiler.disable()

                asyncio.run(run())

            thread = threading.Thread(target=serve)
            thread.start()
            base = f"http://127.0.0.1:{port}"
            wait_ready(base + "/readyz")
            asyncio.run(
                add_user(
                    service_url(db_url, "gateway"),
                    "prof.analyst",
                    "prof-password-1",
                    "analyst",
                    "61",
                    None,
                    None,
                )
            )
            token = httpx.post(
                base + "/v1/auth/token",
                data={
                    "grant_type": "password",
                    "username": "prof.analyst",
                    "password": "prof-password-1",
                },
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            load("warm-up", base + PATH, headers, args.connections, 2)
            cpu_before = time.process_time()
            enabled.set()
            result = load("gateway", base + PATH, headers, args.connections, args.duration)
            server.should_exit = True
            thread.join()
            cpu = time.process_time() - cpu_before
        finally:
            registry.stop()
            if trivial is not None:
                trivial.terminate()
                trivial.wait()
    print(result)
    print(
        f"gateway process CPU per request (profiled, so inflated): "
        f"{1000 * cpu / max(1, result.requests):.3f} ms"
    )
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
