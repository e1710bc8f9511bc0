"""One configuration object per run (:class:`RunConfig`): the reference defaults of
docs/design.md §5 in typed sections, per-data-set presets, and YAML save/load.

Sections: ``data`` (what the readers get), ``model`` (what :func:`rdmf.model.build_model` gets,
holding the RDMF layer's own :class:`~rdmf.model.rd_fusion.RDSettings` as ``model.rd``), ``loss``
(what :class:`~rdmf.model.losses.Criterion` gets), ``optim`` and ``eval``; ``seed``, ``device``,
``amp`` and ``progress`` belong to the whole run.

Every way in goes through :func:`to_nested`, the one converter: it takes nested sections, dotted
names (``model.rd.steps``) and the flat names of the single-level layout that earlier run
folders, result.json files and checkpoints record (``hidden``, ``rd_steps``, ``eval_every``).
Unknown or ill-typed fields are errors naming the field (a bool is not a number).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import yaml

from rdmf.data import DATASETS
from rdmf.io import atomic_write_text
from rdmf.model.fusion import FUSIONS
from rdmf.model.heads import SaliencyHead
from rdmf.model.losses import SALIENCY_LOSSES
from rdmf.model.model import DECODER_QUERIES
from rdmf.model.rd_fusion import RETIRED_FIELDS as RETIRED_RD_FIELDS
from rdmf.model.rd_fusion import RDSettings, upgrade_earlier_layout


@dataclass(frozen=True)
class DataConfig:
    """What the data readers receive (:func:`rdmf.train.datasets.load_split`)."""

    dataset: str = "synthetic"
    data_root: str | None = None
    domain: str | None = None           # TVSum / YouTube: one model per domain
    size: str = "ci"                    # synthetic set size
    seed: int = 0                       # seed of the synthetic generator
    clip_noise: float = 1.0             # synthetic clutter/noise scale (1.0 = default difficulty)
    train_split: str = "train"
    val_split: str = "val"
    clip_len_s: float = 2.0
    max_clips: int | None = 75          # QVHighlights' cap; None for TVSum / YouTube
    max_text_tokens: int | None = 32    # cap on query tokens; None = no cap
    video_feature_types: list[str] | None = None  # QVHighlights: feature folders to read, e.g.
    #                                     [clip] for a model `rdmf predict` can run; None = the
    #                                     data set's default (SlowFast + CLIP); recorded in the
    #                                     checkpoint's feature spec
    h5: bool = True                     # read through the HDF5 store under data/h5/ (written on
    #                                     first use, written again when it records other data);
    #                                     false: the per-file arrays. Same samples either way


@dataclass(frozen=True)
class ModelConfig:
    """What :func:`rdmf.model.build_model` receives."""

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
    video_dim: int | None = None        # filled from the data at train time
    text_dim: int | None = None
    rd: RDSettings = field(default_factory=RDSettings)   # the RDMF layer (fusion = "rd")


@dataclass(frozen=True)
class LossConfig:
    """Loss weights and matching costs (docs/design.md §5): what the Criterion receives."""

    loss_span: float = 10.0
    loss_giou: float = 1.0
    loss_class: float = 4.0
    background_weight: float = 0.1
    loss_saliency: float = 1.0
    saliency_margin: float = 0.2
    saliency_loss: str = "pair_hinge"   # "pair_hinge" (the reference: one hard + one easy pair),
    #                                     "all_pairs" (hinge over every pair of clips whose scores
    #                                     differ), "listwise" (ListNet softmax cross-entropy)
    saliency_temperature: float = 1.0   # listwise: target = softmax(mean annotator score / this)
    loss_dense_saliency: float = 0.0    # dense BCE of the saliency score vs relevant clips (UMT/UniVTG); 0 = off
    query_negatives: bool = False       # QD-DETR: text rolled by one inside the batch
    loss_negative: float = 1.0
    loss_proposal: float = 1.0          # decoder_queries "proposals": weight of the dense proposal losses
    match_span: float = 10.0
    match_giou: float = 1.0
    match_class: float = 4.0


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 1e-4
    weight_decay: float = 1e-4
    batch_size: int = 32
    epochs: int = 200
    grad_clip: float = 0.1
    lr_drop_epochs: int | None = None   # StepLR(gamma 0.1) every N epochs; None = constant lr


@dataclass(frozen=True)
class EvalConfig:
    every: int = 1                      # evaluate every N epochs (and after the last)
    batch_size: int = 64
    metric: str | None = None           # None = the data set's reference metric


@dataclass(frozen=True)
class RunConfig:
    """Every setting of a run. Defaults are the Moment-DETR / QD-DETR reference (docs/design.md §5)."""

    seed: int = 0
    device: str = "auto"                # "auto" | "cpu" | "cuda" | "cuda:N"
    amp: bool = True                    # bfloat16 autocast on CUDA (ignored on CPU)
    progress: bool = True               # tqdm bars
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def __post_init__(self):
        validate(self)

    def metric_choices(self) -> tuple[str, ...]:
        """The val metrics this config's data set reports (the names ``eval.metric`` may take)."""
        if self.data.dataset in ("tvsum", "youtube"):
            return ("top5-mAP",) if self.data.dataset == "tvsum" else ("mAP",)
        from rdmf.eval.qvhighlights import BRIEF_HL_KEYS, BRIEF_MR_KEYS
        return BRIEF_HL_KEYS if self.model.hd_only else BRIEF_MR_KEYS + BRIEF_HL_KEYS

    @property
    def metric_name(self) -> str:
        if self.eval.metric:
            return self.eval.metric
        return {"tvsum": "top5-mAP", "youtube": "mAP"}.get(self.data.dataset, "MR-full-mAP")

    def replace(self, changes: Mapping[str, Any] | None = None, /, **flat: Any) -> "RunConfig":
        """A validated copy with ``changes`` (nested, dotted or flat names: :func:`to_nested`)."""
        return from_dict(merge(to_dict(self), to_nested({**(changes or {}), **flat})))


