"""``kkb import dukcapil FILE.csv``: import a Dukcapil regency extract from the shell.

Progress goes to stderr, the reconciliation report (counts by kind) to stdout. Running
the command again on a file whose import stopped resumes it; on a file already
imported it changes nothing (exit 0). Exit 1 when the file is not an extract.
"""

import argparse
import asyncio
import csv
import os
import sys
import time
from datetime import date
from pathlib import Path

from kkb import database
from kkb.bootstrap import as_service
from kkb.database import DEFAULT_DATA_DIR


def register_dukcapil_commands(sub: argparse._SubParsersAction) -> None:
    kinds = _import_kinds(sub)
    parser = kinds.add_parser("dukcapil", help="a Dukcapil regency extract (CSV, one row a person)")
    parser.add_argument("file", type=Path)
    parser.add_argument("--regency", help="dotted regency code (default: from the first row)")
    parser.add_argument("--extract-date", type=date.fromisoformat, help="default: today")
    parser.add_argument("--batch-rows", type=int, help="rows per transaction")
    parser.add_argument("--force", action="store_true", help="import a file imported before")
    parser.add_argument("--db", help="database name (default: from DATABASE_URL, or kkb)")
    parser.set_defaults(func=cmd_import_dukcapil)


def _import_kinds(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The ``import`` command's sub-commands, shared with other importers."""
    parser = sub.choices.get("import") or sub.add_parser("import", help="import a data file")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="import_kind", required=True)


def regency_of(path: Path) -> str | None:
    """``PP.KK`` from the first data row's NO_PROP and NO_KAB."""
    from services.registry.dukcapil.extract import read_layout

    layout = read_layout(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=layout.delimiter)
        next(reader, None)
        row = next(reader, None)
    if row is None:
        return None
    prop, kab = (row[layout.positions[c]].strip() for c in ("NO_PROP", "NO_KAB"))
    if not (prop.isdigit() and kab.isdigit()):
        return None
    return f"{int(prop):02d}.{int(kab):02d}"


def _progress(started: float):
    def show(p) -> None:
        elapsed = time.perf_counter() - started
        if p.phase == "staging":
            line = f"staging {p.import_id}…"
        elif p.phase == "reconciling":
            share = p.batches_done / p.batches_total if p.batches_total else 0
            line = (
                f"batch {p.batches_done}/{p.batches_total} ({share:.0%}), "
                f"{p.rows_total:,} rows, {p.rows_rejected:,} rejected"
            )
        else:
            line = "done"
        print(f"[{elapsed:6.1f}s] {line}", file=sys.stderr, flush=True)

    return show


async def _import(db_url: str, args: argparse.Namespace, regency: str) -> int:
    from common.clock import today
    from common.settings import CommonSettings
    from services.registry.dukcapil.importer import ImportFailed, prepare_import, run_import
    from services.registry.settings import RegistrySettings

    settings = RegistrySettings()
    started = time.perf_counter()
    async with as_service(db_url, "registry") as conn:
        job, already = await prepare_import(
            conn,
            args.file,
            regency_code=regency,
            file_name=args.file.name,
            source="cli",
            requested_by=f"cli:{os.environ.get('USER', 'operator')}",
            extract_date=args.extract_date or today(),
            force=args.force,
        )
        if already:
            print(
                f"{args.file} was imported already (import {job['id']}): nothing changed.",
                file=sys.stderr,
            )
            _report(job)
            return 0
        try:
            job = await run_import(
                conn,
                job["id"],
                args.file,
                batch_rows=args.batch_rows or settings.dukcapil_import_batch_rows,
                auto_apply_exits=settings.dukcapil_auto_apply_exits,
                hash_key=CommonSettings().hash_key.encode(),
                today=today(),
                progress=_progress(started),
            )
        except ImportFailed as exc:
            print(f"import refused ({exc.code}): {exc.message['en']}", file=sys.stderr)
            return 1
    _report(job)
    return 0


def _report(job: dict) -> None:
    print(
        f"import {job['id']} {job['status']}: {job['rows_total']} rows, regency "
        f"{job['regency_code']}"
    )
    for kind, count in sorted((job["counts"] or {}).items()):
        print(f"  {kind:<22} {count:>10,}")


def cmd_import_dukcapil(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 1
    from services.registry.dukcapil.extract import ExtractFormatError

    try:
        regency = args.regency or regency_of(args.file)
    except ExtractFormatError as exc:
        print(f"import refused ({exc.code}): {exc.message['en']}", file=sys.stderr)
        return 1
    if regency is None:
        print("cannot tell the regency from the file; pass --regency", file=sys.stderr)
        return 1
    url = os.environ.get("DATABASE_URL")
    name = args.db or (database.database_of(url) if url else "kkb")
    server = database.start_server(DEFAULT_DATA_DIR)
    try:
        return asyncio.run(_import(database.with_database(server.admin_url, name), args, regency))
    finally:
        server.stop()
