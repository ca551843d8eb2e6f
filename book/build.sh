#!/usr/bin/env bash
# Build the book into _build/html: execute every chapter (quick profile unless IBCORE_PROFILE says
# otherwise), treat every Sphinx warning as an error, fail on any cell error, and print the total
# wall time and each notebook's execution time.
#
#   bash book/build.sh                   # the book as listed in _toc.yml
#   bash book/build.sh --toc /tmp/t.yml  # extra arguments go to `jupyter-book build`
set -euo pipefail
cd "$(dirname "$0")/.."

export IBCORE_PROFILE="${IBCORE_PROFILE:-quick}"
# The chapters' kernels compute on one CPU thread unless told otherwise: torch's default (a thread per
# core) waits at every operator for a core that something else keeps busy (README, "Threads").
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export PYDEVD_DISABLE_FILE_VALIDATION=1  # silence debugpy's frozen-modules notice in kernels
start=$(date +%s.%N)

# -W: warnings are errors; -n: nitpicky (broken references warn); --keep-going: report them all;
# --all: rebuild every page, so no warning hides in a page that was not rewritten.
rm -rf _build/html _build/failed-notebooks.txt  # no stale pages from chapters that left the toc
status=0
jupyter-book build . --builder html --all -W -n --keep-going "$@" || status=$?

wall=$(python -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")

# Execution times as myst-nb recorded them in the Sphinx environment.
python - <<'PY' || status=1
import pickle
from pathlib import Path

env_file = Path("_build/.doctrees/environment.pickle")
if not env_file.exists():
    print("no Sphinx environment (_build/.doctrees): no execution times to report")
    raise SystemExit(0)
env = pickle.loads(env_file.read_bytes())
rows = [(doc, data["exec_data"]) for doc, data in sorted(getattr(env, "nb_metadata", {}).items())
        if data.get("exec_data")]
print("notebook execution times (myst-nb):")
for doc, ex in rows:
    ok = "ok" if ex.get("succeeded") else f"FAILED ({ex.get('error')})"
    print(f"  {ex.get('runtime') or 0:8.1f} s  {doc}  [{ex.get('method')}, {ok}]")
print(f"  {sum(ex.get('runtime') or 0 for _, ex in rows):8.1f} s  total over {len(rows)} notebooks")
failed = [(doc, str(ex.get("error"))) for doc, ex in rows if not ex.get("succeeded")]
why = {"CellTimeoutError": "a cell ran past execute.timeout in _config.yml (a busy CPU? see README, 'threads')",
       "CellExecutionError": "a cell raised an exception (its traceback is above)"}
lines = [f"{doc}: {error}" + (f" ({why[error]})" if error in why else "") for doc, error in failed]
Path("_build/failed-notebooks.txt").write_text("".join(f"{line}\n" for line in lines))
raise SystemExit(0 if not failed else 1)
PY

echo "book build: ${wall} s wall time (profile ${IBCORE_PROFILE}), exit status ${status}"
if [ "$status" -ne 0 ]; then
  if [ -s _build/failed-notebooks.txt ]; then
    echo "book build FAILED: these chapters did not execute:" >&2
    sed 's/^/  /' _build/failed-notebooks.txt >&2
  else
    echo "book build FAILED: every chapter executed; Sphinx reported warnings, which this build treats as errors (above)" >&2
  fi
fi
exit "$status"
