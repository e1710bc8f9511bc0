"""What each profile runs: the shards of every experiment group and their training budgets.

A *shard* is one training run: data set × fusion × seed [× domain / fold / variant / noise].
Its id is derived from its content only (not from the group that asked for it), so that two
groups needing the same run (e.g. the synthetic comparison and the robustness sweep at the
default noise) share one result.

The profiles (``ci``, ``default``, ``paper``) and each one's budgets per group are in
:mod:`rdmf.profiles`; :func:`deviations` lists every difference of a budget from the published
protocol, and every table prints it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rdmf.data.tvsum import TVSUM_DOMAINS
from rdmf.data.youtube import YOUTUBE_DOMAINS
from rdmf.model.fusion import FUSIONS
from rdmf.profiles import PROFILES, check_profile, profile_settings

GROUPS = ("synthetic", "synthetic_short", "tvsum", "youtube", "ablations", "robustness",
          "bench_grid", "bench")
#: the benchmark groups: the same small grid for every model (``bench_grid``, seed 0, selection
#: on val), then every model at its selected grid point over the seeds (``bench``)
BENCH_GROUPS = ("bench_grid", "bench")
#: the learned floors and temporal references (rdmf.baselines) that the benchmark runs beside
#: the fusions
FLOORS = ("per_clip", "per_clip_smooth", "conv1d", "bigru")
#: QD-DETR's TVSum seeds
PUBLISHED_TVSUM_SEEDS = (0, 1, 2, 3, 2017)

#: RDMF ablations: name -> run-config changes (fusion = rd). "default" is the reference layer.
ABLATIONS: dict[str, dict[str, Any]] = {
    "default": {},
    "no_diffusion": {"model.rd.diffusion": False},
    "no_reaction": {"model.rd.reaction": False},
    "K0": {"model.rd.steps": 0},
    "K1": {"model.rd.steps": 1},
    "K4": {"model.rd.steps": 4},
    "K16": {"model.rd.steps": 16},
    # diffusion of the seeds with the initial reaches (1–16 clips), nothing learned, no reaction
    "linear_smoother": {"model.rd.reaction": False, "model.rd.learn_kinetics": False,
                        "model.rd.text_kinetics": False, "model.rd.space_feed": False},
    "fixed_kinetics": {"model.rd.learn_kinetics": False, "model.rd.text_kinetics": False,
                       "model.rd.space_feed": False},
    "no_text_kinetics": {"model.rd.text_kinetics": False},
    "no_space_feed": {"model.rd.space_feed": False},
    "readout_residual": {"model.rd.readout": "residual"},
    "readout_saliency": {"model.rd.readout": "saliency"},
    # the explicit-diffusion schemes need r = Du dt < 1/2: Du ≤ 0.12, dt ≤ 4 (reach ≤ 2.8 clips)
    "semi_implicit": {"model.rd.scheme": "semi_implicit", "model.rd.Du_range": (1e-3, 0.12),
                      "model.rd.dt_range": (0.05, 4.0), "model.rd.dt_init": 4.0,
                      "model.rd.reach_init": (1.0, 2.75)},
    # the same bound; dt ≤ 0.45 keeps dt (v² + F) ≤ 1 − 2 r possible for v ≤ 1
    "explicit_euler_small_dt": {"model.rd.scheme": "explicit", "model.rd.Du_range": (1e-3, 0.5),
                                "model.rd.dt_range": (0.05, 0.45), "model.rd.dt_init": 0.4,
                                "model.rd.reach_init": (1.0, 1.75)},
}
ABLATION_LABELS = {
    "default": "RDMF (DCT diffusion + semi-implicit reaction, K = 8, learnable + "
               "text-conditioned kinetics, space-varying feed, gate read-out)",
    "no_diffusion": "no diffusion (Du = Dv = 0)",
    "no_reaction": "no reaction (diffusion only)",
    "K0": "K = 0 (read-out of the seeds)", "K1": "K = 1", "K4": "K = 4", "K16": "K = 16",
    "linear_smoother": "fixed linear smoother of the seeds (diffusion, reaches 1–16 clips)",
    "fixed_kinetics": "fixed kinetics (not learned, no text shift, no space feed)",
    "no_text_kinetics": "learnable kinetics, no text conditioning",
    "no_space_feed": "feed constant along the clips",
    "readout_residual": "residual read-out LayerNorm(X + W_o [u; v])",
    "readout_saliency": "v_K read out as a saliency logit",
    "semi_implicit": "explicit diffusion + semi-implicit reaction (reach ≤ 2.75 clips)",
    "explicit_euler_small_dt": "explicit Euler, dt ≤ 0.45",
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
    grid: str = ""         # a grid point of the benchmark (``lr0.001-w64``)

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
        if self.grid:
            parts.append(self.grid)
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
    models: tuple[str, ...] = ()      # benchmark: fusions and floors (empty = the fusions)
    grid: dict[str, tuple] = field(default_factory=dict)   # benchmark: {"lr": ..., "width": ...}
    rd_variants: tuple[str, ...] = ()  # benchmark: rd ablations run at rd's selected grid point
    tag: str = ""                     # appended to shard ids: a budget that other groups must
                                      # not share (e.g. more epochs than the ablations)


GROUP_DATASET = {"synthetic": "synthetic", "synthetic_short": "synthetic", "tvsum": "tvsum",
                 "youtube": "youtube",
                 "ablations": "synthetic", "robustness": "synthetic",
                 "bench_grid": "synthetic", "bench": "synthetic"}
PRESET = {"synthetic": "synthetic", "tvsum": "tvsum", "youtube": "youtube"}
#: every domain of a data set (what ``domains="all"`` of a profile's budget means)
ALL_DOMAINS = {"tvsum": TVSUM_DOMAINS, "youtube": YOUTUBE_DOMAINS}


def _budget(group: str, spec: dict[str, Any]) -> Budget:
    """A profile's budget mapping (:data:`rdmf.profiles.PROFILES`) as a :class:`Budget`."""
    spec = dict(spec)
    for key in ("models", "seeds", "rd_variants"):
        if key in spec:
            spec[key] = tuple(spec[key])
    if "grid" in spec:
        spec["grid"] = {k: tuple(v) for k, v in spec["grid"].items()}
    if spec.get("domains") == "all":
        spec["domains"] = ALL_DOMAINS[GROUP_DATASET[group]]
    if spec.get("variants") == "all":
        spec["variants"] = tuple(ABLATIONS)
    return Budget(**spec)


