"""``rdmf evaluate RUN_DIR --split val``: predict a split with a run's best (or last) checkpoint and
write ``preds.jsonl`` (official submission format), ``metrics.json`` (through ``rdmf.eval``) and
``eval.json`` (the checkpoint and split evaluated) into ``RUN_DIR/eval/<split>_<checkpoint>/``
(or ``--out``), never over the files training wrote."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="evaluate a trained run on a split",
        description="Predict a split with a run folder's checkpoint and score it with the "
                    "official metrics.")
    parser.add_argument("run_dir", type=Path, help="run folder (or a .ckpt file)")
    parser.add_argument("--split", default="val", help="split to evaluate (default: val)")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="best")
    parser.add_argument("--data-root", type=str, help="root of the real data (else the run's)")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: RUN_DIR/eval/<split>_<checkpoint>/); "
                             "must be new, empty or an earlier evaluation's")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rdmf.train import evaluate
    metrics = evaluate(args.run_dir, args.split, checkpoint=args.checkpoint,
                       data_root=args.data_root, device=args.device, out_dir=args.out)
    if metrics is None:
        print(f"{args.split}: no labels; wrote predictions only")
    else:
        print(json.dumps(metrics["brief"]))
    return 0
