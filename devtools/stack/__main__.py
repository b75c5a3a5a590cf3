"""``python -m devtools.stack run|redis|postgres``: the launcher from the command line.

- ``run [--standby-beat]``: the whole platform for `make run` (see `devtools.stack.run`).
- ``redis [--db N]``: make sure a Redis answers (the shared one, else a private server
  left running) and print its URL; ``postgres``: the same for PostgreSQL, printing the URL
  of its maintenance database. `make test`, `make bench-*` and `make soak` use these.
"""

from __future__ import annotations

import argparse
import sys

from devtools.stack.processes import ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.stack")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="the whole platform on this machine")
    run.add_argument("--standby-beat", action="store_true", help="a second beat, waiting")
    redis = commands.add_parser("redis", help="print the URL of a Redis that answers")
    redis.add_argument("--db", type=int, default=0)
    commands.add_parser("postgres", help="print the URL of a PostgreSQL that answers")
    args = parser.parse_args(argv)

    if args.command == "run":
        from devtools.stack.run import run as run_platform

        try:
            return run_platform(standby_beat=args.standby_beat)
        except KeyboardInterrupt:
            return 0
    from devtools.stack.services import shared_or_private_postgres, shared_or_private_redis

    if args.command == "redis":
        print(shared_or_private_redis(ROOT / "var", args.db))
    else:
        print(shared_or_private_postgres(ROOT / "var"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
