"""Each step of :func:`rdmf.train.engine.train` on its own, on the tiny toy set."""

from __future__ import annotations

import json

import pytest
import torch

from rdmf.data.feature_spec import FeatureSpec
from rdmf.model.model import MomentModel
from rdmf.nonfinite import NonFiniteError
from rdmf.train import engine
from rdmf.train.checkpoint import BEST, LAST
from rdmf.train.config import ModelConfig, load_config, run_config
from rdmf.train.distributed import DistInfo
from rdmf.train.toy import toy_samples

TINY = dict(hidden=16, heads=2, ffn_dim=32, enc_layers=1, dec_layers=1, rd_channels=4,
            batch_size=4, lr=1e-3, progress=False, device="cpu", epochs=2)
ONE = DistInfo()
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def data():
    return toy_samples(10, seed=0), toy_samples(4, seed=1)


@pytest.fixture()
def config(data):
    return engine.with_feature_dims(run_config(**TINY), *data)


def spec_of(config) -> FeatureSpec:
    return FeatureSpec(video_feature_types=(), video_dim=config.model.video_dim,
                       text_dim=config.model.text_dim)


def test_setup_processes_on_one_cpu_process():
    info, device = engine.setup_processes(run_config(device="cpu"))
    assert not info.enabled and info.is_main and device == CPU


def test_load_data_takes_given_splits_and_refuses_empty_ones(data):
    assert engine.load_data(run_config(), data) == data
    with pytest.raises(ValueError, match="val split: the split is empty"):
        engine.load_data(run_config(), (data[0], []))


def test_with_feature_dims_fills_the_model_section_and_checks_it(data):
    config = engine.with_feature_dims(run_config(**TINY), *data)
    assert (config.model.video_dim, config.model.text_dim) == (16, 8)
    with pytest.raises(ValueError, match="config.model.video_dim = 5"):
        engine.with_feature_dims(run_config(video_dim=5), *data)


def test_resume_state_is_none_without_a_checkpoint_and_refuses_an_overwrite(tmp_path, config):
    assert engine.resume_state(tmp_path, config, spec_of(config), resume=True) is None
    (tmp_path / LAST).write_bytes(b"")
    with pytest.raises(ValueError, match="already holds a run"):
        engine.resume_state(tmp_path, config, spec_of(config), resume=False)


def test_build_parts_gives_the_model_only_its_section(config):
    parts = engine.build_parts(config, CPU)
    assert isinstance(parts.model, MomentModel) and isinstance(parts.model.config, ModelConfig)
    assert parts.optimizer.param_groups[0]["lr"] == config.optim.lr
    assert parts.criterion.config == config.loss


def test_restore_from_nothing_and_from_a_checkpoint(tmp_path, config):
    parts = engine.build_parts(config, CPU)
    assert engine.restore(parts, None, CPU) == engine.Progress()
    progress = engine.Progress(epoch=3, step=7, history=[{"epoch": 3}], best_metric=1.5,
                               best_epoch=2)
    state = engine.checkpoint_state(config, spec_of(config), parts, progress, CPU)
    again = engine.restore(engine.build_parts(config, CPU), state, CPU)
    assert (again.epoch, again.step, again.best_metric, again.best_epoch) == (3, 7, 1.5, 2)


def test_prepare_outputs_writes_the_config_and_drops_orphans(tmp_path, config, data):
    (tmp_path / "metrics.jsonl").write_text("{}\n")
    engine.prepare_outputs(tmp_path, config, data[1], CPU, None, engine.Progress())
    assert load_config(tmp_path / "config.yaml") == config
    assert not (tmp_path / "metrics.jsonl").exists()


def test_wrap_for_processes_leaves_one_process_alone(config):
    model = engine.build_parts(config, CPU).model
    assert engine.wrap_for_processes(model, ONE, CPU) is model


