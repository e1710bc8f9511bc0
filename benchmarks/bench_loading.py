"""Loading throughput, original files vs the HDF5 store (samples/s) -> reports/benchmarks/loading.json.

    PYTHONPATH=. python benchmarks/bench_loading.py [--data-root ../shared/data] [--repeats 3]

Measures, for each data set available (synthetic ci val always; TVSum and YouTube when the data
root has them), the time to load every sample once (a full pass, after one warm-up pass so the OS
file cache is warm for both), best of ``--repeats``. One thread, this machine's CPU and disk.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from rdmf.data import build_dataset  # noqa: E402
from rdmf.data.base import DataWarning  # noqa: E402
from rdmf.data.datasets import describe  # noqa: E402
from rdmf.data.h5store import H5Dataset, write_h5  # noqa: E402
from rdmf.io import atomic_write_json  # noqa: E402
from rdmf.paths import data_root, generated_data_dir, repo_root  # noqa: E402


def _pass(ds) -> float:
    start = time.perf_counter()
    for i in range(len(ds)):
        ds[i]
    return time.perf_counter() - start


def measure(name: str, original, h5_file: Path, repeats: int) -> dict:
    if not h5_file.is_file():
        write_h5(original, h5_file, dataset_name=name, progress=False,
                 source=describe(original, name, "bench"))
    h5 = H5Dataset(h5_file)
    out = {"samples": len(original), "h5_bytes": h5_file.stat().st_size}
    for label, ds in (("original", original), ("h5", h5)):
        _pass(ds)  # warm-up
        best = min(_pass(ds) for _ in range(repeats))
        out[f"{label}_samples_per_s"] = round(len(ds) / best, 1)
    out["speedup_h5"] = round(out["h5_samples_per_s"] / out["original_samples_per_s"], 2)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(repo_root() / "reports" / "benchmarks" / "loading.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", DataWarning)
    results = {}
    bench_dir = generated_data_dir() / "h5" / "bench"
    results["synthetic ci val"] = measure(
        "synthetic", build_dataset("synthetic", "val", size="ci"), bench_dir / "synthetic_val.h5",
        args.repeats)
    root = data_root(args.data_root)
    if root is not None and (root / "tvsum").is_dir():
        results["tvsum all train"] = measure(
            "tvsum", build_dataset("tvsum", "train", domain="all", data_root=root),
            bench_dir / "tvsum_train.h5", args.repeats)
    if root is not None and (root / "youtube_highlights").is_dir():
        results["youtube all train"] = measure(
            "youtube", build_dataset("youtube", "train", domain="all", data_root=root),
            bench_dir / "youtube_train.h5", args.repeats)
    report = {"what": "samples/s loading every sample once (best of repeats, warm file cache), "
                      "one thread", "machine": platform.processor() or platform.machine(),
              "python": platform.python_version(), "results": results}
    atomic_write_json(args.out, report)
    for name, r in results.items():
        print(f"{name:20s} original {r['original_samples_per_s']:8.1f}/s   "
              f"h5 {r['h5_samples_per_s']:8.1f}/s   x{r['speedup_h5']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
