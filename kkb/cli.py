"""``kkb``: every operator task from the command line."""

import argparse
import asyncio
import os
import signal
import sys
import time

from kkb import database
from kkb.database import DEFAULT_DATA_DIR, Server


def prepare(server: Server, db_name: str, *, demo: bool) -> str:
    """Database, roles, schemas, migrations and reference data; returns the admin db URL."""
    from kkb.bootstrap import load_demo, load_reference_data
    from kkb.migrate import upgrade_all

    db_url = database.with_database(server.admin_url, db_name)
    asyncio.run(database.create_database(server.admin_url, db_name))
    asyncio.run(database.provision(db_url))
    upgrade_all(db_url)
    asyncio.run(load_reference_data(db_url))
    if demo:
        asyncio.run(load_demo(db_url))
    return db_url


def cmd_run(args: argparse.Namespace) -> int:
    from kkb.stack import Stack

    started = time.monotonic()
    server = database.start_server(DEFAULT_DATA_DIR)
    stack: Stack | None = None
    stopping = False

    def on_signal(signum, frame) -> None:  # noqa: ARG001
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    # SIGINT too: a shell starting ``make run`` in the background hands it down ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    parent = os.getppid()
    try:
        db_url = prepare(server, args.db or database.default_db_name(), demo=not args.no_demo)
        stack = Stack(db_url, log_dir=str(DEFAULT_DATA_DIR / "logs"))
        stack.start()
        stack.wait_ready(timeout_s=60)
        print_banner(stack, time.monotonic() - started)
        while True:
            if os.getppid() != parent:
                # ``make`` was killed without passing the signal on: stop with it.
                raise KeyboardInterrupt
            for name, proc in stack.processes.items():
                if proc.poll() is not None:
                    print(
                        f"{name} stopped unexpectedly (exit {proc.returncode}); see "
                        f"{DEFAULT_DATA_DIR / 'logs' / (name + '.log')}",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping…", file=sys.stderr)
        return 0
    finally:
        if stack is not None:
            stack.stop()
        server.stop()


def print_banner(stack, elapsed: float) -> None:
    from kkb.bootstrap import DEMO_USERS

    print(f"\nKampung KB backend ready in {elapsed:.1f}s\n")
    print(f"  gateway (public)   {stack.url('gateway')}   docs: {stack.url('gateway')}/docs")
    for name in ("registry", "interventions", "reporting"):
        print(f"  {name:<18} {stack.url(name)}   (internal; call through the gateway)")
    if DEMO_USERS:
        print("\nDemo logins (POST /v1/auth/token, grant_type=password):")
        for user in DEMO_USERS:
            print(f"  {user.username:<22} {user.password:<18} {user.role:<18} {user.scope}")
    print("\nCtrl-C stops everything.\n", flush=True)


def cmd_setup(args: argparse.Namespace) -> int:
    server = database.start_server(DEFAULT_DATA_DIR)
    try:
        db_url = prepare(server, args.db or database.default_db_name(), demo=not args.no_demo)
        print(f"database ready: {database.database_of(db_url)}")
    finally:
        server.stop()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from kkb.migrate import downgrade, upgrade_all

    server = database.start_server(DEFAULT_DATA_DIR)
    try:
        db_url = database.with_database(server.admin_url, args.db or database.default_db_name())
        if args.direction == "up":
            upgrade_all(db_url, args.revision or "head")
        else:
            downgrade(args.schema, db_url, args.revision or "base")
    finally:
        server.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kkb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="set up the database and start every app")
    run.add_argument("--db", help="database name (default: from DATABASE_URL, or kkb)")
    run.add_argument("--no-demo", action="store_true", help="skip the synthetic demo data")
    run.set_defaults(func=cmd_run)

    setup = sub.add_parser("setup", help="database, roles, schemas, migrations, reference data")
    setup.add_argument("--db")
    setup.add_argument("--no-demo", action="store_true")
    setup.set_defaults(func=cmd_setup)

    migrate = sub.add_parser("migrate", help="run migrations")
    migrate.add_argument("direction", choices=["up", "down"])
    migrate.add_argument("--schema", default="registry")
    migrate.add_argument("--revision")
    migrate.add_argument("--db")
    migrate.set_defaults(func=cmd_migrate)

    from kkb.commands import register_commands

    register_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
