"""Command line: ``python -m ibcore list | run NAME [--profile P] [--set key=value …] [--jobs N]``.

``run`` executes an experiment's grid as a sweep of cached trials: ``--jobs N`` runs N at once
(processes, spread over the visible GPUs), ``--executor slurm`` submits one job array through
submitit. Rerunning the same command resumes a sweep that was interrupted.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from ibcore import experiments, sweep
from ibcore.train.recipe import PRECISIONS


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
    prov = result.get("provenance", {})
    print(f"{result['name']} · {result['profile']} profile · {data['dataset']}: "
          f"{data['n_train']:,} train / {data['n_test']:,} test images · "
          f"{result['seconds']:.1f} s · {prov.get('device', '?')} · cache key {result['key']}")
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
    run.add_argument("--jobs", type=int, default=None,
                     help="trials at once (default 1 locally; every trial at once on Slurm)")
    run.add_argument("--executor", default="local", choices=sweep.EXECUTORS,
                     help="local processes, a Slurm job array, or submitit's local executor")
    run.add_argument("--precision", choices=PRECISIONS, help="same as --set precision=…")
    run.add_argument("--compile", action="store_true", help="train through torch.compile (--set compile=true)")
    slurm = run.add_argument_group("Slurm (with --executor slurm)")
    slurm.add_argument("--partition")
    slurm.add_argument("--time-min", type=int, default=240, help="time limit per trial, minutes")
    slurm.add_argument("--gpus-per-trial", type=int, default=1)
    slurm.add_argument("--cpus-per-trial", type=int, default=4)
    args = parser.parse_args(argv)

    if args.command == "list":
        for name in experiments.names():
            exp = experiments.get(name)
            print(f"{name:24s} {exp.reproduces}  [profiles: {', '.join(exp.profiles)}]")
        return 0
    settings = dict(args.settings)
    if args.precision:
        settings["precision"] = args.precision
    if args.compile:
        settings["compile"] = True
    jobs = args.jobs if args.jobs is not None else (1 if args.executor == "local" else 1024)
    options = sweep.SlurmOptions(partition=args.partition, time_min=args.time_min,
                                 gpus_per_trial=args.gpus_per_trial, cpus_per_trial=args.cpus_per_trial)
    try:
        result = experiments.run(args.name, args.profile, use_cache=not args.no_cache,
                                 progress=not args.quiet, jobs=jobs, executor=args.executor,
                                 slurm=options, **settings)
    except ValueError as err:
        parser.error(str(err))
    _print_result(result)
    if args.output:
        with open(args.output, "w") as f:
            json.dump(result, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
