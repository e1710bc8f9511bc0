"""``rdmf evaluate-submission PRED.jsonl GT.jsonl --out METRICS.json``: official QVHighlights
metrics of a prediction file (MR and/or HD), a short table on stdout, the metrics JSON written
atomically. Bad input: one-line error naming file, line and qid; exit code 2; nothing written."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rdmf.eval.qvhighlights import evaluate_qvhighlights, format_brief
from rdmf.eval.submission import (DEFAULT_SALIENCY_TOLERANCE, read_rows,
                                  unusual_predictions)
from rdmf.io import atomic_write_json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate-submission",
        help="official QVHighlights metrics of a submission jsonl",
        description="Evaluate a QVHighlights submission (jsonl rows qid, pred_relevant_windows "
                    "[[start, end, score], ...] and/or pred_saliency_scores) against a "
                    "ground-truth jsonl, exactly as Moment-DETR's standalone_eval/eval.py.")
    parser.add_argument("submission", type=Path, help="prediction jsonl (PRED.jsonl)")
    parser.add_argument("ground_truth", type=Path, help="ground-truth jsonl (GT.jsonl)")
    parser.add_argument("--out", type=Path, required=True, help="metrics JSON to write")
    parser.add_argument("--saliency-tolerance", type=int, default=DEFAULT_SALIENCY_TOLERANCE,
                        metavar="N",
                        help="accepted difference, in clips, between len(pred_saliency_scores) "
                             "and int(duration / 2) (default %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.set_defaults(func=run)


def check_out(out: Path, inputs: list[Path]) -> None:
    """``--out`` is a file to write: not a folder, not one of the inputs."""
    for path in inputs:
        if out.exists() and path.exists() and out.resolve() == path.resolve():
            raise ValueError(f"--out {out}: is the input file {path}; give another file for "
                             "the metrics (no command writes over its own input)")
    if out.is_dir():
        raise ValueError(f"--out {out}: is a folder; give the metrics JSON file to write, "
                         f"e.g. {out / 'metrics.json'}")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"--out {out}: {parent} is a file, not a folder")
            break


def run(args: argparse.Namespace) -> int:
    if args.saliency_tolerance < 0:
        raise ValueError("--saliency-tolerance must be >= 0")
    check_out(args.out, [args.submission, args.ground_truth])
    start = time.perf_counter()
    submission = read_rows(args.submission)
    ground_truth = read_rows(args.ground_truth)
    metrics = evaluate_qvhighlights(submission, ground_truth, args.saliency_tolerance)
    elapsed = time.perf_counter() - start
    unusual = unusual_predictions(submission, ground_truth)
    if unusual:
        print(f"rdmf evaluate-submission: warning: {unusual}", file=sys.stderr)
    atomic_write_json(args.out, metrics, indent=4)
    if not args.quiet:
        print(format_brief(metrics))
        print(f"{len(submission.rows)} queries evaluated in {elapsed:.2f} s; wrote {args.out}",
              file=sys.stderr)
    return 0
