"""Batched runs vs one-by-one runs: R small TVSum runs timed side by side in one process.

R = the 5 leave-one-video-out folds of one TVSum domain (std, loo0..loo3) × seeds, one config
(the ``tvsum`` preset at width 64 unless changed). One-by-one: :func:`rdmf.train.train` per run,
in this process (so without the start-up of a fresh process per run, which is measured apart:
``process_startup_s``, the seconds of ``python -c "import rdmf.train"``). Batched: one
:func:`rdmf.train.batched.train_batched` of the same R runs. Writes
``reports/benchmarks/batched_runs.json``.

    RDMF_DATA_ROOT=../shared/data PYTHONPATH=$PWD python benchmarks/bench_batched.py \\
        [--domain BK] [--seeds 0 1 2] [--epochs 20] [--hidden 64] [--fusion cross_attention]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

import torch

from rdmf.experiments.perf import machine
from rdmf.experiments.runner import tvsum_fold
from rdmf.paths import repo_root
from rdmf.reports import write_report_json
from rdmf.train import preset, train
from rdmf.train.batched import BatchedRun, train_batched

FOLDS = ("std", "loo0", "loo1", "loo2", "loo3")


def process_startup_s() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import rdmf.train"], check=True, cwd=repo_root())
    return time.perf_counter() - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", default="BK")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--fusion", default="cross_attention")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(repo_root() / "reports" / "benchmarks" /
                                             "batched_runs.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    config = preset("tvsum", {"model.hidden": args.hidden, "model.heads": 4,
                              "model.ffn_dim": 4 * args.hidden, "model.fusion": args.fusion,
                              "optim.epochs": args.epochs, "progress": False,
                              "device": args.device})
    runs = []
    for fold in FOLDS:
        train_set, val_set = tvsum_fold(args.domain, fold)
        runs += [BatchedRun(seed, train_set, val_set, f"{args.domain}/{fold}/seed{seed}")
                 for seed in args.seeds]

    start = time.perf_counter()
    one_by_one = {}
    for run in runs:
        with tempfile.TemporaryDirectory() as folder:
            summary = train(config.replace({"seed": run.seed}), folder,
                            datasets=(run.train, run.val))
        one_by_one[run.name] = summary["last"]["val"][config.metric_name]
    sequential_s = time.perf_counter() - start

    start = time.perf_counter()
    result = train_batched(config, runs)
    batched_s = time.perf_counter() - start
    batched = {r["name"]: r["last"][config.metric_name] for r in result.runs}

    startup = process_startup_s()
    report = {
        "what": f"{len(runs)} TVSum runs ({args.domain}: folds {', '.join(FOLDS)} × seeds "
                f"{args.seeds}), {args.fusion}, width {args.hidden}, {args.epochs} epochs "
                f"({result.steps} optimiser steps per run), evaluated every epoch; one-by-one "
                "engine runs in one process vs one batched run",
        "device": args.device, "machine": machine(),
        "runs": len(runs), "steps_per_run": result.steps,
        "one_by_one_s": round(sequential_s, 2), "batched_s": round(batched_s, 2),
        "speed_up": round(sequential_s / batched_s, 2),
        "process_startup_s": round(startup, 2),
        "speed_up_with_one_process_per_run": round(
            (sequential_s + len(runs) * startup) / (batched_s + startup), 2),
        "last_top5_mAP": {"one_by_one_mean": round(sum(one_by_one.values()) / len(runs), 2),
                          "batched_mean": round(sum(batched.values()) / len(runs), 2)},
        "config": {"preset": "tvsum", "hidden": args.hidden, "fusion": args.fusion,
                   "epochs": args.epochs, "saliency_loss": config.loss.saliency_loss,
                   "dropout": config.model.dropout, "input_dropout": config.model.input_dropout},
    }
    write_report_json(args.out, report)
    print(report)
    return report


if __name__ == "__main__":
    main()
