"""``rdmf data``: generate the synthetic benchmark, convert data sets to HDF5, inspect them.

    rdmf data synth --size ci --seed 0 [--clip-noise 1.0] [--param glimpse_prob=0.3] [--h5]
    rdmf data prepare --dataset tvsum --domain all --split train --data-root ../shared/data \\
        --out data/h5/tvsum/all_train.h5
    rdmf data verify data/h5/tvsum/all_train.h5
    rdmf data stats --dataset synthetic --split val
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    from rdmf.data.datasets import DATASETS
    parser = subparsers.add_parser("data", help="generate, convert and inspect data sets")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")

    synth_p = sub.add_parser("synth", help="generate the synthetic benchmark (QVHighlights layout)")
    synth_p.add_argument("--size", default="ci", choices=("ci", "default", "bench", "full"))
    synth_p.add_argument("--seed", type=int, default=0)
    synth_p.add_argument("--clip-noise", type=float, default=1.0,
                         help="scale of clutter and noise in the clip features (1.0 = default)")
    synth_p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                         help="override a difficulty knob of rdmf.data.synth.DEFAULT_PARAMS")
    synth_p.add_argument("--out", default=None,
                         help="output folder (default data/synthetic/<size>-v<VERSION>-seed<seed>)")
    synth_p.add_argument("--h5", action="store_true", help="also write the h5 store of each split")
    synth_p.add_argument("--force", action="store_true",
                         help="regenerate even if present, and replace whatever --out holds "
                              "(without it, a folder that is not this very set is an error)")
    synth_p.set_defaults(func=_synth)

    prep = sub.add_parser("prepare", help="convert a data set and split into one .h5 + .jsonl")
    prep.add_argument("--dataset", required=True,
                      choices=DATASETS)
    prep.add_argument("--split", default="train",
                      help="train, val, test, or 'all' (every split the data set has)")
    prep.add_argument("--domain", default=None, help="TVSum / YouTube domain, or 'all'")
    prep.add_argument("--data-root", default=None, help="real data root (else $RDMF_DATA_ROOT)")
    prep.add_argument("--size", default="ci", help="synthetic size")
    prep.add_argument("--seed", type=int, default=0, help="synthetic seed")
    prep.add_argument("--strict", action="store_true",
                      help="ids without annotation or features are an error, not a skip")
    prep.add_argument("--missing", default=None, choices=("error", "skip"),
                      help="QVHighlights: rows whose feature files are absent")
    prep.add_argument("--out", default=None,
                      help="output .h5 (with --split all: a folder) (default data/h5/...)")
    prep.add_argument("--force", action="store_true",
                      help="replace an --out file that is not an rdmf feature store")
    prep.add_argument("--no-progress", action="store_true")
    prep.set_defaults(func=_prepare)

    ver = sub.add_parser("verify", help="check an .h5 store (complete, every checksum)")
    ver.add_argument("path")
    ver.set_defaults(func=_verify)

    st = sub.add_parser("stats", help="print the annotation statistics of a data set split")
    st.add_argument("--dataset", default="synthetic",
                    choices=DATASETS)
    st.add_argument("--split", default="val")
    st.add_argument("--domain", default=None)
    st.add_argument("--data-root", default=None)
    st.add_argument("--size", default="ci")
    st.add_argument("--seed", type=int, default=0)
    st.set_defaults(func=_stats)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _parse_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--param {item!r}: expected KEY=VALUE")
        key, value = item.split("=", 1)
        try:
            params[key.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--param {item!r}: value is not a number") from None
    return params


def _synth(args: argparse.Namespace) -> int:
    from rdmf.data import synth
    from rdmf.data.datasets import build_dataset
    params = _parse_params(args.param)
    if args.out:
        out = Path(args.out)
        if not synth.existing_set(out, args.size, args.seed, clip_noise=args.clip_noise,
                                  params=params, force=args.force):
            synth.generate(out, args.size, args.seed, clip_noise=args.clip_noise, params=params,
                           progress=True, force=args.force)
    else:
        out = synth.ensure(args.size, args.seed, clip_noise=args.clip_noise, params=params,
                           progress=True, force=args.force)
    meta = synth.read_meta(out)
    print(f"synthetic data set (generator v{meta['generator_version']}) in {out}: "
          + ", ".join(f"{k} {v}" for k, v in meta["counts"].items()))
    if args.h5:
        if args.out:
            from rdmf.data.h5store import write_h5
            from rdmf.data.qvhighlights import MomentDataset
            for split in synth.SPLITS:
                ds = MomentDataset(out / "annotations" / f"synthetic_{split}.jsonl",
                                   [out / "video_features"], out / "text_features",
                                   name="synthetic")
                write_h5(ds, out / "h5" / f"{split}.h5", dataset_name="synthetic", split=split,
                         source={"folder": str(out), **meta})
                print(f"  {split}: {out / 'h5' / f'{split}.h5'}")
        else:
            for split in synth.SPLITS:
                ds = build_dataset("synthetic", split, size=args.size, seed=args.seed,
                                   clip_noise=args.clip_noise, synth_params=params, h5=True,
                                   progress=True)
                print(f"  {split}: {ds.path}")
    return 0


def _splits(dataset: str) -> tuple[str, ...]:
    return ("train", "val") if dataset in ("tvsum", "youtube") else ("train", "val", "test")


def _prepare(args: argparse.Namespace) -> int:
    from rdmf.data.datasets import build_dataset, describe, h5_path, provenance
    from rdmf.data.h5store import write_h5
    splits = _splits(args.dataset) if args.split == "all" else (args.split,)
    kw = {}
    if args.missing:
        kw["missing"] = args.missing
    if args.out is not None and len(splits) > 1 and Path(args.out).exists() \
            and not Path(args.out).is_dir():
        raise ValueError(f"--out {args.out}: exists and is not a folder (with --split all, "
                         "--out is the folder of one .h5 per split)")
    jobs = []
    for split in splits:  # every split is read and every output checked before anything is written
        ds = build_dataset(args.dataset, split, data_root=args.data_root, domain=args.domain,
                           size=args.size, seed=args.seed, strict=args.strict, **kw)
        if args.out is None:
            out = h5_path(args.dataset, split, domain=args.domain, size=args.size, seed=args.seed)
        elif len(splits) > 1:
            out = Path(args.out) / f"{split}.h5"
        else:
            out = Path(args.out)
        skipped = getattr(ds, "skipped", {})
        note = f" (skipped: {', '.join(f'{n} {r}' for r, n in skipped.items())})" if skipped else ""
        if len(ds) == 0:
            where = f" domain {args.domain}" if args.domain else ""
            raise ValueError(f"{args.dataset}{where} {split}: 0 samples{note}; nothing was written "
                             f"to {out}")
        _check_output(out, ds, force=args.force)
        jobs.append((split, ds, out, note))
    for split, ds, out, note in jobs:
        source = describe(ds, provenance(args.dataset, split, data_root=args.data_root,
                                         domain=args.domain, size=args.size, seed=args.seed,
                                         strict=args.strict, reader_kw=kw))
        write_h5(ds, out, dataset_name=args.dataset, split=split, source=source,
                 progress=not args.no_progress)
        print(f"{args.dataset} {split}: {len(ds)} samples -> {out} + {out.with_suffix('.jsonl').name}{note}")
    return 0


def _check_output(out: Path, ds, *, force: bool) -> None:
    """An output store may replace only a store of this command (its ``format`` attribute), never
    an input of the data set it converts, nor any other file unless ``force``."""
    from rdmf.data.datasets import input_files
    from rdmf.data.h5store import is_store
    if out.suffix != ".h5":
        raise ValueError(f"--out {out}: must end in .h5 (the annotation rows are written beside "
                         f"it, to {out.with_suffix('.jsonl').name})")
    rows = out.with_suffix(".jsonl")
    if out.is_dir():
        raise ValueError(f"--out {out}: is a folder; give the .h5 file to write (a folder only "
                         "with --split all)")
    inputs = input_files(ds)
    for path in (out, rows):
        if path.exists() and any(p.exists() and path.samefile(p) for p in inputs.get(path.name, ())):
            raise ValueError(f"--out {out}: {path} is an input of the data set being converted; "
                             "nothing was written")
    if force:
        return
    if out.exists() and not is_store(out):
        raise ValueError(f"--out {out}: exists and is not an rdmf feature store; nothing was "
                         "written (--force replaces it)")
    if rows.exists() and not out.exists():
        raise ValueError(f"--out {out}: {rows} exists without its store (not written by rdmf "
                         "data prepare); nothing was written (--force replaces it)")


def _verify(args: argparse.Namespace) -> int:
    from rdmf.data.h5store import H5Dataset
    ds = H5Dataset(args.path, verify=True)
    print(f"{args.path}: OK ({len(ds)} samples, {ds.dataset_name} {ds.split})")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from rdmf.data.datasets import build_dataset
    from rdmf.data.stats import dataset_stats
    ds = build_dataset(args.dataset, args.split, data_root=args.data_root, domain=args.domain,
                       size=args.size, seed=args.seed)
    for key, value in dataset_stats(ds).items():
        print(f"{key:28s} {value}")
    return 0
