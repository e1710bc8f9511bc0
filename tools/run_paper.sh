#!/usr/bin/env bash
# The paper-profile runs: four workers, one torch thread each, resumable
# (re-running skips finished shards and resumes interrupted ones from last.ckpt).
# Usage (from the repository root): RDMF_DATA_ROOT=../shared/data bash tools/run_paper.sh
# The per-worker logs with timestamps go to reports/paper/logs/.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
LOG=reports/paper/logs
mkdir -p "$LOG"
run() { echo "# $(date -u +%FT%TZ) rdmf experiments run --profile paper $*"; /usr/bin/time -f "# wall %e s" python -m rdmf experiments run --profile paper "$@"; }
( run --group synthetic_short; run --group synthetic --part 0/3 ) >> "$LOG/worker1.log" 2>&1 &
# TVSum: the standard split of every domain first (published + honest fixed-epoch rows), then the
# leave-one-video-out folds domain by domain (so that a partial run completes whole domains)
( run --group tvsum --shard '*_std_*'
  for d in VT VU GA MS PK PR FM BK BT DS; do run --group tvsum --shard "tvsum_${d}_*"; done
) >> "$LOG/worker2.log" 2>&1 &
( run --group ablations; run --group synthetic --part 1/3 ) >> "$LOG/worker3.log" 2>&1 &
( run --group robustness; run --group youtube; run --group synthetic --part 2/3 ) >> "$LOG/worker4.log" 2>&1 &
wait
# the benchmark (synthetic v5, size bench): the grid of every model, then every model at its
# selected grid point over the seeds (a model enters once its whole grid is done)
( run --group bench_grid --part 0/2; run --group bench --part 0/2 ) >> "$LOG/bench1.log" 2>&1 &
( run --group bench_grid --part 1/2; run --group bench --part 1/2 ) >> "$LOG/bench2.log" 2>&1 &
wait
