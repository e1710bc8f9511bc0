"""The run configuration: sections, round trip through YAML, the flat-name converter on every
committed run, and errors that name the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from rdmf.model.rd_fusion import RDSettings
from rdmf.train.config import (FLAT_NAMES, PRESETS, RunConfig, flatten, from_dict, load_config,
                               preset, run_config, save_config, to_dict, to_nested)

REPORTS = Path(__file__).resolve().parents[1] / "reports"
COMMITTED_CONFIGS = sorted(REPORTS.glob("*/shards/*/config.yaml"))
COMMITTED_RESULTS = sorted(REPORTS.glob("*/shards/*/result.json"))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips_through_yaml(tmp_path, name):
    config = preset(name, {"model.rd.steps": 4, "data.data_root": "/somewhere"})
    save_config(config, tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml") == config
    assert from_dict(to_dict(config)) == config


def test_sections_hold_their_owners_settings():
    config = run_config()
    assert isinstance(config.model.rd, RDSettings) and config.model.rd == RDSettings()
    assert [k for k in to_dict(config) if isinstance(to_dict(config)[k], dict)] == [
        "data", "model", "loss", "optim", "eval"]


def test_the_three_spellings_give_the_same_config():
    nested = run_config({"model": {"hidden": 64, "rd": {"steps": 3}}, "data": {"seed": 2},
                         "eval": {"every": 5}})
    dotted = run_config({"model.hidden": 64, "model.rd.steps": 3, "data.seed": 2,
                         "eval.every": 5})
    flat = run_config(hidden=64, rd_steps=3, data_seed=2, eval_every=5)
    assert nested == dotted == flat
    assert flat.model.rd.steps == 3 and flat.data.seed == 2 and flat.seed == 0


@pytest.mark.parametrize("changes, mentions", [
    ({"model.hidden": True}, ("model.hidden", "boolean true")),
    ({"model.rd.steps": 2.5}, ("model.rd.steps", "integer")),
    ({"optim.lr": "fast"}, ("optim.lr", "number")),
    ({"model.aux_loss": 1}, ("model.aux_loss", "true or false")),
    ({"model.rd.F_range": [0.1]}, ("model.rd.F_range", "2 numbers")),
    ({"model.rd.stepz": 1}, ("unknown field", "model.rd.stepz")),
    ({"model": 3}, ("model", "mapping")),
    ({"data.max_clips": 0}, ("config.data.max_clips", "null")),
])
def test_type_errors_name_the_field(changes, mentions):
    with pytest.raises(ValueError) as info:
        run_config(changes)
    for text in mentions:
        assert text in str(info.value)


def test_flat_names_cover_every_field_once():
    dotted = set(flatten(to_dict(RunConfig())))
    assert set(FLAT_NAMES.values()) == dotted
    assert len(FLAT_NAMES) == len(dotted)


def _check_converted(flat: dict, where: str) -> None:
    config = from_dict(flat, source=where)
    values = flatten(to_dict(config))
    for key, value in flat.items():
        if key in ("rd_r_max", "rd_r_init"):   # the earlier RD layout: re-expressed, see below
            assert config.model.rd.readout == "residual" and not config.model.rd.space_feed
            continue
        want = list(value) if isinstance(value, tuple) else value
        assert values[FLAT_NAMES[key]] == want, (where, key)


@pytest.mark.skipif(not COMMITTED_CONFIGS, reason="no committed runs")
def test_committed_flat_config_files_load_through_the_converter():
    for path in COMMITTED_CONFIGS:
        flat = yaml.safe_load(path.read_text())
        if any(key in flat for key in ("model", "data")):
            assert load_config(path) == from_dict(flat)     # already nested
            continue
        _check_converted(flat, str(path))
        assert load_config(path) == from_dict(to_nested(flat))


@pytest.mark.skipif(not COMMITTED_RESULTS, reason="no committed runs")
def test_committed_result_configs_load_through_the_converter():
    from rdmf.baselines.fit import FloorConfig
    for path in COMMITTED_RESULTS:
        flat = json.loads(path.read_text())["config"]
        if "floor" in flat:   # a floor's shard: its own settings, not a run config
            FloorConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in flat["floor"].items()})
            continue
        if not any(key in flat for key in ("model", "data")):
            _check_converted(flat, str(path))
        assert from_dict(flat, source=str(path)).metric_name


def test_a_checkpoint_of_the_flat_layout_loads_and_resumes(tmp_path):
    """Checkpoints record the config and feature spec as dicts; those of the flat layout load
    through the same converter (the model, evaluation and resuming see the same config)."""
    from rdmf.train import train
    from rdmf.train.checkpoint import load_checkpoint, save_checkpoint
    from rdmf.train.engine import load_model
    from rdmf.train.toy import toy_samples
    data = toy_samples(8, seed=0), toy_samples(4, seed=1)
    config = run_config(hidden=16, heads=2, ffn_dim=32, enc_layers=1, dec_layers=1,
                        rd_channels=4, batch_size=4, epochs=1, progress=False, device="cpu")
    train(config, tmp_path, datasets=data)
    flat_names = {dotted: flat for flat, dotted in FLAT_NAMES.items()}
    for name in ("best.ckpt", "last.ckpt"):
        state = load_checkpoint(tmp_path / name)
        flat = {flat_names[k]: v for k, v in flatten(state["config"]).items()}
        spec = state["feature_spec"]
        old_spec = {"video_feature_types": spec["video_feature_types"],
                    "video_dim": spec["video_dim"], "text_encoder": spec["text_encoder"],
                    "text_dim": spec["text_dim"], "clip_len_s": spec["clip_len_s"]}
        save_checkpoint(tmp_path / name, {**state, "config": flat, "feature_spec": old_spec})
    _, loaded, loaded_spec, _ = load_model(tmp_path, "last")
    assert loaded == from_dict(flat)      # flat: last.ckpt's, the loop's last
    assert loaded.model.video_dim == 16 and loaded_spec.video_dim == 16
    summary = train(config.replace(epochs=2), tmp_path, datasets=data)   # resumes
    assert summary["epochs"] == 2
