"""Data sets: readers of the real benchmark formats, the HDF5 store, the synthetic benchmark.

Every reader produces :class:`rdmf.data.sample.Sample` objects; :func:`rdmf.data.sample.collate`
turns a list of them into a :class:`rdmf.data.sample.Batch` for the model.
:func:`build_dataset` is the one entry point (``synthetic``, ``qvhighlights``, ``tvsum``,
``youtube``).
"""

from .sample import Batch, Sample, collate  # noqa: F401
from .datasets import DATASETS, build_dataset  # noqa: F401