def test_epoch_batches_are_a_seeded_permutation(config):
    batches = engine.epoch_batches(10, config, epoch=1)
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(i for b in batches for i in b) == list(range(10))
    assert batches == engine.epoch_batches(10, config, epoch=1)
    assert batches != engine.epoch_batches(10, config, epoch=2)


def test_train_step_moves_the_weights_and_counts_the_step(config, data):
    torch.manual_seed(0)
    parts = engine.build_parts(config, CPU)
    before = [p.detach().clone() for p in parts.model.parameters()]
    progress = engine.Progress()
    local_idx, batch = engine.read_batch(data[0], [0, 1, 2, 3], ONE, CPU)
    assert local_idx == [0, 1, 2, 3] and [s.qid for s in batch.samples] == [
        data[0][i].qid for i in local_idx]
    values = engine.train_step(parts.model, parts, batch, local_idx, config, (0, 0), progress,
                               ONE, CPU)
    assert progress.step == 1 and progress.last_finite["step"] == 1
    assert set(values) >= {"loss", "span", "saliency"}
    assert any(not torch.equal(a, b) for a, b in zip(before, parts.model.parameters()))


def test_non_finite_is_recognised_by_its_type_not_its_text(config, data, monkeypatch):
    parts = engine.build_parts(config, CPU)

    def refuse(*args, **kwargs):
        raise NonFiniteError("any words at all")

    monkeypatch.setattr(engine, "forward_batch", refuse)
    with pytest.raises(engine.NonFiniteLossError, match="non-finite forward pass"):
        engine.train_step(parts.model, parts, engine.read_batch(data[0], [0, 1], ONE, CPU)[1],
                          [0, 1], config, (0, 0), engine.Progress(), ONE, CPU)


def test_train_epoch_row(config, data):
    parts = engine.build_parts(config, CPU)
    progress = engine.Progress()
    row = engine.train_epoch(parts.model, parts, data[0], config, 0, progress, ONE, CPU)
    assert (row["epoch"], row["step"], progress.step) == (1, 3, 3)
    assert row["lr"] == config.optim.lr and "span" in row["train"]
    assert 0 < row["data_s"] < 60


def test_evaluate_now_every_n_epochs_and_after_the_last():
    config = run_config(eval_every=3, epochs=7)
    assert [e + 1 for e in range(7) if engine.evaluate_now(config, e)] == [3, 6, 7]


def test_evaluate_epoch_records_a_new_best(tmp_path, config, data):
    parts = engine.build_parts(config, CPU)
    progress, row = engine.Progress(), {"epoch": 1}
    engine.evaluate_epoch(parts.model, data[1], config, CPU, row, tmp_path, progress)
    assert row["best"] and progress.best_epoch == 1
    assert progress.best_metric == row["val"]["MR-full-mAP"]
    assert set(progress.best_files) == {"val_preds.jsonl", "val_metrics.json"}


def test_write_epoch_and_summary(tmp_path, config):
    parts = engine.build_parts(config, CPU)
    row = {"epoch": 1, "best": True}
    progress = engine.Progress(epoch=1, step=3, history=[row], best_metric=2.0, best_epoch=1)
    engine.write_epoch(tmp_path, config, spec_of(config), parts, progress, row, CPU)
    assert (tmp_path / BEST).is_file() and (tmp_path / LAST).is_file()
    assert json.loads((tmp_path / "metrics.jsonl").read_text()) == row
    out = engine.summary(tmp_path, config, progress)
    assert (out["best_epoch"], out["best_metric"], out["epochs"]) == (1, 2.0, 1)


def test_checkpoint_state_records_config_and_feature_spec(config):
    parts = engine.build_parts(config, CPU)
    state = engine.checkpoint_state(config, spec_of(config), parts, engine.Progress(), CPU)
    assert state["config"]["model"]["rd"]["channels"] == 4
    assert FeatureSpec.from_dict(state["feature_spec"]) == spec_of(config)
