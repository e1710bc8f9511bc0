#!/usr/bin/env bash
# The paper-profile runs of this session: four workers, one torch thread each, resumable
# (re-running skips finished shards and resumes interrupted ones from last.ckpt).
# Usage (from the repository root): RDMF_DATA_ROOT=../shared/data bash tools/run_paper.sh
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
LOG=reports/paper/logs
mkdir -p "$LOG"
run() { echo "# $(date -u +%FT%TZ) rdmf experiments run --profile paper $*"; /usr/bin/time -f "# wall %e s" python -m rdmf experiments run --profile paper "$@"; }
( run --group synthetic ) >> "$LOG/worker1.log" 2>&1 &
( run --group tvsum --shard '*_std_*'; run --group tvsum ) >> "$LOG/worker2.log" 2>&1 &
( run --group ablations ) >> "$LOG/worker3.log" 2>&1 &
( run --group robustness; run --group youtube ) >> "$LOG/worker4.log" 2>&1 &
wait
