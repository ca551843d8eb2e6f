"""Command line: ``python -m ibcore list | run | run-all | show | verify``.

``run NAME`` executes an experiment's grid as a sweep of cached trials: ``--jobs N`` runs N at once
(processes, spread over the visible GPUs), ``--executor slurm`` submits one job array through
submitit. ``run-all --profile P`` runs every experiment's trials as one queue in the order of value
and writes each result as it finishes. Rerunning the same command resumes what was interrupted.
``show NAME`` prints a committed result; ``verify NAME`` re-checks one against today's code.
Missing data ends any command with its message on one line and exit code 2.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from ibcore import experiments, sweep
from ibcore.cache import readable_device
from ibcore.train.recipe import PRECISIONS

VERIFY_HELP = ("re-run the first trial of a committed result (best: full, gpu, cpu) for its first K epochs of "
               "the committed schedule, with today's code, the result's config and the thread count it records, "
               "and compare the per-epoch histories. Tolerances: losses and KL terms relative 1 %, error rates "
               "absolute 0.003, lr relative 1e-9. The same code and threads on one machine give identical "
               "numbers; another thread count or CPU rounds otherwise, which one epoch of SGD grows to "
               "~0.4 % of the loss and <= 0.001 of an error rate (measured on mnist-mlp); another seed moves "
               "the first epoch's test error by ~0.01. Nothing is written. Exit 1 on a mismatch, 2 on an "
               "unknown name or a missing result")


def parse_setting(text: str) -> tuple[str, object]:
    """``key=value`` → (key, value); the value is read as JSON when it parses (numbers, lists)."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def _names(values: Sequence[str]) -> list[str]:
    """``--only a,b c`` → [a, b, c]."""
    return [name for value in values for name in value.split(",") if name]


def _print_result(result: dict) -> None:
    data = result["data"]
    prov = result.get("provenance", {})
    print(f"{result['name']} · {result['profile']} profile · {data['dataset']}: "
          f"{data['n_train']:,} train / {data['n_test']:,} test images · "
          f"{result['seconds']:.1f} s · {readable_device(prov.get('device', '?'))} · cache key {result['key']}")
    print(table_text(experiments.summary_table(result)))


def table_text(table) -> str:
    """A result table as text with "–" for a missing value, not ``NaN``: the spread of one seed, or a
    setting a row has not (pixelcnn's β of a Gaussian row); a line under it names the sd columns that hold one seed."""
    one_seed = [str(c) for c in table.columns if str(c).endswith("sd") and table[c].isna().any()]
    note = f"\n– in {', '.join(one_seed)}: one seed, no spread" if one_seed else ""
    return table.to_string(na_rep="–") + note


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ibcore", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the experiments, what they reproduce and their profiles")
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

    every = sub.add_parser("run-all", help="every experiment's trials as one queue, in the order of value")
    every.add_argument("--profile", required=True, choices=experiments.PROFILES)
    every.add_argument("--jobs", type=int, default=None, help="trials at once (default: 8 per GPU, else one per core)")
    every.add_argument("--only", nargs="+", default=[], metavar="NAME", help="these experiments (names or a,b,c)")
    every.add_argument("--dry-run", action="store_true", help="print the queue and the estimate; run nothing")
    every.add_argument("--output-dir", type=Path, help="also write each result as DIR/NAME-PROFILE.json")
    every.add_argument("--quiet", action="store_true", help="no progress bar")

    show = sub.add_parser("show", help="print a committed result's table and provenance")
    show.add_argument("name")
    show.add_argument("--profile", choices=experiments.PROFILES, help="this profile's result (default: the best)")
    show.add_argument("--results", type=Path, help="the folder of result files (default: the committed ones)")

    check = sub.add_parser("verify", help="check a committed result against today's code", description=VERIFY_HELP)
    check.add_argument("name")
    check.add_argument("--epochs", type=int, default=1, help="compare the first K epochs (default 1)")
    check.add_argument("--results", type=Path, help="the folder of result files (default: the committed ones)")
    for command in sub.choices.values():  # an error about a command's arguments prints its usage line
        command.set_defaults(parser=command)
    return parser


def _list() -> int:
    for name in experiments.names():
        exp = experiments.get(name)
        profiles = [p for p in experiments.PROFILES if p in exp.profiles]
        print(f"{name:24s} {exp.reproduces}  [profiles: {', '.join(profiles)}]")
    return 0


def _run(args: argparse.Namespace) -> int:
    settings = dict(args.settings)
    if args.precision:
        settings["precision"] = args.precision
    if args.compile:
        settings["compile"] = True
    jobs = args.jobs if args.jobs is not None else (1 if args.executor == "local" else 1024)
    options = sweep.SlurmOptions(partition=args.partition, time_min=args.time_min,
                                 gpus_per_trial=args.gpus_per_trial, cpus_per_trial=args.cpus_per_trial)
    result = experiments.run(args.name, args.profile, use_cache=not args.no_cache, progress=not args.quiet,
                             jobs=jobs, executor=args.executor, slurm=options, **settings)
    _print_result(result)
    if args.output:
        with open(args.output, "w") as f:
            json.dump(result, f, indent=1, sort_keys=True)
    return 0


def _run_all(args: argparse.Namespace) -> int:
    from ibcore.runs import run_all as queue  # the module

    names = queue.queue_names(_names(args.only) or None)
    jobs = args.jobs if args.jobs is not None else queue.default_jobs(args.profile, planning=args.dry_run)
    if jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {jobs}")
    if args.dry_run:
        queue.dry_run(args.profile, names, jobs)
        return 0
    outcomes = queue.run_all(args.profile, names, jobs=jobs, output_dir=args.output_dir, progress=not args.quiet)
    queue.print_summary(outcomes, args.profile)
    if any(o.no_data for o in outcomes):
        return 2
    return 0 if all(o.result is not None for o in outcomes) else 1


def _show(args: argparse.Namespace) -> int:
    from ibcore.runs.verify import source_note

    experiments.get(args.name)
    profiles = (args.profile,) if args.profile else experiments.registry.BEST_FIRST
    result = experiments.committed(args.name, profiles, args.results)
    if result is None:
        print(f"ibcore: no committed result of {args.name} ({', '.join(profiles)}) in "
              f"{args.results or experiments.RESULTS_DIR}", file=sys.stderr)
        return 2
    _print_result(result)
    prov = result.get("provenance", {})
    print(f"computed {prov.get('finished', '?')} at commit {prov.get('commit', '?')}; {source_note(result)}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from ibcore.runs.verify import VerifyError, print_report, verify

    try:
        report = verify(args.name, args.epochs, results_dir=args.results)
    except VerifyError as err:
        print(f"ibcore verify: {err}", file=sys.stderr)
        return 2
    print_report(report)
    return 0 if report.ok else 1


COMMANDS = {"list": lambda args: _list(), "run": _run, "run-all": _run_all, "show": _show, "verify": _verify}


def main(argv: Sequence[str] | None = None) -> int:
    from ibcore.data.root import CorruptDataError, DataNotFoundError

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (DataNotFoundError, CorruptDataError) as err:
        print(f"ibcore: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    except ValueError as err:  # unknown names, settings, profiles: nothing has run
        args.parser.error(str(err))  # the command's usage line, exit 2


if __name__ == "__main__":
    sys.exit(main())