#: profile -> group -> Budget, from each profile's ``experiments`` settings
BUDGETS: dict[str, dict[str, Budget]] = {
    profile: {group: _budget(group, spec)
              for group, spec in profile_settings(profile, "experiments").items()}
    for profile in PROFILES}


def budget(profile: str, group: str) -> Budget:
    check_profile(profile)
    if group not in GROUPS:
        raise ValueError(f"unknown experiment group {group!r}; choose one of {', '.join(GROUPS)}")
    return BUDGETS[profile][group]


def grid_point(lr: float, width: int) -> str:
    """The name of a grid point: ``lr0.001-w64``."""
    return f"lr{float(lr):g}-w{int(width)}"


def parse_grid_point(point: str) -> dict[str, float | int]:
    """``lr0.001-w64`` -> ``{"lr": 0.001, "width": 64}``."""
    try:
        lr, width = point.split("-w")
        return {"lr": float(lr[2:]), "width": int(width)}
    except ValueError:
        raise ValueError(f"grid point {point!r}: expected 'lr<float>-w<int>'") from None


def grid_points(b: Budget) -> list[str]:
    """Every grid point of a benchmark budget, in a fixed order."""
    return [grid_point(lr, w) for w in b.grid.get("width", ()) for lr in b.grid.get("lr", ())]


def bench_models(b: Budget) -> tuple[str, ...]:
    return b.models or FUSIONS


#: the val metric that selects a model's grid point
SELECTION_METRIC = "MR-full-mAP"


def stored_result(profile: str, shard: Shard) -> dict | None:
    """The stored result of a shard (``reports/<profile>/shards/<id>/result.json``), or None when
    absent or made with another synthetic generator version."""
    import json

    from rdmf.paths import reports_dir
    path = reports_dir(profile) / "shards" / shard.id / "result.json"
    if not path.is_file():
        return None
    result = json.loads(path.read_text())
    if shard.dataset == "synthetic":
        from rdmf.data import synth
        if result.get("data_version") != str(synth.GENERATOR_VERSION):
            return None
    return result


def grid_results(profile: str, results: dict | None = None) -> dict[str, dict[str, float | None]]:
    """model -> grid point -> best val value of :data:`SELECTION_METRIC` (None: not run yet,
    or failed). ``results``: shard id -> result (default: the stored results)."""
    out: dict[str, dict[str, float | None]] = {}
    for shard in shards(profile, "bench_grid"):
        res = stored_result(profile, shard) if results is None else results.get(shard.id)
        value = None
        if res is not None and res.get("status") == "done":
            value = (res.get("best") or {}).get(SELECTION_METRIC)
        out.setdefault(shard.fusion, {})[shard.grid] = None if value is None else float(value)
    return out


def selected_points(profile: str, results: dict | None = None) -> dict[str, str]:
    """model -> its grid point: the best val value at the best-val epoch (ties: the earlier point
    of the grid order). A model is selected only once every one of its grid shards is done, so
    a partial grid never picks a point that a later run would beat. Test metrics play no part."""
    chosen = {}
    for model, points in grid_results(profile, results).items():
        if points and all(v is not None for v in points.values()):
            order = list(points)
            chosen[model] = max(points, key=lambda p: (points[p], -order.index(p)))
    return chosen


