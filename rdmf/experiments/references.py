"""Published numbers (docs/design.md §6) and the TVSum reference rankings computed here.

The published numbers are quoted, never computed; every table prints them beside ours with
their source. The reference rankings (random, annotators' consensus) are computed with the
official scorer (:func:`rdmf.eval.tvsum_top5_ap`) on the same val videos as our rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rdmf.data.tvsum import TVSUM_DOMAINS
from rdmf.data.youtube import YOUTUBE_DOMAINS

#: TVSum top-5 mAP averages over the 10 domains, as published (docs/design.md §6)
TVSUM_PUBLISHED_AVG = {"UniVTG": 81.0, "UMT": 83.1, "QD-DETR": 85.0, "UVCOM": 86.3,
                       "CG-DETR": 86.8, "TaskWeave": 87.3, "TR-DETR": 88.1}
BEST_PUBLISHED_TVSUM = max(TVSUM_PUBLISHED_AVG.items(), key=lambda kv: kv[1])

#: QD-DETR's official code re-run on these features (docs/design.md §6): best-epoch vs last-epoch average
TVSUM_QDDETR_MEASURED = {
    "QD-DETR official code, CPU, seed 0, 800 epochs (docs/design.md §6)": {"best_epoch": 79.4, "last_epoch": 51.8},
    "QD-DETR official code, H200, seed 0, 2000 epochs (docs/design.md §6)": {"best_epoch": 86.6, "last_epoch": 56.2},
}

#: YouTube Highlights mAP per domain, as published (docs/design.md §6)
YOUTUBE_PUBLISHED = {
    "UMT-S (these features + audio; UMT README)": dict(zip(YOUTUBE_DOMAINS,
                                                           (65.93, 75.20, 81.64, 71.81, 72.27, 82.71))),
    "UniVTG (pretrained on other features; model.md)": dict(zip(YOUTUBE_DOMAINS,
                                                                (74.25, 78.89, 74.39, 84.87, 75.13, 83.85))),
}

#: QVHighlights TEST anchors (real SlowFast+CLIP features). NOT comparable with the synthetic set;
#: quoted for scale only: R1@0.5, R1@0.7, MR mAP, HD mAP, HIT@1
QVHIGHLIGHTS_TEST_PUBLISHED = {
    "Moment-DETR": (52.89, 33.02, 30.73, 35.69, 55.60),
    "QD-DETR": (62.40, 44.98, 39.86, 38.94, 62.40),
    "CG-DETR": (65.43, 48.38, 42.86, 40.33, 66.21),
    "TR-DETR": (64.66, 48.96, 42.62, 39.91, 63.42),
    "LD-DETR": (66.80, 51.04, 46.41, 40.51, 65.11),
}


def _tvsum_videos(data_root: str | Path) -> tuple[dict, dict]:
    folder = Path(data_root) / "tvsum"
    splits_file, anno_file = folder / "tvsum_splits_UMT.json", folder / "tvsum_anno.json"
    for path in (splits_file, anno_file):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not found (TVSum references need the real data root)")
    return json.loads(splits_file.read_text()), json.loads(anno_file.read_text())


def tvsum_reference_rankings(data_root: str | Path, *, n_random: int = 100,
                             videos: str = "std") -> dict[str, dict[str, float]]:
    """Top-5 mAP (in %) per domain of two reference rankings with the official scorer.

    ``random``: mean over ``n_random`` uniformly random rankings (seeds 0..n-1);
    ``consensus``: ranking by the sum of the 20 annotators' scores (the humans' own consensus).
    ``videos``: ``"std"`` = the standard val video of each domain (the published protocol's);
    ``"all"`` = all 5 videos of each domain (the leave-one-video-out protocol).
    Returns {"random": {domain: ap, ..., "Avg": ...}, "consensus": {...}}.
    """
    from rdmf.eval import tvsum_top5_ap
    if videos not in ("std", "all"):
        raise ValueError(f"videos must be 'std' or 'all', got {videos!r}")
    splits, anno = _tvsum_videos(data_root)
    out: dict[str, dict[str, float]] = {"random": {}, "consensus": {}}
    for domain in TVSUM_DOMAINS:
        vids = list(splits[domain]["val"])
        if videos == "all":
            vids = sorted(splits[domain]["train"]) + vids
        rand, cons = [], []
        for vid in vids:
            users = np.asarray(anno[vid]["anno"], dtype=float)
            cons.append(tvsum_top5_ap(users.sum(1), users))
            rand.append(np.mean([tvsum_top5_ap(np.random.default_rng(seed).random(len(users)), users)
                                 for seed in range(n_random)]))
        out["random"][domain] = 100 * float(np.mean(rand))
        out["consensus"][domain] = 100 * float(np.mean(cons))
    for key in out:
        out[key]["Avg"] = float(np.mean([out[key][d] for d in TVSUM_DOMAINS]))
    return out
