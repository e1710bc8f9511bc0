"""Annotation statistics of the real QVHighlights train split, frozen as constants.

The synthetic generator samples from these so that it is deterministic and needs no data root.
Measured once from ``qvhighlights/annotations/highlight_train_release.jsonl`` (7,218 queries,
12,803 windows, 160,573 annotated clips) with :func:`rdmf.data.stats.qvhighlights_stats`
(notebook 05 recomputes them from the real file, when the data root has it, and compares):

- durations: 7,005 of 7,218 videos (97.0 %) are 150 s; the rest lie between 120 and 148 s;
- moments per query: 1 -> 4,855, 2 -> 1,230, >= 3 -> 1,133 (mean 1.77; the tail goes to 24 and is
  lumped into 3 here, so the synthetic mean is ~1.48);
- moment lengths (seconds, all even): the histogram below (mean 25.1 s, median 16 s);
- saliency scores 0-4 of the 3 annotators, over relevant clips: the marginal below
  (mean 2.98), correlation between two annotators 0.18; relevant clips cover 30 % of a video.
"""

from __future__ import annotations

import numpy as np

from .sample import CLIP_LEN_S  # noqa: F401  (the clip grid, used as stats.CLIP_LEN_S)

DURATION_150_FRACTION = 7005 / 7218
DURATION_SHORT_RANGE_S = (120, 148)   # the other 3 %: even values in this range (uniform)

MOMENTS_PER_QUERY = {1: 4855 / 7218, 2: 1230 / 7218, 3: 1133 / 7218}

# moment-length histogram: bins [edge_k, edge_{k+1}) seconds, counts of the 12,803 train windows
MOMENT_LEN_EDGES_S = np.array([2, 4, 6, 8, 10, 14, 18, 22, 26, 30, 40, 50, 60, 80, 100, 120, 150.1])
MOMENT_LEN_COUNTS = np.array([1416, 1138, 883, 704, 1103, 1431, 920, 1116, 765, 1160, 651, 392,
                              395, 178, 128, 423])

# P(score = 0..4), averaged over the 3 annotators (per-annotator marginals agree within 0.015)
SALIENCY_MARGINAL = np.array([0.0324, 0.0726, 0.1846, 0.3065, 0.4039])
SALIENCY_ANNOTATOR_CORR = 0.18
RELEVANT_FRACTION = 0.30
MEAN_MOMENT_LEN_S = 25.1
MEAN_MOMENTS_PER_QUERY = 1.77