SECTIONS: dict[str, type] = {"data": DataConfig, "model": ModelConfig, "loss": LossConfig,
                             "optim": OptimConfig, "eval": EvalConfig}


# --- checks ---------------------------------------------------------------------------------
_DEVICE = re.compile(r"auto|cpu|cuda(:[0-9]+)?")
#: what ``null`` means for the optional counts (0 is refused: it would be ambiguous)
_NULL_MEANS = {"data.max_clips": "no cap", "data.max_text_tokens": "no cap",
               "optim.lr_drop_epochs": "never drop the learning rate"}
_AT_LEAST_ONE = ("model.hidden", "model.heads", "model.num_queries", "optim.batch_size",
                 "eval.batch_size", "eval.every", "model.enc_layers", "model.dec_layers",
                 "model.ffn_dim", "model.cross_layers", "optim.epochs")


def _get(config: RunConfig, dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def validate(config: RunConfig) -> RunConfig:
    """Raise a ValueError naming the field (``config.model.hidden``) when a value is out of range."""
    data, model = config.data, config.model
    if data.dataset not in DATASETS:
        raise ValueError(f"config.data.dataset: unknown data set {data.dataset!r}; choose one of "
                         f"{', '.join(DATASETS)}")
    if model.fusion not in FUSIONS:
        raise ValueError(f"config.model.fusion: unknown fusion {model.fusion!r}; choose one of "
                         f"{', '.join(FUSIONS)}")
    for name in _AT_LEAST_ONE:
        if int(_get(config, name)) < 1:
            raise ValueError(f"config.{name} must be ≥ 1, got {_get(config, name)}")
    for name, means in _NULL_MEANS.items():
        value = _get(config, name)
        if value is not None and int(value) < 1:
            raise ValueError(f"config.{name} must be ≥ 1 or null (null = {means}), got {value}")
    for name in ("dropout", "input_dropout"):
        if not 0 <= getattr(model, name) <= 1:
            raise ValueError(f"config.model.{name} is a probability: it must be in [0, 1], got "
                             f"{getattr(model, name)}")
    if not (math.isfinite(config.optim.lr) and config.optim.lr > 0):
        raise ValueError(f"config.optim.lr must be a finite number > 0, got {config.optim.lr}")
    for name in ("weight_decay", "grad_clip"):
        value = getattr(config.optim, name)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"config.optim.{name} must be a finite number ≥ 0, got {value}")
    if not (math.isfinite(data.clip_len_s) and data.clip_len_s > 0):
        raise ValueError(f"config.data.clip_len_s must be > 0 (seconds per clip), got "
                         f"{data.clip_len_s}")
    if not _DEVICE.fullmatch(config.device):
        raise ValueError(f"config.device: unknown device {config.device!r}; choose auto, cpu, "
                         "cuda or cuda:N")
    if config.eval.metric is not None and config.eval.metric not in config.metric_choices():
        raise ValueError(f"config.eval.metric: {config.eval.metric!r} is not a metric of the "
                         f"{data.dataset} data set{' (hd_only)' if model.hd_only else ''}; "
                         f"choose one of {', '.join(config.metric_choices())}")
    if model.decoder_queries not in DECODER_QUERIES:
        raise ValueError(f"config.model.decoder_queries: unknown kind {model.decoder_queries!r}; "
                         f"choose one of {', '.join(DECODER_QUERIES)}")
    if model.saliency_head not in SaliencyHead.KINDS:
        raise ValueError(f"config.model.saliency_head: unknown kind {model.saliency_head!r}; "
                         f"choose one of {', '.join(SaliencyHead.KINDS)}")
    if model.hidden % model.heads:
        raise ValueError(f"config.model.hidden ({model.hidden}) must be divisible by "
                         f"config.model.heads ({model.heads})")
    _check_feature_types(data)
    if not (config.loss.loss_dense_saliency >= 0):
        raise ValueError(f"config.loss.loss_dense_saliency must be ≥ 0, got "
                         f"{config.loss.loss_dense_saliency}")
    if config.loss.saliency_loss not in SALIENCY_LOSSES:
        raise ValueError(f"config.loss.saliency_loss: unknown kind {config.loss.saliency_loss!r}; "
                         f"choose one of {', '.join(SALIENCY_LOSSES)}")
    if not (math.isfinite(config.loss.saliency_temperature)
            and config.loss.saliency_temperature > 0):
        raise ValueError(f"config.loss.saliency_temperature must be a finite number > 0, got "
                         f"{config.loss.saliency_temperature}")
    if model.fusion == "rd":
        model.rd.validate()
    return config


