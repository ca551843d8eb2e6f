"""(d) Sweep throughput with --jobs 1, 4, 8 (issue 8): trials per minute, and the ratio to --jobs 1.

Runs the same small mnist-mlp sweep (widths × dropouts × seeds, a few epochs) once per value
of --jobs, each into a fresh result cache, through ``python -m ibcore run`` so that the worker
processes are spawned as in real use. Usage on a GPU box:
``IBCORE_DATA=... python benchmarks/sweep_throughput.py --jobs 1 4 8``; on a 2-core CPU ``--jobs 1 2``.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from ibcore.cache import device_name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--widths", default="[256,1024]")
    parser.add_argument("--seeds", default="[0,1]")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    settings = ["--set", f"widths={args.widths}", "--set", f"seeds={args.seeds}", "--set",
                f"epochs={args.epochs}", "--set", "lr_drops=[]", "--quiet"]
    print(f"mnist-mlp sweep: widths {args.widths} × 4 dropouts × seeds {args.seeds}, {args.epochs} epochs · "
          f"{device_name()}")
    base = None
    for jobs in args.jobs:
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "IBCORE_CACHE": cache}
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "ibcore", "run", "mnist-mlp", *settings, "--jobs",
                                  str(jobs)], env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - t0
        if out.returncode != 0:
            raise SystemExit(out.stdout + out.stderr)
        trials = int(out.stdout.split(" trials")[0].rsplit(" ", 1)[-1])
        rate = 60 * trials / seconds
        base = base or rate
        print(f"--jobs {jobs:>2}: {trials} trials in {seconds:7.1f} s = {rate:6.1f} trials/min "
              f"({rate / base:.2f}× --jobs {args.jobs[0]})")


if __name__ == "__main__":
    main()
