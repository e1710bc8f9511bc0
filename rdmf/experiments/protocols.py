"""What each profile runs: the shards of every experiment group and their training budgets.

A *shard* is one training run: data set × fusion × seed [× domain / fold / variant / noise].
Its id is derived from its content only (not from the group that asked for it), so that two
groups needing the same run (e.g. the synthetic comparison and the robustness sweep at the
default noise) share one result.

Profiles (see docs/experiments.md):

- ``ci``: tiny models and subsets, seconds per group; what the stored notebook outputs show.
- ``default``: a reader's CPU run (notebooks 06-08 together within ~12 minutes on 2 cores).
- ``paper``: the protocol sized for 2 shared CPU cores. It is a REDUCED
  budget; :func:`deviations` lists every difference from the published protocol, and every
  table prints it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rdmf.paths import check_profile

GROUPS = ("synthetic", "synthetic_short", "tvsum", "youtube", "ablations", "robustness")
FUSIONS = ("rd", "concat", "cross_attention")
TVSUM_DOMAINS = ("VT", "VU", "GA", "MS", "PK", "PR", "FM", "BK", "BT", "DS")
YOUTUBE_DOMAINS = ("dog", "parkour")
#: QD-DETR's TVSum seeds
PUBLISHED_TVSUM_SEEDS = (0, 1, 2, 3, 2017)

#: RDMF ablations: name -> TrainConfig overrides (fusion = rd). "default" is the reference layer.
ABLATIONS: dict[str, dict[str, Any]] = {
    "default": {},
    "no_diffusion": {"rd_diffusion": False},
    "no_reaction": {"rd_reaction": False},
    "K1": {"rd_steps": 1},
    "K4": {"rd_steps": 4},
    "K16": {"rd_steps": 16},
    "fixed_kinetics": {"rd_learn_kinetics": False, "rd_text_kinetics": False},
    "no_text_kinetics": {"rd_text_kinetics": False},
    "explicit_euler": {"rd_scheme": "explicit"},
    # the reference dt range (≤ 2) breaks explicit Euler's step condition at once; this variant
    # keeps dt where dt (v² + F) ≤ 1 − 2 r can hold for v ≤ 1
    "explicit_euler_small_dt": {"rd_scheme": "explicit", "rd_dt_range": (0.05, 0.45),
                                "rd_dt_init": 0.4},
    "dct_splitting": {"rd_scheme": "dct"},
}
ABLATION_LABELS = {
    "default": "RDMF (semi-implicit, K = 8, learnable + text-conditioned kinetics)",
    "no_diffusion": "no diffusion (Du = Dv = 0)",
    "no_reaction": "no reaction (diffusion only)",
    "K1": "K = 1", "K4": "K = 4", "K16": "K = 16",
    "fixed_kinetics": "fixed kinetics (not learned, no text shift)",
    "no_text_kinetics": "learnable kinetics, no text conditioning",
    "explicit_euler": "explicit Euler (reference dt range ≤ 2)",
    "explicit_euler_small_dt": "explicit Euler, dt ≤ 0.45",
    "dct_splitting": "DCT diffusion + reaction splitting",
}


@dataclass(frozen=True)
class Shard:
    """One training run. ``fold`` (TVSum): ``"std"`` = the published 4/1 split; ``"loo<i>"``
    (i = 0..3) = the i-th (sorted by id) of the domain's 4 other videos is the val video and the
    remaining 4 train, so that std + loo0..loo3 is a leave-one-video-out over all 5 videos."""

    dataset: str
    fusion: str
    seed: int
    domain: str | None = None
    fold: str | None = None
    variant: str = "default"
    noise: float = 1.0
    tag: str = ""          # a group's own budget tag (keeps its runs apart from other groups')

    @property
    def id(self) -> str:
        parts = [self.dataset]
        if self.domain:
            parts.append(self.domain)
        if self.fold:
            parts.append(self.fold)
        if self.noise != 1.0:
            parts.append(f"noise{self.noise:g}")
        parts.append(self.fusion if self.variant == "default" else f"{self.fusion}-{self.variant}")
        parts.append(f"seed{self.seed}")
        if self.tag:
            parts.append(self.tag)
        return "_".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Budget:
    """Training budget and model size of a group in one profile (same for every fusion)."""

    epochs: int
    seeds: tuple[int, ...]
    overrides: dict[str, Any] = field(default_factory=dict)
    n_train: int | None = None        # subset of the train split (None = all)
    n_val: int | None = None
    domains: tuple[str, ...] = ()
    folds: tuple[str, ...] = ("std",)
    variants: tuple[str, ...] = ("default",)
    noises: tuple[float, ...] = (1.0,)
    fusions: tuple[str, ...] = FUSIONS
    size: str = "ci"                  # synthetic set size
    tag: str = ""                     # appended to shard ids: a budget that other groups must
                                      # not share (e.g. more epochs than the ablations)


_TINY = {"hidden": 32, "heads": 4, "ffn_dim": 64, "num_queries": 5, "eval_batch_size": 32}
_SMALL = {"hidden": 64, "heads": 4, "ffn_dim": 256}
_MID = {"hidden": 128, "heads": 8, "ffn_dim": 512}

PROFILES: dict[str, dict[str, Budget]] = {
    "ci": {
        "synthetic": Budget(epochs=2, seeds=(0,), n_train=64, n_val=32,
                            overrides={**_TINY, "batch_size": 16, "lr": 1e-3}),
        "tvsum": Budget(epochs=3, seeds=(0,), domains=("BK",), overrides=_TINY),
        "youtube": Budget(epochs=2, seeds=(0,), domains=("parkour",), n_train=8, n_val=4,
                          overrides=_TINY),
        "ablations": Budget(epochs=2, seeds=(0,), n_train=64, n_val=32, fusions=("rd",),
                            variants=("default", "no_diffusion", "K1"),
                            overrides={**_TINY, "batch_size": 16, "lr": 1e-3}),
        "robustness": Budget(epochs=2, seeds=(0,), n_train=64, n_val=32, noises=(1.0,),
                             overrides={**_TINY, "batch_size": 16, "lr": 1e-3}),
    },
    "default": {
        # synthetic groups: the synthetic preset's CPU recipe as it is (the short run of the
        # "learns for real" test), on the whole CI set
        "synthetic": Budget(epochs=12, seeds=(0,)),
        "tvsum": Budget(epochs=10, seeds=(0,), domains=TVSUM_DOMAINS, overrides=_SMALL),
        "youtube": Budget(epochs=3, seeds=(0,), domains=YOUTUBE_DOMAINS, overrides=_SMALL),
        "ablations": Budget(epochs=12, seeds=(0,), fusions=("rd",),
                            variants=("default", "no_diffusion", "no_reaction", "K1",
                                      "fixed_kinetics")),
        "robustness": Budget(epochs=12, seeds=(0,), noises=(1.0, 2.0)),
    },
    "paper": {
        # the main comparison at 30 epochs (tag: not shared with the 12-epoch ablation /
        # robustness runs, whose noise-1 rows are the same comparison at the preset's 12)
        "synthetic": Budget(epochs=30, seeds=(0, 1, 2), tag="e30"),
        # the same comparison at the synthetic preset's 12 epochs (shares their seed-0 runs)
        "synthetic_short": Budget(epochs=12, seeds=(0, 1, 2)),
        "tvsum": Budget(epochs=20, seeds=(0,), domains=TVSUM_DOMAINS,
                        folds=("std", "loo0", "loo1", "loo2", "loo3"), overrides={}),
        "youtube": Budget(epochs=10, seeds=(0,), domains=YOUTUBE_DOMAINS, overrides={}),
        "ablations": Budget(epochs=12, seeds=(0,), fusions=("rd",), variants=tuple(ABLATIONS)),
        "robustness": Budget(epochs=12, seeds=(0,), noises=(0.5, 1.0, 2.0)),
    },
}

GROUP_DATASET = {"synthetic": "synthetic", "synthetic_short": "synthetic", "tvsum": "tvsum",
                 "youtube": "youtube",
                 "ablations": "synthetic", "robustness": "synthetic"}
PRESET = {"synthetic": "synthetic", "tvsum": "tvsum", "youtube": "youtube"}
# ci and default: the short comparison IS the synthetic comparison (same shards, no extra cost)
for _name in ("ci", "default"):
    PROFILES[_name]["synthetic_short"] = PROFILES[_name]["synthetic"]


def budget(profile: str, group: str) -> Budget:
    check_profile(profile)
    if group not in GROUPS:
        raise ValueError(f"unknown experiment group {group!r}; choose one of {', '.join(GROUPS)}")
    return PROFILES[profile][group]


def shards(profile: str, group: str) -> list[Shard]:
    """Every shard of ``group`` under ``profile``, in run order (seeds outermost, so a partial
    run covers all fusions of the first seed first)."""
    b = budget(profile, group)
    dataset = GROUP_DATASET[group]
    out = []
    for seed in b.seeds:
        if group in ("tvsum", "youtube"):
            for fold in (b.folds if group == "tvsum" else (None,)):
                for domain in b.domains:
                    for fusion in b.fusions:
                        out.append(Shard(dataset, fusion, seed, domain=domain, fold=fold))
        elif group == "ablations":
            for variant in b.variants:
                out.append(Shard(dataset, "rd", seed, variant=variant))
        elif group == "robustness":
            for noise in b.noises:
                for fusion in b.fusions:
                    out.append(Shard(dataset, fusion, seed, noise=noise))
        else:
            for fusion in b.fusions:
                out.append(Shard(dataset, fusion, seed, tag=b.tag))
    return out


def shard_config(profile: str, group: str, shard: Shard, data_root: str | None = None):
    """The :class:`rdmf.train.TrainConfig` of a shard: the data set's preset, the profile's
    budget overrides, the variant's RDMF overrides. Same budget for every fusion."""
    from rdmf.train.config import preset
    b = budget(profile, group)
    changes: dict[str, Any] = {**b.overrides, "fusion": shard.fusion, "seed": shard.seed,
                               "epochs": b.epochs, "progress": False, "device": "cpu"}
    if shard.dataset == "synthetic":
        changes["size"] = b.size
    else:
        changes["domain"] = shard.domain
        if data_root is not None:
            changes["data_root"] = str(data_root)
    if shard.variant != "default":
        if shard.variant not in ABLATIONS:
            raise ValueError(f"unknown ablation variant {shard.variant!r}; choose one of "
                             f"{', '.join(ABLATIONS)}")
        changes.update(ABLATIONS[shard.variant])
        if shard.variant.startswith("explicit_euler"):
            changes["rd_explicit_on_violation"] = "raise"
    return preset(PRESET[shard.dataset], **changes)