def _check_feature_types(data: DataConfig) -> None:
    types = data.video_feature_types
    if types is None:
        return
    if (not isinstance(types, (list, tuple)) or not types
            or not all(isinstance(t, str) and t for t in types)):
        raise ValueError("config.data.video_feature_types must be a non-empty list of feature "
                         f"type names (e.g. [clip]), got {types!r}")
    if data.dataset != "qvhighlights":
        raise ValueError("config.data.video_feature_types applies to the qvhighlights data set "
                         f"only (dataset is {data.dataset!r})")


# --- the converter: flat and dotted names -> nested sections ----------------------------------
#: flat names of the single-level layout whose dotted name is not ``<section>.<same name>``
_RENAMED = {"data_seed": "data.seed", "data_clip_noise": "data.clip_noise",
            "eval_every": "eval.every", "eval_batch_size": "eval.batch_size",
            "metric": "eval.metric"}


def _flat_names() -> dict[str, str]:
    """Every flat name -> its dotted name (``hidden`` -> ``model.hidden``, ``rd_steps`` ->
    ``model.rd.steps``, ``seed`` -> ``seed``)."""
    names = {f.name: f.name for f in fields(RunConfig) if f.name not in SECTIONS}
    for section, cls in SECTIONS.items():   # the run's own fields first: ``seed`` is the run's
        for f in fields(cls):
            if f.name != "rd":
                names.setdefault(f.name, f"{section}.{f.name}")
    names.update({"rd_" + f.name: "model.rd." + f.name for f in fields(RDSettings)})
    for old, new in _RENAMED.items():
        short = new.rsplit(".", 1)[1]
        if names.get(short) == new:
            del names[short]
        names[old] = new
    return names


