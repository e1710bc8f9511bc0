"""Training and evaluation: one config object, the loops, checkpoints, DDP."""

from rdmf.nonfinite import NonFiniteError  # noqa: F401

from .config import PRESETS, TrainConfig, load_config, preset, save_config  # noqa: F401
from .engine import NonFiniteLossError, evaluate, predict_samples, train  # noqa: F401
