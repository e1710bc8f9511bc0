"""Short CPU run of rd / cross_attention / concat on the synthetic CI set next to the trivial
predictors (the numbers behind tests/test_train_learns.py).

    PYTHONPATH=. python benchmarks/short_run.py [--epochs 8] [--seed 0] [--clip-noise 1.0]

Writes ``reports/benchmarks/synthetic_short_run.json``. SYNTHETIC data.
"""

from __future__ import annotations

import argparse
import tempfile

import torch

from rdmf.io import atomic_write_json
from rdmf.paths import repo_root
from rdmf.train.short_run import SHORT_RUN, compare, trivial_metrics


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=SHORT_RUN["epochs"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clip-noise", type=float, default=1.0)
    parser.add_argument("--out", default=str(repo_root() / "reports" / "benchmarks" /
                                             "synthetic_short_run.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        result = compare(tmp, seed=args.seed, epochs=args.epochs, data_clip_noise=args.clip_noise)
    result["trivial"] = trivial_metrics(clip_noise=args.clip_noise)
    result["data"] = {"dataset": "synthetic (generated, NOT real video)", "size": "ci",
                      "clip_noise": args.clip_noise}
    atomic_write_json(args.out, result)
    print(result)
    return result


if __name__ == "__main__":
    main()