#: flat names of the earlier RD-layer layout's fields (read from stored configs only)
_RETIRED_FLAT = {"rd_" + name: "model.rd." + name for name in RETIRED_RD_FIELDS}


def to_nested(data: Mapping[str, Any]) -> dict[str, Any]:
    """The converter: a mapping of config fields in any of the accepted spellings -> the nested
    dict of :class:`RunConfig`'s sections.

    Accepted keys: a section name with a mapping (``model: {hidden: 64, rd: {steps: 8}}``), a
    dotted name (``model.rd.steps``), or a flat name of the single-level layout
    (``hidden``, ``rd_steps``, ``data_seed``, ``eval_every``; :data:`FLAT_NAMES`). Unknown names
    are left in place for :func:`from_dict` to report.
    """
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECTIONS and isinstance(value, Mapping):
            inner = dict(value)
            if key == "model" and isinstance(inner.get("rd"), Mapping):
                inner["rd"] = dict(inner["rd"])
            out = merge(out, {key: inner})
            continue
        path = FLAT_NAMES.get(key, _RETIRED_FLAT.get(key, key)).split(".")
        nested: Any = value
        for part in reversed(path[1:]):
            nested = {part: nested}
        out = merge(out, {path[0]: nested})
    return out


def merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` applied, mappings merged key by key."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested dict as ``{dotted name: value}``."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


# --- presets ----------------------------------------------------------------------------------
#: per-data-set presets: changes to the reference defaults
PRESETS: dict[str, dict[str, Any]] = {
    # the embedded synthetic set (QVHighlights layout): a CPU recipe that learns in a minute per
    # fusion (docs/training.md, "Short run"): a 64-d model, batch 4, lr 1e-3, no dropout, gradient
    # clip 1.0, QD-DETR's text-conditioned saliency read-out, a dense per-clip relevance loss and
    # two-stage proposal queries (the reference decoder's learned queries do not localise within
    # a few thousand steps)
    "synthetic": {"data": {"dataset": "synthetic"},
                  "model": {"hidden": 64, "heads": 4, "ffn_dim": 256, "dropout": 0.0,
                            "input_dropout": 0.0, "saliency_head": "text_dot",
                            "decoder_queries": "proposals"},
                  "loss": {"loss_dense_saliency": 1.0},
                  "optim": {"lr": 1e-3, "batch_size": 4, "epochs": 12, "grad_clip": 1.0}},
    # the reference protocol of Moment-DETR / QD-DETR on QVHighlights
    "qvhighlights": {"data": {"dataset": "qvhighlights"}},
    # QD-DETR's TVSum script: one model per domain, batch 4, lr 1e-3, 2000 epochs, HD only, no cap
    # (the saliency loss: every pair of clips whose scores differ, rather than the reference's
    # one pair per video, which is exactly 0 in ~90 % of TVSum steps; docs/training.md)
    "tvsum": {"data": {"dataset": "tvsum", "max_clips": None, "domain": "BK"},
              "model": {"hd_only": True}, "loss": {"saliency_loss": "all_pairs"},
              "optim": {"batch_size": 4, "lr": 1e-3, "epochs": 2000}},
    # YouTube Highlights: same recipe as TVSum (one model per domain, HD only, no cap)
    "youtube": {"data": {"dataset": "youtube", "max_clips": None, "domain": "dog"},
                "model": {"hd_only": True}, "loss": {"saliency_loss": "all_pairs"},
                "optim": {"batch_size": 4, "lr": 1e-3, "epochs": 2000}},
}


def preset(name: str, changes: Mapping[str, Any] | None = None, /, **flat: Any) -> RunConfig:
    """The preset ``name`` with ``changes`` (any spelling :func:`to_nested` accepts)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return from_dict(merge(PRESETS[name], to_nested({**(changes or {}), **flat})))


def run_config(changes: Mapping[str, Any] | None = None, /, **flat: Any) -> RunConfig:
    """The reference defaults with ``changes`` (any spelling :func:`to_nested` accepts)."""
    return from_dict(to_nested({**(changes or {}), **flat}))


# --- dicts and YAML ---------------------------------------------------------------------------
def to_dict(config: RunConfig) -> dict[str, Any]:
    """Nested plain dict (tuples as lists), safe for YAML and ``torch.load(weights_only=True)``."""
    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return list(value) if isinstance(value, (tuple, list)) else value
    return plain(dataclasses.asdict(config))


def from_dict(data: Mapping[str, Any], source: str = "config") -> RunConfig:
    """A :class:`RunConfig` from nested, dotted or flat fields (:func:`to_nested`); unknown or
    ill-typed fields and out-of-range values are errors naming the field and ``source``."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: expected a mapping of config fields")
    try:
        return _build(RunConfig, to_nested(data), "", source)
    except ValueError as err:
        text = str(err)
        raise ValueError(text if text.startswith(f"{source}:") else f"{source}: {text}") from None


def _build(cls: type, data: Any, prefix: str, source: str):
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: field {prefix.rstrip('.')} must be a mapping of fields, "
                         f"got {data!r}")
    known = {f.name: f for f in fields(cls)}
    if prefix == "model.rd." and set(RETIRED_RD_FIELDS) <= set(data):
        data = upgrade_earlier_layout(dict(data))    # a stored config of the earlier layout
    unknown = sorted(prefix + k for k in set(data) - set(known))
    retired = [name for name in unknown
               if prefix == "model.rd." and name[len(prefix):] in RETIRED_RD_FIELDS]
    if retired:
        raise ValueError(f"{source}: {', '.join(retired)} belong(s) to the earlier RD-layer "
                         "layout (diffusion number r ≤ r_max); this version learns log F, log k, "
                         "log Du, log σ, log dt: set model.rd.Du_range / model.rd.reach_init "
                         "instead (docs/design.md §4)")
    if unknown:
        raise ValueError(f"{source}: unknown field(s) {', '.join(unknown)}")
    clean = {}
    for key, value in data.items():
        f = known[key]
        if dataclasses.is_dataclass(f.default_factory if f.default_factory is not
                                    dataclasses.MISSING else None):
            clean[key] = _build(f.default_factory, value, f"{prefix}{key}.", source)
        else:
            clean[key] = _typed(prefix + key, value, f, source)
    return cls(**clean)


def _typed(key: str, value: Any, f: dataclasses.Field, source: str) -> Any:
    """``value`` checked against the field's annotation (``int``, ``float | None``, a tuple of
    floats, ...); a bool is not a number and a number is not a bool."""
    default = f.default
    if isinstance(default, tuple):
        if (not isinstance(value, (list, tuple)) or len(value) != len(default)
                or not all(_is_number(v) for v in value)):
            raise ValueError(f"{source}: field {key} must be a list of {len(default)} numbers, "
                             f"got {value!r}")
        return tuple(float(v) for v in value)
    kinds = [part.strip() for part in str(f.type).split("|")]
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
    if kind.startswith("list") and isinstance(value, tuple):
        value = list(value)
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def save_config(config: RunConfig, path: str | os.PathLike) -> Path:
    return atomic_write_text(path, yaml.safe_dump(to_dict(config), sort_keys=False))


def yaml_error_line(err: yaml.YAMLError) -> str:
    """A YAML error as one line: ``line L, column C: malformed YAML (problem)``."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}malformed YAML ({problem})"


def load_config(path: str | os.PathLike) -> RunConfig:
    """A config.yaml, nested or in the flat layout of earlier runs (:func:`to_nested`)."""
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


FLAT_NAMES: dict[str, str] = _flat_names()
