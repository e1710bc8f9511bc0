#!/usr/bin/env bash
# Every CUDA check of the project in one unattended run (about 6 minutes on an H100/H200).
#
#   benchmarks/gpu_check.sh [OUT_DIR] [--dry]
#
# OUT_DIR defaults to $OUT, else reports/benchmarks/gpu_check. Runs from the repository through
# PYTHONPATH (no pip install, no network). Each section writes its JSON (and a .log) into OUT_DIR
# as soon as it finishes, and summary.json is updated after every section, so a run cut short
# still returns what it measured. Sections:
#   env               env.json: GPU, driver, torch/triton versions, git commit
#   kernel_accuracy   kernel_accuracy.json: fused kernel vs float64 reference, L = 1..4096 grid
#   pytest_gpu        pytest_gpu.json: tests marked gpu (kernel dispatch/AMP + other modules')
#   bench_kernel      rd_kernel_<gpu>.json: eager / torch.compile / fused, roofline, K = 1..64
#   gpu_smoke         gpu_smoke.json: CUDA paths of numerics, dispatch, model, AMP training
#   train_step        train_step_<gpu>.json: QVHighlights-scale step, rd vs cross_attention/concat
# --dry (automatic without CUDA): the same sections on the CPU with tiny settings; GPU-only parts
# are skipped with the reason, plus the CPU interpreter tests of the kernel.
set -u -o pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DRY=0
OUTDIR=""
for arg in "$@"; do
  case "$arg" in
    --dry) DRY=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) OUTDIR="$arg" ;;
  esac
done
OUTDIR="${OUTDIR:-${OUT:-$ROOT/reports/benchmarks/gpu_check}}"
mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"
TOTAL_S="${GPU_CHECK_TOTAL_S:-380}"   # hard cap of the whole run
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
export PYTHONUNBUFFERED=1
unset TRITON_INTERPRET
PY="${PYTHON:-python}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
cd "$ROOT"
rm -f "$OUTDIR/summary.json"
START=$(date +%s)

if [ "$DRY" = 0 ] && ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "[gpu_check] no CUDA device: dry run"
  DRY=1
fi

remaining() { echo $(( TOTAL_S - ($(date +%s) - START) )); }

# section NAME LIMIT_S command...: runs with min(LIMIT_S, time left), logs, records rc and time
section() {
  local name=$1 limit=$2 left t0 rc
  shift 2
  left=$(remaining)
  if [ "$left" -lt 15 ]; then
    echo "[gpu_check] $name: skipped, run time cap reached"
    "$PY" "$HERE/gpu_check_tools.py" record "$OUTDIR" "$name" 124 0 "$DRY"
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "[gpu_check] $name (limit ${limit} s)"
  t0=$(date +%s)
  timeout -k 10 "$limit" "$@" > "$OUTDIR/$name.log" 2>&1
  rc=$?
  tail -n 5 "$OUTDIR/$name.log"
  "$PY" "$HERE/gpu_check_tools.py" record "$OUTDIR" "$name" "$rc" "$(( $(date +%s) - t0 ))" "$DRY"
}

section env 60 "$PY" "$HERE/gpu_check_tools.py" env "$OUTDIR"

if [ "$DRY" = 1 ]; then
  section kernel_accuracy 60 "$PY" -m rdmf.kernels.verify --device cuda --out "$OUTDIR/kernel_accuracy.json"
  section cpu_interpreter_tests 240 "$PY" -m pytest -q -o addopts="" -p no:cacheprovider \
    tests/test_kernel.py --junitxml "$OUTDIR/cpu_interpreter_tests.xml"
  "$PY" "$HERE/gpu_check_tools.py" junit "$OUTDIR/cpu_interpreter_tests.xml" "$OUTDIR/cpu_interpreter_tests.json"
else
  section kernel_accuracy 150 "$PY" -m rdmf.kernels.verify --device cuda --out "$OUTDIR/kernel_accuracy.json"
fi

if "$PY" -c "import pytest" 2>/dev/null; then
  # the accuracy grid already ran above (with its numbers in JSON): deselect it here
  section pytest_gpu 100 "$PY" -m pytest -q -o addopts="" -p no:cacheprovider -m gpu tests \
    --ignore tests/test_kernel.py -k "not test_fused_matches_float64_reference" \
    --continue-on-collection-errors \
    --junitxml "$OUTDIR/pytest_gpu.xml"
  "$PY" "$HERE/gpu_check_tools.py" junit "$OUTDIR/pytest_gpu.xml" "$OUTDIR/pytest_gpu.json"
else
  echo '{"skipped": "pytest not installed on this machine"}' > "$OUTDIR/pytest_gpu.json"
fi

if [ "$DRY" = 1 ]; then
  section bench_kernel 120 "$PY" "$HERE/bench_rd_kernel.py" --out-dir "$OUTDIR" --steps 1 4 \
    --no-compile --budget-s 20 --min-time-s 0.02
  section gpu_smoke 120 "$PY" "$HERE/gpu_smoke.py" --out "$OUTDIR/gpu_smoke.json" --dry
  section train_step 120 "$PY" "$HERE/bench_train_step.py" --out-dir "$OUTDIR" --budget-s 60
else
  BUDGET=$(( $(remaining) - 150 ))
  [ "$BUDGET" -gt 130 ] && BUDGET=130
  [ "$BUDGET" -lt 30 ] && BUDGET=30
  section bench_kernel $(( BUDGET + 50 )) "$PY" "$HERE/bench_rd_kernel.py" --out-dir "$OUTDIR" \
    --budget-s "$BUDGET"
  section gpu_smoke 75 "$PY" "$HERE/gpu_smoke.py" --out "$OUTDIR/gpu_smoke.json"
  section train_step 90 "$PY" "$HERE/bench_train_step.py" --out-dir "$OUTDIR" --budget-s 55
fi

echo "[gpu_check] done in $(( $(date +%s) - START )) s; results in $OUTDIR"
cat "$OUTDIR/summary.json"
