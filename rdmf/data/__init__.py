"""Data sets: readers of the real benchmark formats, the HDF5 store, the synthetic benchmark.

Every reader produces :class:`rdmf.data.sample.Sample` objects; :func:`rdmf.data.sample.collate`
turns a list of them into a :class:`rdmf.data.sample.Batch` for the model.
"""

from .sample import Batch, Sample, collate  # noqa: F401
