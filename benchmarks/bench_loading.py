"""Data time per training epoch, original per-file arrays vs the HDF5 store ->
reports/benchmarks/loading.json.

    PYTHONPATH=. python benchmarks/bench_loading.py [--data-root ../shared/data] [--epochs 5]
        [--mode direct|training|both]

Two measurements, each with the store and without it, side by side in one process.

``training`` (the one that decides ``data.h5``): real short training runs, the model included
(the data set's preset with small widths, one thread), once reading through the store and once
reading the per-file arrays, the two runs alternating ``--repeats`` times; each epoch's
``data_s`` (the seconds :func:`rdmf.train.engine.train_epoch` spends reading and collating its
batches) is read back from metrics.jsonl. The first epoch of a run (the store checks each
sample's CRC-32 on its first read in the process, and pages the file in) is reported apart from
the median of the later epochs. Synthetic ci, TVSum (one domain) and YouTube Highlights (one
domain) when the data root has them.

``direct``: for each data set available (synthetic ci train always; TVSum and YouTube when the data root
has them) the epoch loop of the trainer runs without the model: a shuffled order of the samples
(seeded per epoch as the trainer seeds it), batches of ``--batch-size`` indices, each sample
fetched from the data set by index and the batch collated into tensors. Nothing is preloaded:
every epoch reads every sample from its source again. The two sources run side by side, epoch
by epoch in alternation, after one first epoch each (it warms the OS file cache for both, and
the store checks each sample's checksum on its first read); the median of the later epochs is
the data time per epoch, the first epoch is reported beside it. One thread, this machine's CPU and disk.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from rdmf.data import build_dataset, collate  # noqa: E402
from rdmf.data.base import DataWarning  # noqa: E402
from rdmf.data.datasets import ROOT_FOLDERS, describe  # noqa: E402
from rdmf.data.h5store import H5Dataset, write_h5  # noqa: E402
from rdmf.io import atomic_write_json  # noqa: E402
from rdmf.paths import data_root, generated_data_dir, repo_root  # noqa: E402
from rdmf.train import preset, train  # noqa: E402
from rdmf.train.datasets import load_split  # noqa: E402


def data_epoch(dataset, batch_size: int, epoch: int, seed: int = 0) -> float:
    """Seconds of one epoch of the trainer's data loop: shuffled index batches, each sample
    read by index, each batch collated."""
    start = time.perf_counter()
    n = len(dataset)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 10_007 + epoch))
    order = order.tolist()
    for i in range(0, n, batch_size):
        collate([dataset[j] for j in order[i:i + batch_size]])
    return time.perf_counter() - start


def measure(name: str, original, h5_file: Path, epochs: int, batch_size: int) -> dict:
    write_h5(original, h5_file, dataset_name=name, progress=False,
             source=describe(original, {"dataset": name, "split": "bench"}))
    store = H5Dataset(h5_file)
    sources = {"original": original, "h5": store}
    times: dict[str, list[float]] = {label: [] for label in sources}
    first = {label: data_epoch(ds, batch_size, epoch=0) for label, ds in sources.items()}
    for epoch in range(1, epochs + 1):
        for label, ds in sources.items():
            times[label].append(data_epoch(ds, batch_size, epoch))
    out = {"samples": len(original), "batch_size": batch_size, "epochs": epochs,
           "h5_bytes": h5_file.stat().st_size}
    for label in sources:
        out[f"{label}_epoch_s"] = round(statistics.median(times[label]), 4)
        out[f"{label}_first_epoch_s"] = round(first[label], 4)
    out["speedup_h5"] = round(out["original_epoch_s"] / out["h5_epoch_s"], 2)
    return out


#: the training runs: (label, preset, changes); small widths so that a run takes seconds
TRAINING_RUNS = (("synthetic ci", "synthetic", {"data.size": "ci"}),
                 ("tvsum BK", "tvsum", {"data.domain": "BK"}),
                 ("youtube dog", "youtube", {"data.domain": "dog"}))
SMALL = {"model.hidden": 32, "model.heads": 4, "model.ffn_dim": 64, "model.enc_layers": 1,
         "model.dec_layers": 1, "model.rd.channels": 4, "model.rd.steps": 4,
         "progress": False, "device": "cpu", "eval.every": 1000}


def training_epochs(preset_name: str, changes: dict, h5: bool, epochs: int, folder: Path) -> list[float]:
    """``data_s`` of each epoch of one short training run of ``preset_name``."""
    config = preset(preset_name, {**SMALL, **changes, "optim.epochs": epochs, "data.h5": h5})
    train(config, folder, resume=False)
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return [row["data_s"] for row in rows]


def measure_training(preset_name: str, changes: dict, epochs: int, repeats: int,
                     data_root) -> dict:
    """Runs with and without the store, alternating; per way the first epoch's ``data_s``
    (median over repeats) and the median ``data_s`` of the later epochs."""
    if data_root is not None and preset_name != "synthetic":
        changes = {**changes, "data.data_root": str(data_root)}
    ways = {"original": False, "h5": True}
    first: dict[str, list[float]] = {way: [] for way in ways}
    later: dict[str, list[float]] = {way: [] for way in ways}
    with tempfile.TemporaryDirectory(prefix="bench-loading-") as scratch:
        for repeat in range(repeats):
            for way, h5 in ways.items():
                data_s = training_epochs(preset_name, changes, h5, epochs,
                                         Path(scratch) / f"{way}_{repeat}")
                first[way].append(data_s[0])
                later[way] += data_s[1:]
    config = preset(preset_name, changes)
    out = {"samples": len(load_split(config.data, config.data.train_split)),
           "batch_size": config.optim.batch_size, "epochs": epochs, "repeats": repeats}
    for way in ways:
        out[f"{way}_epoch_s"] = round(statistics.median(later[way]), 4)
        out[f"{way}_first_epoch_s"] = round(statistics.median(first[way]), 4)
    out["speedup_h5"] = round(out["original_epoch_s"] / out["h5_epoch_s"], 2)
    out["speedup_h5_first_epoch"] = round(out["original_first_epoch_s"]
                                          / out["h5_first_epoch_s"], 2)
    return out


DIRECT_WHAT = ("results: data time of one training epoch (shuffled batches read by index and "
               "collated, no model), median over epochs run in alternation after a first epoch "
               "each (reported as *_first_epoch_s: cold caches, and the store checks each "
               "sample's CRC-32 on its first read); speedup_h5 = original / h5 median; one "
               "thread")
TRAINING_WHAT = ("training: data_s of real short training runs (the data set's preset with small "
                 "widths, the model included, one thread): the seconds each epoch of "
                 "rdmf.train.engine.train_epoch spends reading and collating its batches; runs "
                 "with the store (data.h5 true) and with the per-file arrays alternate; "
                 "*_first_epoch_s: median over runs of their first epoch (the store checks "
                 "each sample's CRC-32 and pages the file in), *_epoch_s: median of the later "
                 "epochs; speedup_h5 = original / h5")


def direct_results(root, epochs: int, batch_size: int) -> dict:
    """The trainer's data loop without the model, on each data set available."""
    results = {}
    bench_dir = generated_data_dir() / "h5" / "bench"
    results["synthetic ci train"] = measure(
        "synthetic", build_dataset("synthetic", "train", size="ci"),
        bench_dir / "synthetic_train.h5", epochs, batch_size)
    if root is not None and (root / "tvsum").is_dir():
        results["tvsum all train"] = measure(
            "tvsum", build_dataset("tvsum", "train", domain="all", data_root=root),
            bench_dir / "tvsum_train.h5", epochs, batch_size)
    if root is not None and (root / "youtube_highlights").is_dir():
        results["youtube all train"] = measure(
            "youtube", build_dataset("youtube", "train", domain="all", data_root=root),
            bench_dir / "youtube_train.h5", epochs, batch_size)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--mode", choices=("direct", "training", "both"), default="both")
    parser.add_argument("--training-epochs", type=int, default=5,
                        help="epochs of each short training run")
    parser.add_argument("--repeats", type=int, default=3,
                        help="training runs of each way, alternating")
    parser.add_argument("--out", default=str(repo_root() / "reports" / "benchmarks" / "loading.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", DataWarning)
    root = data_root(args.data_root)
    report = json.loads(Path(args.out).read_text()) if Path(args.out).is_file() else {}
    report.update({"machine": platform.processor() or platform.machine(),
                   "python": platform.python_version()})
    if args.mode in ("direct", "both"):
        report["what"] = DIRECT_WHAT
        report["results"] = direct_results(root, args.epochs, args.batch_size)
    if args.mode in ("training", "both"):
        report["training_what"] = TRAINING_WHAT
        report["training"] = {
            label: measure_training(name, changes, args.training_epochs, args.repeats, root)
            for label, name, changes in TRAINING_RUNS
            if name == "synthetic" or (root is not None and (
                root / ROOT_FOLDERS[name]).is_dir())}
    atomic_write_json(args.out, report)
    for section in ("results", "training"):
        for name, r in report.get(section, {}).items():
            print(f"{section:9s} {name:20s} original {r['original_epoch_s']:8.4f} s/epoch   "
                  f"h5 {r['h5_epoch_s']:8.4f} s/epoch   x{r['speedup_h5']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
