"""Verdict sentences, written from the numbers only.

From per-query values of several models (each a ``(seeds, queries)`` array of one metric),
:func:`compare` runs a paired bootstrap for each pair of models; the primary comparisons, fixed
before the results are seen, are decided on their own 95 % interval, the secondary ones on their
Holm-adjusted p-value (the family: the secondary comparisons of one call). :func:`sentence`
turns one comparison into the sentence a report prints; "wins" and "loses" are written only when
the interval excludes 0 (and, for a secondary comparison, the adjusted p is below 0.05).

:func:`mean_std_table` gives the usual mean ± std over seeds; :func:`by_type` splits the query
axis by query type, so that every table and verdict can be given per type.
Definitions: ``docs/statistics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .cells import fmt, stat
from .stats import check_per_seed, holm, paired_bootstrap

METRIC_NAMES: dict[str, str] = {
    "MR-full-mAP": "MR mAP", "MR-full-R1@0.5": "R1@0.5", "MR-full-R1@0.7": "R1@0.7",
    "MR-full-mAP@0.5": "MR mAP@0.5", "MR-full-mAP@0.75": "MR mAP@0.75",
    "HL-min-VeryGood-mAP": "HD mAP", "HL-min-VeryGood-Hit1": "HIT@1",
    "top5-mAP": "TVSum top-5 mAP", "mAP": "mAP"}


def display_name(metric: str) -> str:
    """The short name a sentence or table uses for a metric key (the key itself if unknown)."""
    return METRIC_NAMES.get(metric, metric)


@dataclass(frozen=True)
class Comparison:
    """One paired comparison of ``model_a`` against ``model_b`` on ``metric``.

    diff, low, high: mean per-query difference a - b and its percentile interval (metric units).
    p: the two-sided bootstrap p-value; p_adjusted: its Holm-adjusted value (``None`` for a
    primary comparison, which is fixed in advance and not adjusted).
    """
    model_a: str
    model_b: str
    metric: str
    diff: float
    low: float
    high: float
    p: float
    p_adjusted: float | None
    primary: bool
    n_queries: int
    n_seeds_a: int
    n_seeds_b: int
    confidence: float = 0.95
    unit: str = "test queries"

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies entirely on one side of 0."""
        return self.low > 0 or self.high < 0

    @property
    def decided(self) -> bool:
        """Primary: the interval excludes 0. Secondary: that, and the Holm-adjusted p is below
        ``1 - confidence``."""
        if not self.excludes_zero:
            return False
        if self.primary:
            return True
        return self.p_adjusted is not None and self.p_adjusted < 1 - self.confidence

    @property
    def winner(self) -> str | None:
        """The better model when the comparison is decided, else ``None``."""
        if not self.decided:
            return None
        return self.model_a if self.low > 0 else self.model_b


def _models_checked(per_query: Mapping[str, np.ndarray], metric: str) -> dict[str, np.ndarray]:
    """Every model's (S, Q) array, finite and with the same Q; errors name model and metric."""
    if not per_query:
        raise ValueError(f"metric {metric!r}: no models")
    arrays = {model: check_per_seed(values, f"model {model!r}, metric {metric!r}")
              for model, values in per_query.items()}
    first = next(iter(arrays))
    for model, values in arrays.items():
        if values.shape[1] != arrays[first].shape[1]:
            raise ValueError(f"model {model!r}, metric {metric!r}: {values.shape[1]} queries but "
                             f"model {first!r} has {arrays[first].shape[1]} (the comparison is "
                             f"paired: the same queries in the same order)")
    return arrays


def compare(per_query: Mapping[str, np.ndarray], pairs: Sequence[tuple[str, str]], metric: str,
            primary_pairs: Sequence[tuple[str, str]] = (), n_resamples: int = 10_000,
            seed: int = 0, confidence: float = 0.95, unit: str = "test queries"
            ) -> list[Comparison]:
    """Paired comparisons of models on one metric, in the order of ``pairs``.

    per_query: model -> (seeds, queries) per-query values of ``metric`` (a 1-D array is one
    seed); every model has the same queries in the same order. pairs: ``(model_a, model_b)``
    to compare. primary_pairs: the pairs among them that are primary (decided on their own
    interval); the others are secondary and Holm-adjusted together.
    Every pair uses the same bootstrap resamples (``seed``), over seed-averaged values.
    """
    arrays = _models_checked(per_query, metric)
    pairs = [tuple(pair) for pair in pairs]
    primary = {tuple(pair) for pair in primary_pairs}
    if not pairs:
        raise ValueError(f"metric {metric!r}: no pairs to compare")
    if len(set(pairs)) != len(pairs):
        raise ValueError(f"metric {metric!r}: a pair is listed twice in {pairs}")
    for pair in pairs:
        if len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(f"metric {metric!r}: a pair is two different models, got {pair!r}")
        for model in pair:
            if model not in arrays:
                raise ValueError(f"metric {metric!r}: model {model!r} has no per-query values "
                                 f"(models: {', '.join(map(str, arrays))})")
    if not primary <= set(pairs):
        raise ValueError(f"metric {metric!r}: primary pair(s) {sorted(primary - set(pairs))} "
                         f"are not among the compared pairs")
    raw = {pair: paired_bootstrap(arrays[pair[0]].mean(0), arrays[pair[1]].mean(0),
                                  n_resamples, seed, confidence) for pair in pairs}
    adjusted = holm({f"{a} vs {b}": raw[(a, b)]["p"] for a, b in pairs if (a, b) not in primary})
    out = []
    for a, b in pairs:
        r = raw[(a, b)]
        out.append(Comparison(
            model_a=a, model_b=b, metric=metric, diff=r["diff"], low=r["low"], high=r["high"],
            p=r["p"], p_adjusted=None if (a, b) in primary else adjusted[f"{a} vs {b}"],
            primary=(a, b) in primary, n_queries=arrays[a].shape[1],
            n_seeds_a=arrays[a].shape[0], n_seeds_b=arrays[b].shape[0],
            confidence=confidence, unit=unit))
    return out


