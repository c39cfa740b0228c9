#!/usr/bin/env bash
# Every benchmark of bench/RESULTS.md, one after another (never in parallel: on two cores
# they would time each other). Logs go to bench/out/<name>.log; each prints JSON lines.
#   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres bench/run_all.sh [name ...]
set -u
cd "$(dirname "$0")/.."
mkdir -p bench/out
all=(zscores feed make_run registry household_get growth_upload interventions reporting gateway webhooks
     dukcapil export seed_generate)
for name in "${@:-${all[@]}}"; do
    echo "== $name $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
    start=$(date +%s)
    .venv/bin/python -m "bench.bench_$name" >"bench/out/$name.log" 2>&1
    echo "   exit $? after $(( $(date +%s) - start )) s -> bench/out/$name.log"
done
