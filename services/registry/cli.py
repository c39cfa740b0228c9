"""Registry operator commands: ``kkb seed --regency 61.04 --households N`` and
``kkb krs reassess [--regency CODE] [--as-of DATE]`` (daily job)."""

import argparse
import asyncio
import os
import sys
from datetime import date

from kkb import database
from kkb.bootstrap import as_service
from kkb.database import DEFAULT_DATA_DIR


def register_registry_commands(sub: argparse._SubParsersAction) -> None:
    seed = sub.add_parser("seed", help="load a synthetic population into the registry (bulk path)")
    seed.add_argument("--regency", default="61.04", help="dotted regency code, e.g. 61.04")
    seed.add_argument("--households", type=int, default=2000)
    seed.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    seed.add_argument("--db", help="database name (default: from DATABASE_URL, or kkb)")
    seed.set_defaults(func=cmd_seed)

    krs = sub.add_parser("krs", help="family stunting risk (KRS) tasks")
    krs_sub = krs.add_subparsers(dest="krs_command", required=True)
    reassess = krs_sub.add_parser(
        "reassess",
        help="reassess every active household as of a date (run daily: ages and life-event "
        "windows move with the calendar); publishes krs.assessed where the result changed",
    )
    reassess.add_argument("--regency", help="dotted regency code, e.g. 61.04 (default: all)")
    reassess.add_argument(
        "--as-of", type=_iso_date, help="YYYY-MM-DD, not after today (default: today, WIB)"
    )
    reassess.add_argument("--db", help="database name (default: from DATABASE_URL, or kkb)")
    reassess.set_defaults(func=cmd_krs_reassess)


async def _seed(db_url: str, regency: str, households: int, seed: int) -> None:
    from services.registry.seed.loader import seed_regency

    async with as_service(db_url, "registry") as conn:
        result = await seed_regency(conn, regency, households, seed=seed)
    print(
        f"seeded {result.households} households, {result.persons} persons, "
        f"{result.life_events} life events in {result.regency_code}: "
        f"{result.krs_families} KRS of {result.target_families} target families; "
        f"{result.events} feed events; {result.seconds['total']:.1f}s"
    )


def cmd_seed(args: argparse.Namespace) -> int:
    from services.registry.seed.loader import SeedConflict

    url = os.environ.get("DATABASE_URL")
    name = args.db or (database.database_of(url) if url else "kkb")
    server = database.start_server(DEFAULT_DATA_DIR)
    try:
        db_url = database.with_database(server.admin_url, name)
        asyncio.run(_seed(db_url, args.regency, args.households, args.seed))
    except (SeedConflict, ValueError) as exc:
        print(f"seed refused: {exc}")
        return 1
    finally:
        server.stop()
    return 0


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (expected YYYY-MM-DD)") from None


async def _reassess(db_url: str, regency: str | None, as_of: date) -> str:
    from services.registry.risk.bulk import UnknownRegion, reassess_region, region_level

    async with as_service(db_url, "registry") as conn:
        if regency is not None:
            level = await region_level(conn, regency)
            if level is None:
                raise UnknownRegion(f"no regency {regency!r} in the region list")
            if level != "regency":
                raise UnknownRegion(f"{regency} is a {level}, not a regency")
        result = await reassess_region(conn, as_of, regency)
    return (
        f"reassessed {result.households} households of {regency or 'every regency'}"
        f" as of {result.as_of} (rule set {result.rule_set}): {result.changed} changed and"
        f" published; {result.krs_families} KRS of {result.target_families} target families;"
        f" {sum(result.seconds.values()):.1f}s"
    )


def cmd_krs_reassess(args: argparse.Namespace) -> int:
    from common.clock import today

    on = today()
    as_of = args.as_of or on
    if as_of > on:
        print(f"krs reassess refused: {as_of} is in the future (today is {on})", file=sys.stderr)
        return 1
    url = os.environ.get("DATABASE_URL")
    name = args.db or (database.database_of(url) if url else "kkb")
    server = database.start_server(DEFAULT_DATA_DIR)
    try:
        db_url = database.with_database(server.admin_url, name)
        print(asyncio.run(_reassess(db_url, args.regency, as_of)))
    except (LookupError, ValueError) as exc:
        # UnknownRegion, or a date no KRS rule set covers.
        print(f"krs reassess refused: {exc}", file=sys.stderr)
        return 1
    finally:
        server.stop()
    return 0