def planned_count(profile: str, group: str) -> int:
    """How many shards ``group`` plans in full: for ``bench``, every model and rd variant over
    the seeds, whether or not their grids are done yet (so the count does not depend on which
    results are stored)."""
    if group == "bench":
        b = budget(profile, group)
        return len(b.seeds) * (len(bench_models(b)) + len(b.rd_variants))
    return len(shards(profile, group))


def shards(profile: str, group: str) -> list[Shard]:
    """Every shard of ``group`` under ``profile``, in run order (seeds outermost, so a partial
    run covers all fusions of the first seed first). ``bench`` plans only the models whose grid
    point ``bench_grid`` has selected (:func:`rdmf.experiments.selection.selected_points`)."""
    b = budget(profile, group)
    dataset = GROUP_DATASET[group]
    out = []
    if group == "bench_grid":
        return [Shard(dataset, model, b.seeds[0], grid=point, tag=b.tag)
                for point in grid_points(b) for model in bench_models(b)]
    if group == "bench":
        chosen = selected_points(profile)
        for seed in b.seeds:
            for model in bench_models(b):
                if model in chosen:
                    out.append(Shard(dataset, model, seed, grid=chosen[model], tag=b.tag))
            if "rd" in chosen:
                out += [Shard(dataset, "rd", seed, variant=v, grid=chosen["rd"], tag=b.tag)
                        for v in b.rd_variants]
        return out
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
    """The :class:`rdmf.train.config.RunConfig` of a shard: the data set's preset, the profile's
    budget overrides, the variant's RDMF overrides. Same budget for every fusion."""
    from rdmf.train.config import preset
    b = budget(profile, group)
    changes: dict[str, Any] = {**b.overrides, "model.fusion": shard.fusion, "seed": shard.seed,
                               "optim.epochs": b.epochs, "progress": False, "device": "cpu"}
    if shard.grid:
        point = parse_grid_point(shard.grid)
        changes.update({"optim.lr": point["lr"], "model.hidden": point["width"],
                        "model.ffn_dim": 4 * point["width"]})
    if shard.dataset == "synthetic":
        changes["data.size"] = b.size
    else:
        changes["data.domain"] = shard.domain
        if data_root is not None:
            changes["data.data_root"] = str(data_root)
    if shard.variant != "default":
        if shard.variant not in ABLATIONS:
            raise ValueError(f"unknown ablation variant {shard.variant!r}; choose one of "
                             f"{', '.join(ABLATIONS)}")
        changes.update(ABLATIONS[shard.variant])
        if shard.variant.startswith("explicit_euler"):
            changes["model.rd.explicit_on_violation"] = "raise"
    return preset(PRESET[shard.dataset], changes)


def floor_config(profile: str, group: str, shard: Shard):
    """The :class:`rdmf.baselines.FloorConfig` of a floor's shard: the group's epochs, the grid
    point's learning rate and width, the shard's seed."""
    from rdmf.baselines.fit import FloorConfig
    b = budget(profile, group)
    kw: dict[str, Any] = {"epochs": b.epochs, "seed": shard.seed}
    if shard.grid:
        point = parse_grid_point(shard.grid)
        kw.update(lr=point["lr"], width=point["width"])
    return FloorConfig(**kw)


def deviations(profile: str, group: str) -> list[str]:
    """Plain-language differences between this profile's budget and the published protocol."""
    from rdmf.train.config import preset
    b = budget(profile, group)
    out = []
    ref_hidden = 256
    config = preset(PRESET[GROUP_DATASET[group]], b.overrides)
    if config.model.hidden != ref_hidden:
        out.append(f"hidden width {config.model.hidden} (reference 256, FFN "
                   f"{config.model.ffn_dim} vs 1024)")
    if group in ("synthetic", "synthetic_short", "ablations", "robustness", "bench_grid", "bench"):
        out.append(f"synthetic set size {b.size!r}"
                   + (f", first {b.n_train} train / {b.n_val} val queries" if b.n_train else "")
                   + f"; {b.epochs} epochs (synthetic preset 12, reference 200)")
        if config.model.decoder_queries != "learned":
            lr = (f"lr and width from the grid {dict(b.grid)}" if group in BENCH_GROUPS
                  else f"lr {config.optim.lr:g}")
            out.append("the synthetic preset's CPU recipe: batch "
                       f"{config.optim.batch_size}, {lr}, no "
                       "dropout, text-conditioned saliency read-out, dense clip loss, decoder queries "
                       f"'{config.model.decoder_queries}' (reference: learned queries)")
        if len(b.seeds) < 3:
            out.append(f"seeds {list(b.seeds)} (reference: 3)")
        if group in BENCH_GROUPS:
            out.append("the floors and temporal references (rdmf.baselines): BCE on relevant "
                       "clips, batch 32, windows thresholded from their clip scores")
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
