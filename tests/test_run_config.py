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
    for path in COMMITTED_RESULTS:
        flat = json.loads(path.read_text())["config"]
        if not any(key in flat for key in ("model", "data")):
            _check_converted(flat, str(path))
        assert from_dict(flat, source=str(path)).metric_name
