"""Training and evaluation: one config object, the loops, checkpoints, DDP."""

from rdmf.nonfinite import NonFiniteError  # noqa: F401

from .config import PRESETS, RunConfig, load_config, preset, run_config, save_config  # noqa: F401
from .engine import NonFiniteLossError, evaluate, predict_samples, train  # noqa: F401
