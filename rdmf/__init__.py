"""RDMF: Reaction-Diffusion Multimodal Fusion for video moment retrieval and highlight detection.

Sub-packages follow the concepts of the project:

- ``rdmf.theory``   symbolic Gray-Scott theory (SymPy): steady states, Turing analysis, lattice modes
- ``rdmf.numerics`` batched PyTorch integrators of Gray-Scott on 1-D lattices and 2-D grids
- ``rdmf.data``     readers (QVHighlights, TVSum, YouTube Highlights), HDF5 store, synthetic benchmark
- ``rdmf.eval``     official metrics (QVHighlights MR/HD, TVSum top-5 mAP, YouTube mAP)
- ``rdmf.model``    the RD fusion layer, attention baselines, DETR decoder, matcher, losses
- ``rdmf.train``    configuration, training loop, checkpoints, evaluation
- ``rdmf.kernels``  fused Triton kernel for the RD integration on CUDA
- ``rdmf.video``    decoding, CLIP feature extraction and prediction on a user's video
"""

import warnings as _warnings

__version__ = "0.1.0"

# transformers imports tqdm.auto, which warns once inside Jupyter kernels without ipywidgets
# ("IProgress not found"); progress bars fall back to text, so the warning is only noise on
# stderr (and would break nbval's output comparison).
_warnings.filterwarnings("ignore", message="IProgress not found")
