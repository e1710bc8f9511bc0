"""Data time per training epoch, original per-file arrays vs the HDF5 store ->
reports/benchmarks/loading.json.

    PYTHONPATH=. python benchmarks/bench_loading.py [--data-root ../shared/data] [--epochs 5]

For each data set available (synthetic ci train always; TVSum and YouTube when the data root
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
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from rdmf.data import build_dataset, collate  # noqa: E402
from rdmf.data.base import DataWarning  # noqa: E402
from rdmf.data.datasets import describe  # noqa: E402
from rdmf.data.h5store import H5Dataset, write_h5  # noqa: E402
from rdmf.io import atomic_write_json  # noqa: E402
from rdmf.paths import data_root, generated_data_dir, repo_root  # noqa: E402


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
             source=describe(original, name, "bench"))
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default=str(repo_root() / "reports" / "benchmarks" / "loading.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", DataWarning)
    results = {}
    bench_dir = generated_data_dir() / "h5" / "bench"
    results["synthetic ci train"] = measure(
        "synthetic", build_dataset("synthetic", "train", size="ci"),
        bench_dir / "synthetic_train.h5", args.epochs, args.batch_size)
    root = data_root(args.data_root)
    if root is not None and (root / "tvsum").is_dir():
        results["tvsum all train"] = measure(
            "tvsum", build_dataset("tvsum", "train", domain="all", data_root=root),
            bench_dir / "tvsum_train.h5", args.epochs, args.batch_size)
    if root is not None and (root / "youtube_highlights").is_dir():
        results["youtube all train"] = measure(
            "youtube", build_dataset("youtube", "train", domain="all", data_root=root),
            bench_dir / "youtube_train.h5", args.epochs, args.batch_size)
    report = {"what": "data time of one training epoch (shuffled batches read by index and "
                      "collated, no model), median over epochs run in alternation after a "
                      "first epoch each (reported as *_first_epoch_s: cold caches, and the "
                      "store checks each sample's CRC-32 on its first read); "
                      "speedup_h5 = original / h5 median; one thread",
              "machine": platform.processor() or platform.machine(),
              "python": platform.python_version(), "results": results}
    atomic_write_json(args.out, report)
    for name, r in results.items():
        print(f"{name:20s} original {r['original_epoch_s']:8.4f} s/epoch   "
              f"h5 {r['h5_epoch_s']:8.4f} s/epoch   x{r['speedup_h5']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
