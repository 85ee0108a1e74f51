"""The ``inkgen`` command line: parameter profiles and checks for people and scripts."""

from __future__ import annotations

import argparse
import sys

from inkgen import config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inkgen", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check-params", help="validate params.yaml and exit")
    check.add_argument("--params", default=None, help="params file (default: nearest params.yaml)")

    profile = sub.add_parser("profile", help="rewrite params.yaml with a profile's values (smoke, paper, ...)")
    profile.add_argument("name")
    profile.add_argument("--params", default=None, help="params file (default: nearest params.yaml)")

    args = parser.parse_args(argv)
    try:
        path = args.params or config.find_params()
        if args.command == "check-params":
            params = config.load(path)
            print(f"{path}: valid (profiles: {', '.join(params.profiles) or 'none'})")
        elif args.command == "profile":
            config.apply_profile(path, args.name)
            print(f"{path}: profile {args.name!r} applied; `dvc repro` re-runs what it changed")
    except (config.ParamsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