def deviations(profile: str, group: str) -> list[str]:
    """Plain-language differences between this profile's budget and the published protocol."""
    from rdmf.train.config import PRESETS
    b = budget(profile, group)
    out = []
    ref_hidden = 256
    settings = {**PRESETS[PRESET[GROUP_DATASET[group]]], **b.overrides}
    hidden = settings.get("hidden", ref_hidden)
    if hidden != ref_hidden:
        out.append(f"hidden width {hidden} (reference 256, FFN {settings.get('ffn_dim', 1024)} "
                   "vs 1024)")
    if group in ("synthetic", "synthetic_short", "ablations", "robustness"):
        out.append(f"synthetic set size {b.size!r}"
                   + (f", first {b.n_train} train / {b.n_val} val queries" if b.n_train else "")
                   + f"; {b.epochs} epochs (synthetic preset 12, reference 200)")
        if settings.get("decoder_queries", "learned") != "learned":
            out.append("the synthetic preset's CPU recipe: batch "
                       f"{settings.get('batch_size', 32)}, lr {settings.get('lr', 1e-4):g}, no "
                       "dropout, text-conditioned saliency read-out, dense clip loss, decoder queries "
                       f"'{settings['decoder_queries']}' (reference: learned queries)")
        if len(b.seeds) < 3:
            out.append(f"seeds {list(b.seeds)} (reference: 3)")
    if group == "tvsum":
        out.append(f"{b.epochs} epochs (QD-DETR: 2000)")
        if tuple(b.seeds) != PUBLISHED_TVSUM_SEEDS:
            out.append(f"seeds {list(b.seeds)} (QD-DETR: 0, 1, 2, 3, 2017)")
        if tuple(b.domains) != TVSUM_DOMAINS:
            out.append(f"domains {list(b.domains)} only (all 10 in the papers)")
        if not any(f.startswith("loo") for f in b.folds):
            out.append("no leave-one-video-out folds: the honest row is the fixed-epoch score "
                       "on the standard val video")
    if group == "youtube":
        out.append(f"{b.epochs} epochs (our TVSum-style recipe otherwise; UMT trains longer)")
        if b.n_train:
            out.append(f"first {b.n_train} train / {b.n_val} val videos")
    return out
