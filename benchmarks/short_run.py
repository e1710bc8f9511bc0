"""Short CPU run of rd / cross_attention / concat on the synthetic CI set next to the trivial
predictors (the numbers behind tests/test_train_learns.py).

    PYTHONPATH=. python benchmarks/short_run.py [--epochs 12] [--seeds 0,1,2] [--clip-noise 1.0]
        [--decoder-queries learned,anchors]

Every fusion is trained with the short-run recipe (``rdmf.train.short_run.SHORT_RUN``, the
synthetic preset) for each seed; ``--decoder-queries`` also trains concat with other decoder
query kinds (everything else unchanged) to show what the two-stage proposals bring. Writes
``reports/benchmarks/synthetic_short_run.json``. SYNTHETIC data.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
import torch

from rdmf.io import atomic_write_json
from rdmf.paths import repo_root
from rdmf.train.short_run import KEYS, SHORT_RUN, compare, trivial_metrics


def _summary(per_seed: list[dict]) -> dict:
    """mean and std (over seeds) of every metric of every fusion."""
    out = {}
    for fusion in per_seed[0]:
        out[fusion] = {k: {"mean": round(float(np.mean([r[fusion][k] for r in per_seed])), 2),
                           "std": round(float(np.std([r[fusion][k] for r in per_seed])), 2)}
                       for k in (*KEYS, "wall_s")}
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=SHORT_RUN["optim.epochs"])
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
    parser.add_argument("--clip-noise", type=float, default=1.0)
    parser.add_argument("--decoder-queries", default="",
                        help="comma-separated other decoder query kinds to train concat with")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(repo_root() / "reports" / "benchmarks" /
                                             "synthetic_short_run.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    per_seed, variants = [], {}
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            res = compare(tmp, seed=seed, epochs=args.epochs, data_clip_noise=args.clip_noise)
        per_seed.append(res["fusions"])
        print(f"seed {seed}:", res["fusions"], flush=True)
        for kind in [k for k in args.decoder_queries.split(",") if k.strip()]:
            with tempfile.TemporaryDirectory() as tmp:
                r = compare(tmp, fusions=("concat",), seed=seed, epochs=args.epochs,
                            data_clip_noise=args.clip_noise, decoder_queries=kind)
            variants.setdefault(f"concat, decoder_queries={kind}", []).append(
                r["fusions"]["concat"])
            print(f"seed {seed}, concat with {kind} queries:", r["fusions"]["concat"], flush=True)
    from rdmf.data.synth import GENERATOR_VERSION
    result = {"settings": {**SHORT_RUN, "optim.epochs": args.epochs, "threads": args.threads},
              "seeds": seeds, "per_seed": per_seed, "summary": _summary(per_seed),
              "decoder_query_variants": {name: {"per_seed": runs,
                                                "summary": _summary([{"x": r} for r in runs])["x"]}
                                         for name, runs in variants.items()},
              "trivial": trivial_metrics(clip_noise=args.clip_noise),
              "data": {"dataset": "synthetic (generated, NOT real video)", "size": "ci",
                       "clip_noise": args.clip_noise, "generator_version": GENERATOR_VERSION}}
    best = {k: max(m[k] for m in result["trivial"].values())
            for k in ("MR-full-mAP", "HL-min-VeryGood-mAP")}
    result["passes_learns_for_real"] = [
        all(r[f]["MR-full-mAP"] > best["MR-full-mAP"]
            and r[f]["HL-min-VeryGood-mAP"] > best["HL-min-VeryGood-mAP"] for f in r)
        and r["concat"]["MR-full-mAP"] >= 2 * best["MR-full-mAP"] for r in per_seed]
    atomic_write_json(args.out, result)
    print(result["summary"], result["trivial"], result["passes_learns_for_real"], sep="\n")
    return result


if __name__ == "__main__":
    main()
