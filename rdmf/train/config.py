"""One configuration object per run: the reference defaults of docs/design.md §5, per-data-set presets,
and YAML save/load (unknown or ill-typed fields are errors naming the field)."""

from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from rdmf.io import atomic_write_text
from rdmf.model.rd_fusion import RDSettings as _RD

DATASETS = ("synthetic", "qvhighlights", "tvsum", "youtube")


@dataclass
class TrainConfig:
    """Every setting of a run. Defaults are the Moment-DETR / QD-DETR reference (docs/design.md §5)."""

    # data
    dataset: str = "synthetic"
    data_root: str | None = None
    domain: str | None = None           # TVSum / YouTube: one model per domain
    size: str = "ci"                    # synthetic set size
    data_seed: int = 0                  # seed of the synthetic generator
    data_clip_noise: float = 1.0        # synthetic clutter/noise scale (1.0 = default difficulty)
    train_split: str = "train"
    val_split: str = "val"
    clip_len_s: float = 2.0
    max_clips: int | None = 75          # QVHighlights' cap; None for TVSum / YouTube
    max_text_tokens: int | None = 32    # cap on query tokens; None = no cap
    video_feature_types: list[str] | None = None  # QVHighlights: feature folders to read, e.g.
    #                                     ["clip"] for a model `rdmf predict` can run; None = the
    #                                     data set's default (SlowFast + CLIP); recorded in the
    #                                     checkpoint's feature spec
    video_dim: int | None = None        # filled from the data at train time
    text_dim: int | None = None

    # model
    fusion: str = "rd"
    hidden: int = 256
    heads: int = 8
    enc_layers: int = 2
    dec_layers: int = 2
    ffn_dim: int = 1024
    dropout: float = 0.1
    input_dropout: float = 0.5
    num_queries: int = 10
    aux_loss: bool = True
    cross_layers: int = 2               # cross_attention fusion: text-to-video layers
    hd_only: bool = False               # TVSum / YouTube: saliency losses only, no decoder
    saliency_head: str = "linear"       # "linear" (Moment-DETR) | "text_dot" (QD-DETR)
    decoder_queries: str = "learned"    # "learned": Moment-DETR's learned query positions;
    #                                     "anchors": learned (center, width) anchors refined per
    #                                     layer (DAB-DETR); "proposals": two-stage, anchors seeded
    #                                     by dense clip proposals (rdmf.model.proposals)
    loss_proposal: float = 1.0          # "proposals": weight of the dense proposal losses

    # RDMF layer (fusion = "rd")
    # (defaults: those of RDSettings, the layer's own definition; one place to change them)
    rd_channels: int = _RD.channels
    rd_steps: int = _RD.steps
    rd_scheme: str = _RD.scheme
    rd_text_kinetics: bool = _RD.text_kinetics
    rd_diffusion: bool = _RD.diffusion
    rd_reaction: bool = _RD.reaction
    rd_learn_kinetics: bool = _RD.learn_kinetics
    rd_F_range: tuple[float, float] = _RD.F_range
    rd_k_range: tuple[float, float] = _RD.k_range
    rd_sigma_range: tuple[float, float] = _RD.sigma_range
    rd_dt_range: tuple[float, float] = _RD.dt_range
    rd_r_max: float = _RD.r_max
    rd_F_init: tuple[float, float] = _RD.F_init
    rd_k_init: tuple[float, float] = _RD.k_init
    rd_sigma_init: float = _RD.sigma_init
    rd_dt_init: float = _RD.dt_init
    rd_r_init: float = _RD.r_init
    rd_explicit_on_violation: str = _RD.explicit_on_violation

    # losses and matching (docs/design.md §5)
    loss_span: float = 10.0
    loss_giou: float = 1.0
    loss_class: float = 4.0
    background_weight: float = 0.1
    loss_saliency: float = 1.0
    saliency_margin: float = 0.2
    loss_dense_saliency: float = 0.0    # dense BCE of the saliency score vs relevant clips (UMT/UniVTG); 0 = off
    query_negatives: bool = False       # QD-DETR: text rolled by one inside the batch
    loss_negative: float = 1.0
    match_span: float = 10.0
    match_giou: float = 1.0
    match_class: float = 4.0

    # optimisation
    lr: float = 1e-4
    weight_decay: float = 1e-4
    batch_size: int = 32
    epochs: int = 200
    grad_clip: float = 0.1
    lr_drop_epochs: int | None = None   # StepLR(gamma 0.1) every N epochs; None = constant lr
    seed: int = 0
    device: str = "auto"                # "auto" | "cpu" | "cuda" | "cuda:N"
    amp: bool = True                    # bfloat16 autocast on CUDA (ignored on CPU)
    eval_every: int = 1
    eval_batch_size: int = 64
    progress: bool = True               # tqdm bars
    metric: str | None = None           # None = the data set's reference metric

    def __post_init__(self):
        self.validate()

    # ------------------------------------------------------------------------------------
    def validate(self) -> "TrainConfig":
        from rdmf.model.fusion import FUSIONS
        if self.dataset not in DATASETS:
            raise ValueError(f"config.dataset: unknown data set {self.dataset!r}; choose one of "
                             f"{', '.join(DATASETS)}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"config.fusion: unknown fusion {self.fusion!r}; choose one of "
                             f"{', '.join(FUSIONS)}")
        for name in ("hidden", "heads", "num_queries", "batch_size", "eval_batch_size",
                     "eval_every", "rd_channels", "enc_layers", "dec_layers", "ffn_dim",
                     "cross_layers", "epochs"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"config.{name} must be ≥ 1, got {getattr(self, name)}")
        for name in ("max_clips", "max_text_tokens", "lr_drop_epochs"):
            value = getattr(self, name)
            if value is not None and int(value) < 1:
                raise ValueError(f"config.{name} must be ≥ 1 or null (null = "
                                 f"{_NULL_MEANS[name]}), got {value}")
        for name in ("dropout", "input_dropout"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"config.{name} is a probability: it must be in [0, 1], got "
                                 f"{getattr(self, name)}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"config.lr must be a finite number > 0, got {self.lr}")
        for name in ("weight_decay", "grad_clip"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ValueError(f"config.{name} must be a finite number ≥ 0, got "
                                 f"{getattr(self, name)}")
        if not (math.isfinite(self.clip_len_s) and self.clip_len_s > 0):
            raise ValueError(f"config.clip_len_s must be > 0, got {self.clip_len_s}")
        if not _DEVICE.fullmatch(self.device):
            raise ValueError(f"config.device: unknown device {self.device!r}; choose auto, cpu, "
                             "cuda or cuda:N")
        if self.metric is not None and self.metric not in self.metric_choices():
            raise ValueError(f"config.metric: {self.metric!r} is not a metric of the "
                             f"{self.dataset} data set{' (hd_only)' if self.hd_only else ''}; "
                             f"choose one of {', '.join(self.metric_choices())}")
        if self.decoder_queries not in ("learned", "anchors", "proposals"):
            raise ValueError(f"config.decoder_queries: unknown kind {self.decoder_queries!r}; "
                             "choose one of learned, anchors, proposals")
        if self.saliency_head not in ("linear", "text_dot"):
            raise ValueError(f"config.saliency_head: unknown kind {self.saliency_head!r}; choose "
                             "one of linear, text_dot")
        if self.hidden % self.heads:
            raise ValueError(f"config.hidden ({self.hidden}) must be divisible by config.heads "
                             f"({self.heads})")
        if not self.clip_len_s > 0:
            raise ValueError(f"config.clip_len_s must be > 0 (seconds per clip), got "
                             f"{self.clip_len_s}")
        if self.video_feature_types is not None:
            types = self.video_feature_types
            if (not isinstance(types, (list, tuple)) or not types
                    or not all(isinstance(t, str) and t for t in types)):
                raise ValueError("config.video_feature_types must be a non-empty list of feature "
                                 f"type names (e.g. [clip]), got {types!r}")
            if self.dataset != "qvhighlights":
                raise ValueError("config.video_feature_types applies to the qvhighlights data set "
                                 f"only (dataset is {self.dataset!r})")
        if not (self.loss_dense_saliency >= 0):
            raise ValueError(f"config.loss_dense_saliency must be ≥ 0, got {self.loss_dense_saliency}")
        if self.fusion == "rd":
            self.rd_settings().validate()
        return self

    def rd_settings(self):
        from rdmf.model.rd_fusion import RDSettings
        return RDSettings(**{f.name: getattr(self, "rd_" + f.name)
                             for f in fields(RDSettings)})

    def metric_choices(self) -> tuple[str, ...]:
        """The val metrics this config's data set reports (the names ``metric`` may take)."""
        if self.dataset in ("tvsum", "youtube"):
            return ("top5-mAP",) if self.dataset == "tvsum" else ("mAP",)
        from rdmf.eval.qvhighlights import BRIEF_HL_KEYS, BRIEF_MR_KEYS
        return BRIEF_HL_KEYS if self.hd_only else BRIEF_MR_KEYS + BRIEF_HL_KEYS

    @property
    def metric_name(self) -> str:
        if self.metric:
            return self.metric
        return {"tvsum": "top5-mAP", "youtube": "mAP"}.get(self.dataset, "MR-full-mAP")

    def replace(self, **changes: Any) -> "TrainConfig":
        return from_dict({**to_dict(self), **changes})


_DEVICE = re.compile(r"auto|cpu|cuda(:[0-9]+)?")
#: what ``null`` means for the optional counts (0 is refused: it would be ambiguous)
_NULL_MEANS = {"max_clips": "no cap", "max_text_tokens": "no cap",
               "lr_drop_epochs": "never drop the learning rate"}


#: per-data-set presets: changes to the reference defaults
PRESETS: dict[str, dict[str, Any]] = {
    # the embedded synthetic set (QVHighlights layout): a CPU recipe that learns in a minute per
    # fusion (docs/training.md, "Short run"): a 64-d model, batch 4, lr 1e-3, no dropout, gradient
    # clip 1.0, QD-DETR's text-conditioned saliency read-out, a dense per-clip relevance loss and
    # two-stage proposal queries (the reference decoder's learned queries do not localise within
    # a few thousand steps)
    "synthetic": {"dataset": "synthetic", "hidden": 64, "heads": 4, "ffn_dim": 256,
                  "dropout": 0.0, "input_dropout": 0.0, "lr": 1e-3, "batch_size": 4,
                  "epochs": 12, "grad_clip": 1.0, "saliency_head": "text_dot",
                  "loss_dense_saliency": 1.0, "decoder_queries": "proposals"},
    # the reference protocol of Moment-DETR / QD-DETR on QVHighlights
    "qvhighlights": {"dataset": "qvhighlights"},
    # QD-DETR's TVSum script: one model per domain, batch 4, lr 1e-3, 2000 epochs, HD only, no cap
    "tvsum": {"dataset": "tvsum", "hd_only": True, "max_clips": None, "batch_size": 4,
              "lr": 1e-3, "epochs": 2000, "domain": "BK"},
    # YouTube Highlights: same recipe as TVSum (one model per domain, HD only, no cap)
    "youtube": {"dataset": "youtube", "hd_only": True, "max_clips": None, "batch_size": 4,
                "lr": 1e-3, "epochs": 2000, "domain": "dog"},
}


def preset(name: str, **overrides: Any) -> TrainConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return from_dict({**PRESETS[name], **overrides})


def to_dict(config: TrainConfig) -> dict[str, Any]:
    """Plain dict (tuples as lists), safe for YAML and for ``torch.load(weights_only=True)``."""
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(config).items()}


def from_dict(data: dict[str, Any], source: str = "config") -> TrainConfig:
    known = {f.name: f for f in fields(TrainConfig)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"{source}: unknown field(s) {', '.join(unknown)}")
    clean = {}
    for key, value in data.items():
        clean[key] = _typed(key, value, known[key], source)
    try:
        return TrainConfig(**clean)
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None


def _typed(key: str, value: Any, field: dataclasses.Field, source: str) -> Any:
    """``value`` checked against the field's annotation (``int``, ``float | None``, a tuple of
    floats, ...); a bool is not a number and a number is not a bool."""
    default = field.default
    if isinstance(default, tuple):
        if (not isinstance(value, (list, tuple)) or len(value) != len(default)
                or not all(_is_number(v) for v in value)):
            raise ValueError(f"{source}: field {key} must be a list of {len(default)} numbers, "
                             f"got {value!r}")
        return tuple(float(v) for v in value)
    kinds = [part.strip() for part in str(field.type).split("|")]
    if value is None:
        if "None" in kinds:
            return None
        raise ValueError(f"{source}: field {key} may not be null")
    kind = next(k for k in kinds if k != "None")
    shown = f"the boolean {str(value).lower()}" if isinstance(value, bool) else repr(value)
    if kind == "bool" and not isinstance(value, bool):
        raise ValueError(f"{source}: field {key} must be true or false, got {value!r}")
    if kind == "int" and not (isinstance(value, int) and not isinstance(value, bool)):
        raise ValueError(f"{source}: field {key} must be an integer"
                         f"{' or null' if 'None' in kinds else ''}, got {shown}")
    if kind == "float":
        if not _is_number(value):
            raise ValueError(f"{source}: field {key} must be a number"
                             f"{' or null' if 'None' in kinds else ''}, got {shown}")
        return float(value)
    if kind == "str" and isinstance(value, os.PathLike):
        value = os.fspath(value)
    if kind == "str" and not isinstance(value, str):
        raise ValueError(f"{source}: field {key} must be a string, got {shown}")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def save_config(config: TrainConfig, path: str | os.PathLike) -> Path:
    return atomic_write_text(path, yaml.safe_dump(to_dict(config), sort_keys=False))


def yaml_error_line(err: yaml.YAMLError) -> str:
    """A YAML error as one line: ``line L, column C: malformed YAML (problem)``."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}malformed YAML ({problem})"


def load_config(path: str | os.PathLike) -> TrainConfig:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such config file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: {yaml_error_line(err)}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of config fields")
    return from_dict(data, source=str(path))
