"""Named run profiles and, for each, the settings of every part of the project that scales with it.

- ``ci``: seconds per notebook; what the stored notebook outputs show.
- ``default``: a reader's CPU run (notebooks 06-08 together within ~12 minutes on 2 cores).
- ``paper``: the protocol that 2 shared CPU cores can afford: a REDUCED budget whose every
  difference from the published protocol :func:`rdmf.experiments.protocols.deviations` lists.

:data:`PROFILES` is the one table. Each profile holds one mapping per part:

- ``theory``: resolutions and demo lengths of notebooks 01 and 02;
- ``numerics``: sizes of the validations of notebooks 03 and 04;
- ``data``: the synthetic set size of notebook 05;
- ``experiments``: the training budget of each experiment group (keyword arguments of
  :class:`rdmf.experiments.protocols.Budget`; ``"all"`` domains / variants = every one the data
  set / the ablation table has), read by the shard runner, notebooks 06-07 and
  ``rdmf experiments``;
- ``perf``: problem sizes and repeats of notebook 08 and ``benchmarks/bench_cpu.py``.

Parts read their settings with :func:`profile_settings`; :func:`check_profile` names the valid
profiles.
"""

from __future__ import annotations

import copy
from typing import Any

# model-size changes to the presets (run-config names, rdmf.train.config)
_TINY = {"model.hidden": 32, "model.heads": 4, "model.ffn_dim": 64, "model.num_queries": 5,
         "eval.batch_size": 32}
_SMALL = {"model.hidden": 64, "model.heads": 4, "model.ffn_dim": 256}
_CI_SYNTHETIC = {**_TINY, "optim.batch_size": 16, "optim.lr": 1e-3}

_NUMERICS_DEFAULT = {
    "growth_cases_steps": 3000,
    "pattern_L": 96, "pattern_steps": 4000,
    "gallery_N": 128, "gallery_steps": 12000,
    "pypde_L": 64, "pypde_N2": 32, "pypde_T": 50.0,
    "conv_dts": [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125], "conv_T": 40.0, "conv_L": 48,
    "invariant_runs": 200, "invariant_steps": 400,
    "cost_L": 75, "cost_B": 32, "cost_C": 8, "cost_steps": 200,
}

_CI_SYNTHETIC_BUDGET = dict(epochs=2, seeds=(0,), n_train=64, n_val=32, overrides=_CI_SYNTHETIC)
# synthetic groups of the default profile: the synthetic preset's CPU recipe as it is (the short
# run of the "learns for real" test), on the whole CI set
_DEFAULT_SYNTHETIC_BUDGET = dict(epochs=12, seeds=(0,))

# the benchmark's models: the three fusions, the floors and the temporal references
_BENCH_MODELS = ("rd", "cross_attention", "concat", "per_clip", "per_clip_smooth", "conv1d", "bigru")
# the same small grid for every model (bench_grid, seed 0, selection on val): three learning
# rates at width 64 (width 128 is left out: 2 CPU cores cannot afford it beside 5 seeds)
_BENCH_GRID = {"lr": (3e-4, 1e-3, 3e-3), "width": (64,)}
_CI_BENCH = dict(epochs=2, seeds=(0,), n_train=64, n_val=32, models=_BENCH_MODELS,
                 grid={"lr": (1e-3,), "width": (32,)}, rd_variants=("no_reaction",),
                 overrides={**_CI_SYNTHETIC, "model.heads": 4}, tag="bench")
_DEFAULT_BENCH = dict(epochs=12, seeds=(0,), models=_BENCH_MODELS,
                      grid={"lr": (1e-3,), "width": (64,)}, rd_variants=("no_reaction",),
                      tag="bench")
# the paper comparison: synthetic v5 at size "bench", one epoch budget for every model, 5 seeds
# (batch 16 for the fusions: the synthetic preset's batch 4 makes an rd run 2.7x slower on CPU)
_PAPER_BENCH = dict(epochs=20, seeds=(0, 1, 2, 3, 4), size="bench", models=_BENCH_MODELS,
                    grid=_BENCH_GRID, rd_variants=("no_reaction",), tag="bench",
                    overrides={"optim.batch_size": 16})

