"""Floors and temporal references: models that are not fusions, in the same data, targets and
metrics, reusable on any data set.

- :mod:`rdmf.baselines.models`: ``per_clip`` (no clip sees another), ``conv1d`` and ``bigru``
  (the temporal references), all on one clip-query input layer.
- :mod:`rdmf.baselines.smoother`: the fixed smoother of ``per_clip_smooth``.
- :mod:`rdmf.baselines.fit`: :func:`fit_predict`, fitting any of them (and the trivial
  predictors of :mod:`rdmf.data.trivial`) on lists of samples.

Descriptions: ``docs/baselines.md``.
"""

from .fit import BASELINES, FloorConfig, FloorResult, evaluate_rows, fit_predict  # noqa: F401
from .models import MODELS, build_floor, parameter_count  # noqa: F401
from .smoother import SMOOTH_WIDTHS, smooth_scores  # noqa: F401