def _signed(value: float) -> str:
    """``+3.12`` / ``-0.40``; a value that rounds to zero is ``+0.00``."""
    return f"{round(value, 2) + 0.0:+.2f}"


def _p_text(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def sentence(c: Comparison) -> str:
    """The verdict sentence of one comparison, e.g.

    ``rd wins over cross_attention on MR mAP: +3.12 [+1.05, +5.20] (95 % paired bootstrap over
    1000 test queries, 5 seeds).`` — or ``rd loses to ...``, or ``no decided difference between
    rd and cross_attention on MR mAP: -0.40 [-2.10, +1.30] (...)``. A secondary comparison also
    states its Holm-adjusted p.
    """
    name = display_name(c.metric)
    if c.winner == c.model_a:
        head = f"{c.model_a} wins over {c.model_b} on {name}"
    elif c.winner == c.model_b:
        head = f"{c.model_a} loses to {c.model_b} on {name}"
    else:
        head = f"no decided difference between {c.model_a} and {c.model_b} on {name}"
    numbers = f"{_signed(c.diff)} [{_signed(c.low)}, {_signed(c.high)}]"
    seeds = (f"{c.n_seeds_a} seed{'s' if c.n_seeds_a != 1 else ''}" if c.n_seeds_a == c.n_seeds_b
             else f"{c.n_seeds_a} and {c.n_seeds_b} seeds")
    detail = (f"{100 * c.confidence:g} % paired bootstrap over {c.n_queries} {c.unit}, {seeds}")
    if not c.primary:
        p_adj = c.p_adjusted if c.p_adjusted is not None else float("nan")
        detail += f"; Holm-adjusted p {_p_text(p_adj)}"
    return f"{head}: {numbers} ({detail})."


def verdict_paragraph(comparisons: Sequence[Comparison]) -> str:
    """A markdown bullet list of the sentences: primary comparisons first, then secondary ones,
    each in the given order."""
    ordered = [c for c in comparisons if c.primary] + [c for c in comparisons if not c.primary]
    return "\n".join(f"- {sentence(c)}" for c in ordered)


def mean_std(per_query: Mapping[str, Mapping[str, np.ndarray]], metrics: Sequence[str]
             ) -> dict[str, dict[str, dict]]:
    """model -> metric -> ``{"mean", "std", "n"}`` over seeds of the per-seed aggregate (the
    mean over queries of each seed), rounded to 2 decimals (sample std; 0 for one seed).

    per_query: model -> metric -> (seeds, queries) array.
    """
    out: dict[str, dict[str, dict]] = {}
    for model, by_metric in per_query.items():
        out[model] = {}
        for metric in metrics:
            if metric not in by_metric:
                raise ValueError(f"model {model!r}: no per-query values of metric {metric!r}")
            values = check_per_seed(by_metric[metric], f"model {model!r}, metric {metric!r}")
            out[model][metric] = stat(values.mean(1).tolist())
    return out


def mean_std_table(per_query: Mapping[str, Mapping[str, np.ndarray]], metrics: Sequence[str]
                   ) -> str:
    """A markdown table: one row per model, one column per metric, ``mean ± std`` over seeds
    (see :func:`mean_std`; a single seed shows the mean only)."""
    cells = mean_std(per_query, metrics)
    lines = ["| model | " + " | ".join(display_name(m) for m in metrics) + " |",
             "|---|" + "---:|" * len(metrics)]
    for model, row in cells.items():
        lines.append(f"| {model} | " + " | ".join(fmt(row[m]) for m in metrics) + " |")
    return "\n".join(lines)


def _restrict(node, mask: np.ndarray, where: str):
    """``node`` (an array whose last axis is the queries, or a mapping of them) with only the
    queries of ``mask`` (Q,) kept."""
    if isinstance(node, Mapping):
        return {key: _restrict(value, mask, f"{where} / {key!r}" if where else repr(key))
                for key, value in node.items()}
    values = np.asarray(node, dtype=float)
    if values.ndim == 0 or values.shape[-1] != mask.size:
        count = values.shape[-1] if values.ndim else 0
        raise ValueError(f"{where or 'per_query'}: {count} queries but {mask.size} query types")
    return values[..., mask]


def by_type(per_query, types: Sequence[str]) -> dict:
    """Split the query axis by query type: ``{type: per_query restricted to that type}``.

    per_query: an array whose last axis is the queries ((Q,) or (seeds, Q)), or a mapping
    (nested to any depth, e.g. model -> metric -> array) of such arrays; the structure is kept.
    types: (Q,) the type of each query. Types are listed in sorted order.
    """
    types = np.asarray([str(t) for t in types])
    if types.size == 0:
        raise ValueError("by_type: no query types")
    return {name: _restrict(per_query, types == name, "")
            for name in sorted(set(types.tolist()))}


__all__ = ["Comparison", "compare", "sentence", "verdict_paragraph", "mean_std",
           "mean_std_table", "by_type", "display_name", "METRIC_NAMES"]