PROFILES: dict[str, dict[str, Any]] = {
    "ci": {
        "theory": {"map_n": 250, "zoom_n": 250, "demo_L": 256, "demo_steps": 8000,
                   "branch_n": 400},
        "numerics": {
            "growth_cases_steps": 1500,
            "pattern_L": 48, "pattern_steps": 1500,
            "gallery_N": 64, "gallery_steps": 6000,
            "pypde_L": 32, "pypde_N2": 16, "pypde_T": 20.0,
            "conv_dts": [1.0, 0.5, 0.25, 0.125], "conv_T": 20.0, "conv_L": 24,
            "invariant_runs": 24, "invariant_steps": 150,
            "cost_L": 75, "cost_B": 8, "cost_C": 4, "cost_steps": 50,
        },
        "data": {"synthetic_size": "ci"},
        "experiments": {
            "synthetic": _CI_SYNTHETIC_BUDGET,
            # the short comparison IS the synthetic comparison (same shards, no extra cost)
            "synthetic_short": _CI_SYNTHETIC_BUDGET,
            "tvsum": dict(epochs=3, seeds=(0,), domains=("BK",), overrides=_TINY),
            "youtube": dict(epochs=2, seeds=(0,), domains=("parkour",), n_train=8, n_val=4,
                            overrides=_TINY),
            "ablations": dict(epochs=2, seeds=(0,), n_train=64, n_val=32, fusions=("rd",),
                              variants=("default", "no_diffusion", "K1"),
                              overrides=_CI_SYNTHETIC),
            "robustness": dict(epochs=2, seeds=(0,), n_train=64, n_val=32, noises=(1.0,),
                               overrides=_CI_SYNTHETIC),
            "bench_grid": _CI_BENCH, "bench": _CI_BENCH,
        },
        "perf": {"batch": 2, "clips": 75, "hidden": 64, "repeats": 1, "K": (1, 4, 8, 16),
                 "rd_batch": 8, "rd_channels": 16},
    },
    "default": {
        "theory": {"map_n": 500, "zoom_n": 500, "demo_L": 256, "demo_steps": 12000,
                   "branch_n": 800},
        "numerics": _NUMERICS_DEFAULT,
        "data": {"synthetic_size": "default"},
        "experiments": {
            "synthetic": _DEFAULT_SYNTHETIC_BUDGET,
            "synthetic_short": _DEFAULT_SYNTHETIC_BUDGET,
            "tvsum": dict(epochs=10, seeds=(0,), domains="all", overrides=_SMALL),
            "youtube": dict(epochs=3, seeds=(0,), domains=("dog", "parkour"), overrides=_SMALL),
            "ablations": dict(epochs=12, seeds=(0,), fusions=("rd",),
                              variants=("default", "no_diffusion", "no_reaction", "K1",
                                        "fixed_kinetics")),
            "robustness": dict(epochs=12, seeds=(0,), noises=(1.0, 2.0)),
            "bench_grid": _DEFAULT_BENCH, "bench": _DEFAULT_BENCH,
        },
        "perf": {"batch": 8, "clips": 75, "hidden": 128, "repeats": 3,
                 "K": (1, 2, 4, 8, 16, 32), "rd_batch": 32, "rd_channels": 16},
    },
    "paper": {
        "theory": {"map_n": 1000, "zoom_n": 1000, "demo_L": 512, "demo_steps": 20000,
                   "branch_n": 2000},
        "numerics": {**_NUMERICS_DEFAULT, "gallery_N": 256, "gallery_steps": 25000,
                     "invariant_runs": 1000},
        "data": {"synthetic_size": "full"},
        "experiments": {
            # the main comparison at 30 epochs (tag: not shared with the 12-epoch ablation /
            # robustness runs, whose noise-1 rows are the same comparison at the preset's 12)
            "synthetic": dict(epochs=30, seeds=(0, 1, 2), tag="e30"),
            # the same comparison at the synthetic preset's 12 epochs (shares their seed-0 runs)
            "synthetic_short": dict(epochs=12, seeds=(0, 1, 2)),
            "tvsum": dict(epochs=20, seeds=(0,), domains="all",
                          folds=("std", "loo0", "loo1", "loo2", "loo3")),
            "youtube": dict(epochs=10, seeds=(0,), domains=("dog", "parkour")),
            "ablations": dict(epochs=12, seeds=(0,), fusions=("rd",), variants="all"),
            "robustness": dict(epochs=12, seeds=(0,), noises=(0.5, 1.0, 2.0)),
            "bench_grid": _PAPER_BENCH, "bench": _PAPER_BENCH,
        },
        "perf": {"batch": 32, "clips": 75, "hidden": 256, "repeats": 5,
                 "K": (1, 2, 4, 8, 16, 32, 64), "rd_batch": 32, "rd_channels": 16},
    },
}

PARTS = ("theory", "numerics", "data", "experiments", "perf")


def check_profile(profile: str) -> str:
    """``profile`` when it is a profile's name; else a ValueError naming the valid ones."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    return profile


def profile_settings(profile: str, part: str) -> dict[str, Any]:
    """A copy of ``part``'s settings under ``profile`` (``part`` one of :data:`PARTS`)."""
    if part not in PARTS:
        raise ValueError(f"unknown profile part {part!r}; choose one of {', '.join(PARTS)}")
    return copy.deepcopy(PROFILES[check_profile(profile)][part])
