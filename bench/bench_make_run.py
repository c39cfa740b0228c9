"""`make run` from an installed .venv to all apps ready (target under 10 s), then Ctrl-C
and check that nothing is left running.

    .venv/bin/python bench/bench_make_run.py [--runs 3]

Uses DATABASE_URL when set (a throw-away database on that server), else the embedded
PostgreSQL in .data/.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

from bench._harness import machine

READY = re.compile(r"ready in ([0-9.]+)s")


def one_run(env: dict[str, str]) -> dict:
    start = time.perf_counter()
    proc = subprocess.Popen(["make", "run"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, text=True, start_new_session=True)
    reported = None
    assert proc.stdout is not None
    for line in proc.stdout:
        match = READY.search(line)
        if match:
            reported = float(match.group(1))
            break
    # Keep reading, or a full pipe would block the stack as it reports stopping.
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    wall = time.perf_counter() - start
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    stop_start = time.perf_counter()
    proc.wait(timeout=60)
    stopped = time.perf_counter() - stop_start
    leftovers = subprocess.run(["pgrep", "-f", "uvicorn --factory .*--port 800[0-3]"],
                               capture_output=True, text=True).stdout.split()
    return {"ready_s": reported, "wall_to_ready_s": round(wall, 2),
            "stop_s": round(stopped, 2), "left_running": len(leftovers)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = dict(os.environ)
    if env.get("DATABASE_URL"):
        env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + "/kkb_bench_run"
    runs = [one_run(env) for _ in range(args.runs)]
    print(json.dumps({"machine": machine(), "runs": runs}, indent=2))
    sys.exit(1 if any(r["left_running"] for r in runs) else 0)


if __name__ == "__main__":
    main()
