"""``kkb zscores IN.csv -o OUT.csv``: WHO z-scores for a file of any size, offline.

The same columns as ``POST /v1/growth/zscores`` (services/registry/growth/csv_io.py);
streams in chunks, so memory stays flat; progress goes to stderr.
"""

import argparse
import sys
import time


def register_growth_commands(sub: argparse._SubParsersAction) -> None:
    zscores = sub.add_parser(
        "zscores",
        help="add WHO 2006 z-scores, flags and classes to a CSV of child measurements",
    )
    zscores.add_argument("input", metavar="IN.csv")
    zscores.add_argument("-o", "--output", required=True, metavar="OUT.csv")
    zscores.add_argument("--lang", choices=("id", "en"), default="id", help="error messages")
    zscores.add_argument("--decimals", type=int, default=2, help="z-score decimals")
    zscores.add_argument("--quiet", action="store_true", help="no progress on stderr")
    zscores.set_defaults(func=cmd_zscores)


def cmd_zscores(args: argparse.Namespace) -> int:
    # Imported here: numpy and the WHO tables are not needed by the other commands.
    from services.registry.growth.csv_io import CsvFormatError, convert_csv

    started = time.monotonic()

    def progress(rows: int, errors: int) -> None:
        elapsed = time.monotonic() - started
        print(f"\r{rows:,} rows ({errors:,} with errors), {elapsed:.1f}s", end="", file=sys.stderr)

    try:
        summary = convert_csv(
            args.input,
            args.output,
            lang=args.lang,
            decimals=args.decimals,
            progress=None if args.quiet else progress,
        )
    except CsvFormatError as exc:
        print(f"kkb zscores: {exc.code}: {exc.message[args.lang]}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"kkb zscores: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(file=sys.stderr)
    print(
        f"{summary.rows:,} rows written to {args.output}; "
        f"{summary.rows_with_errors:,} with errors ({time.monotonic() - started:.1f}s)",
        file=sys.stderr,
    )
    return 0
