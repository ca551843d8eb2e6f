"""Command line: ``python -m ibcore list | run NAME [--profile P] [--set key=value …] | show NAME``."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from ibcore import experiments


def parse_setting(text: str) -> tuple[str, object]:
    """``key=value`` → (key, value); the value is read as JSON when it parses (numbers, lists)."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def _print_result(result: dict) -> None:
    data = result["data"]
    print(f"{result['name']} · {result['profile']} profile · {data['dataset']}: "
          f"{data['n_train']:,} train / {data['n_test']:,} test images · "
          f"{result['seconds']:.1f} s · cache key {result['key']}")
    print(experiments.summary_table(result).to_string())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ibcore", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the experiments and what they reproduce")
    run = sub.add_parser("run", help="run an experiment (or load it from the cache) and print its table")
    run.add_argument("name")
    run.add_argument("--profile", default="quick", choices=experiments.PROFILES)
    run.add_argument("--set", dest="settings", action="append", default=[], type=parse_setting,
                     metavar="KEY=VALUE", help="override a setting of the profile (repeatable)")
    run.add_argument("--no-cache", action="store_true", help="recompute even if a cached result exists")
    run.add_argument("--output", help="also write the result JSON to this file")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    if args.command == "list":
        for name in experiments.names():
            exp = experiments.get(name)
            print(f"{name:24s} {exp.reproduces}  [profiles: {', '.join(exp.profiles)}]")
        return 0
    try:
        result = experiments.run(args.name, args.profile, use_cache=not args.no_cache,
                                 progress=not args.quiet, **dict(args.settings))
    except ValueError as err:
        parser.error(str(err))
    _print_result(result)
    if args.output:
        with open(args.output, "w") as f:
            json.dump(result, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
