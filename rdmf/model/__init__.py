"""The model: RDMF fusion layer, attention baselines, transformer, heads, matcher and losses."""

from .fusion import FUSIONS, build_fusion  # noqa: F401
from .model import MomentModel, build_model  # noqa: F401
from .rd_fusion import RDFusion, RDSettings  # noqa: F401
