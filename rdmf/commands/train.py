"""``rdmf train --preset synthetic --fusion rd --run-dir runs/x``: train one model into a run folder
(config.yaml, metrics.jsonl, best/last checkpoints, val_preds.jsonl, val_metrics.json).
Re-running the same command after an interruption resumes from ``last.ckpt``.
Multi-GPU / multi-process: ``torchrun --nproc_per_node N -m rdmf train ...``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml


def register(subparsers) -> None:
    from rdmf.model.fusion import FUSIONS
    from rdmf.train.config import PRESETS
    parser = subparsers.add_parser(
        "train", help="train a moment-retrieval / highlight-detection model",
        description="Train RDMF or an attention baseline. Settings: a preset (the reference "
                    "defaults for a data set) or a YAML config, then the flags below, then "
                    "--set FIELD=VALUE for any other config field (docs/training.md).")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--preset", choices=sorted(PRESETS), default=None,
                        help="data-set preset (default: synthetic)")
    source.add_argument("--config", type=Path, help="a config.yaml (e.g. from another run)")
    parser.add_argument("--run-dir", type=Path, required=True, help="output folder of the run")
    parser.add_argument("--fusion", choices=FUSIONS, help="rd | concat | cross_attention")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--data-root", type=str, help="root of the real data (else $RDMF_DATA_ROOT)")
    parser.add_argument("--domain", type=str, help="TVSum / YouTube domain")
    parser.add_argument("--size", type=str, help="synthetic set size (ci, ...)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--device", type=str, help="auto | cpu | cuda | cuda:N")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override any config field (YAML value), repeatable")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm bars")
    parser.add_argument("--fresh", action="store_true",
                        help="refuse to resume: error if the run folder already holds a run")
    parser.add_argument("--force", action="store_true",
                        help="train into a folder that holds other files than a run's (files "
                             "with the names of a run's files are replaced, others kept)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.set_defaults(func=run)


def build_config(args: argparse.Namespace):
    from rdmf.paths import data_root
    from rdmf.train.config import from_dict, load_config, preset, to_dict
    config = load_config(args.config) if args.config else preset(args.preset or "synthetic")
    changes = {}
    for flag, field in (("fusion", "fusion"), ("epochs", "epochs"), ("seed", "seed"),
                        ("domain", "domain"), ("size", "size"), ("batch_size", "batch_size"),
                        ("lr", "lr"), ("device", "device")):
        value = getattr(args, flag)
        if value is not None:
            changes[field] = value
    root = data_root(args.data_root)
    if root is not None:
        changes["data_root"] = str(root)
    if args.no_progress:
        changes["progress"] = False
    for item in args.set:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected FIELD=VALUE")
        key, value = item.split("=", 1)
        try:
            changes[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ValueError(f"--set {item!r}: VALUE is not valid YAML") from None
    return from_dict({**to_dict(config), **changes}, source="train options")


def check_run_dir(args: argparse.Namespace) -> None:
    """The run folder is new, empty or a run's own (it holds ``last.ckpt``, or only files that
    training writes); ``--config`` is not the file training would write over."""
    from rdmf.cli import UserError
    from rdmf.train.checkpoint import LAST, RUN_FILES, is_run_temporary
    run_dir = args.run_dir
    if not run_dir.is_dir() or (run_dir / LAST).is_file():
        return
    if args.config is not None and args.config.resolve() == (run_dir / "config.yaml").resolve():
        raise UserError(f"--config {args.config}: is the config.yaml that training writes into "
                        f"--run-dir {run_dir}; copy it elsewhere or choose another run folder")
    if args.force:
        return
    own = set(RUN_FILES) | {"eval"}
    foreign = sorted(p.name for p in run_dir.iterdir()
                     if p.name not in own and not is_run_temporary(p.name))
    if foreign:
        raise UserError(f"--run-dir {run_dir}: holds files that are not a run's "
                        f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}); choose "
                        "a new or empty folder, or add --force to train into it")


def run(args: argparse.Namespace) -> int:
    from rdmf.cli import UserError
    from rdmf.train import NonFiniteLossError, train
    config = build_config(args)
    check_run_dir(args)
    try:
        summary = train(config, args.run_dir, resume=not args.fresh)
    except NonFiniteLossError as err:
        raise UserError(str(err)) from None
    print(json.dumps({k: summary[k] for k in ("run_dir", "metric_name", "best_metric",
                                               "best_epoch", "epochs")}))
    return 0
