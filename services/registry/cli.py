"""Registry operator commands: ``kkb seed --regency 61.04 --households N``."""

import argparse
import asyncio
import os

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
