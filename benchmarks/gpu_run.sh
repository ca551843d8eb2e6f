#!/usr/bin/env bash
# The prepared call for a lent H100/H200 (issue 22), at most 9 minutes: the GPU tests, the four GPU
# benchmarks (about 2 minutes), then `run-all --profile gpu` for the time left. What it writes comes back
# under $OUT, four files: gpu_run.log (everything printed), benchmarks.txt, results.tgz (results/NAME-gpu.json
# of every experiment finished so far) and cache.tgz (the trial cache without checkpoints, to resume on a
# fresh machine). A second call on the same machine resumes the queue from .gpu/cache and skips the checks
# that passed. How to carry the data and wheels: book/reproducing.md, "A GPU window".
#
#   PYTHONPATH=$PWD bash benchmarks/gpu_run.sh
#
# Environment: OUT (default .gpu/out); GPU_RUN_SECONDS (the call's budget, default 520 s);
# GPU_RUN_CHECKS (1: run the tests and benchmarks, 0: skip them; default: unless they passed before);
# IBCORE_DATA (default /tmp/data, prepared from .gpu/data); IBCORE_CACHE (default .gpu/cache).
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
budget=${GPU_RUN_SECONDS:-520}
out=${OUT:-$PWD/.gpu/out}
mkdir -p "$out" .gpu/results
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export IBCORE_DATA=${IBCORE_DATA:-/tmp/data} IBCORE_CACHE=${IBCORE_CACHE:-$PWD/.gpu/cache}

left() { echo $(( budget - ($(date +%s) - start) )); }

setup() {
  if compgen -G ".gpu/wheels/*.whl" > /dev/null; then  # packages the machine lacks, carried as wheels
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
      .gpu/wheels/*.whl && export PYTHONPATH="$PYTHONPATH:/tmp/site"
  fi
  python3 .gpu/data/prepare_offline.py "$IBCORE_DATA" || { echo "gpu_run: no data mirror in .gpu/data"; return 2; }
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  python3 -c "import torch; print('torch', torch.__version__, '· CUDA', torch.cuda.is_available())"
}

checks() {
  echo "== pytest -m gpu ($(left) s left)"
  timeout 200 python3 -m pytest -q -m gpu tests/test_gpu.py -p no:cacheprovider
  local tests=$?
  echo "== benchmarks ($(left) s left)"
  {  # at most 2 minutes in all (typically ~90 s)
    timeout 25 python3 benchmarks/fit_vs_tight_loop.py --device cuda --short
    timeout 15 python3 benchmarks/information_vs_binary_step.py --device cuda
    timeout 15 python3 benchmarks/information_vs_binary_step.py --device cuda --activation softplus
    timeout 20 python3 benchmarks/allcnn96_throughput.py --device cuda --steps 20
    timeout 45 python3 benchmarks/sweep_throughput.py --jobs 1 8 --widths '[1024]' --seeds '[0,1]' --epochs 2
  } 2>&1 | tee "$out/benchmarks.txt"
  if [ "$tests" = 0 ]; then mkdir -p "$IBCORE_CACHE" && touch "$IBCORE_CACHE/gpu-checks-passed"; fi
}

queue() {
  local seconds=$(( $(left) - 30 ))  # leave time to pack what finished
  echo "== run-all --profile gpu for ${seconds} s"
  if [ "$seconds" -lt 60 ]; then echo "gpu_run: too little time left for run-all"; return 0; fi
  timeout --signal=TERM --kill-after=15 "$seconds" \
    python3 -m ibcore run-all --profile gpu --output-dir .gpu/results
}

pack() {
  tar -czf "$out/results.tgz" -C .gpu results
  if [ -d "$IBCORE_CACHE" ]; then
    tar -czf "$out/cache.tgz" -C "$IBCORE_CACHE" --exclude=./checkpoints --exclude='*.lock' .
  fi
  ls -l "$out"
}

main() {
  setup || return $?
  case "${GPU_RUN_CHECKS:-auto}" in
    1) checks ;;
    auto) [ -e "$IBCORE_CACHE/gpu-checks-passed" ] && echo "== checks passed before: skipped" || checks ;;
  esac
  queue
  local status=$?
  pack
  echo "gpu_run: $(( $(date +%s) - start )) s (run-all exit $status)"
}

main 2>&1 | tee -a "$out/gpu_run.log"
