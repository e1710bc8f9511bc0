"""Bad input and faults in ``rdmf train`` / ``rdmf evaluate`` and their checkpoints: each case
exits 2 with one line naming the file (or option) and the field, and no file that existed
before is changed or removed. Training reads the tiny toy set (seconds), not the synthetic set."""

from __future__ import annotations

import json
import os
import pathlib
import zipfile

import numpy as np
import pytest
import torch
from badinput import assert_one_line_error, assert_unchanged, run, snapshot

from rdmf.model.matcher import HungarianMatcher
from rdmf.nonfinite import NonFiniteError
from rdmf.train import engine
from rdmf.train.checkpoint import BEST, LAST, load_checkpoint, save_checkpoint
from rdmf.train.toy import toy_samples

TINY = ["--set", "hidden=16", "--set", "heads=2", "--set", "ffn_dim=32", "--set", "enc_layers=1",
        "--set", "dec_layers=1", "--set", "rd_channels=4", "--set", "num_queries=4",
        "--batch-size", "4", "--no-progress"]
SPLITS = {"train": toy_samples(8, seed=0), "val": toy_samples(4, seed=1),
          "test": toy_samples(4, seed=2)}


@pytest.fixture
def toy_data(monkeypatch):
    """``rdmf train`` / ``rdmf evaluate`` read the toy set instead of the synthetic set."""
    monkeypatch.setattr(engine, "load_split", lambda config, split: list(SPLITS[split]))
    return SPLITS


def train_argv(run_dir, *extra) -> list:
    return ["train", "--preset", "synthetic", "--fusion", "concat", "--run-dir", run_dir,
            *TINY, *extra]


@pytest.fixture
def trained(tmp_path, toy_data, capsys):
    """A finished two-epoch run folder (a fresh one per test: tests change it)."""
    run_dir = tmp_path / "run"
    outcome = run(train_argv(run_dir, "--epochs", "2"), capsys)
    assert outcome.code == 0, outcome.stderr
    return run_dir


# --- settings refused before anything is trained -------------------------------------------
BAD_SETTINGS = [
    pytest.param(["--set", "hidden=true"], ("train options", "hidden", "true"), id="bool-as-int"),
    pytest.param(["--set", "model.hidden=true"], ("train options", "model.hidden", "true"),
                 id="bool-as-int-dotted"),
    pytest.param(["--set", "model.rd.steps=1.5"], ("train options", "model.rd.steps", "1.5"),
                 id="float-as-int-nested"),
    pytest.param(["--set", "model.rd.stepz=1"], ("train options", "model.rd.stepz"),
                 id="unknown-nested-field"),
    pytest.param(["--set", "lr_drop_epochs=abc"], ("train options", "lr_drop_epochs", "'abc'"),
                 id="lr_drop_epochs-not-a-number"),
    pytest.param(["--set", "lr_drop_epochs=0"], ("config.optim.lr_drop_epochs", "null"),
                 id="lr_drop_epochs-zero"),
    pytest.param(["--set", "max_text_tokens=0"], ("config.data.max_text_tokens", "null"),
                 id="max_text_tokens-zero"),
    pytest.param(["--epochs", "0"], ("config.optim.epochs", "≥ 1"), id="epochs-zero"),
    pytest.param(["--set", "dec_layers=0"], ("config.model.dec_layers", "≥ 1"), id="dec_layers-zero"),
    pytest.param(["--device", "tpu"], ("config.device", "'tpu'"), id="device-tpu"),
    pytest.param(["--set", "dropout=1.5"], ("config.model.dropout", "[0, 1]"), id="dropout-above-1"),
    pytest.param(["--set", "input_dropout=-0.1"], ("config.model.input_dropout", "[0, 1]"),
                 id="input_dropout-negative"),
    pytest.param(["--lr=-1e-3"], ("config.optim.lr", "> 0"), id="lr-negative"),
    pytest.param(["--set", "metric=MR-full-mAPP"], ("config.eval.metric", "'MR-full-mAPP'"),
                 id="metric-unknown-at-start"),
]


@pytest.mark.parametrize("extra, mentions", BAD_SETTINGS)
def test_bad_setting_is_one_line_before_training(tmp_path, toy_data, capsys, extra, mentions):
    (tmp_path / "keep.txt").write_text("a user's file\n")
    before = snapshot(tmp_path)
    outcome = run(train_argv(tmp_path / "run", *extra), capsys)
    assert_one_line_error(outcome, *mentions)
    assert_unchanged(before, tmp_path)
    assert not (tmp_path / "run").exists()


def test_multi_line_yaml_error_is_one_line_with_line_and_column(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("hidden: 64\nheads: [4\nlr: 1e-3\n")
    before = snapshot(tmp_path)
    outcome = run(["train", "--config", config, "--run-dir", tmp_path / "run"], capsys)
    assert_one_line_error(outcome, "bad.yaml", "line 3, column 3", "malformed YAML")
    assert_unchanged(before, tmp_path)


# --- the run folder ------------------------------------------------------------------------
def test_run_dir_that_is_a_file(tmp_path, toy_data, capsys):
    target = tmp_path / "results.txt"
    target.write_text("not a folder\n")
    before = snapshot(tmp_path)
    outcome = run(train_argv(target, "--epochs", "1"), capsys)
    assert_one_line_error(outcome, "results.txt", "--run-dir is a file")
    assert_unchanged(before, tmp_path)


def test_read_only_run_dir(tmp_path, toy_data, capsys, monkeypatch):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (tmp_path / "notes.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    run_dir.chmod(0o555)
    if os.geteuid() == 0:   # root writes anyway: refuse writes into the folder as the OS would
        real = pathlib.Path.write_bytes

        def read_only(self, data):
            if self.parent == run_dir:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self, data)
        monkeypatch.setattr(pathlib.Path, "write_bytes", read_only)
    try:
        outcome = run(train_argv(run_dir, "--epochs", "1"), capsys)
    finally:
        run_dir.chmod(0o755)
    assert_one_line_error(outcome, str(run_dir), "cannot write the run folder",
                          "Permission denied")
    assert_unchanged(before, tmp_path)
    assert not any(run_dir.iterdir())


def test_run_dir_holding_other_files_is_refused_unless_forced(tmp_path, toy_data, capsys):
    run_dir = tmp_path / "thesis"
    run_dir.mkdir()
    (run_dir / "chapter1.tex").write_text("mine\n")
    (run_dir / "notes.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    outcome = run(train_argv(run_dir, "--epochs", "1"), capsys)
    assert_one_line_error(outcome, "--run-dir", "thesis", "chapter1.tex", "--force")
    assert_unchanged(before, tmp_path)
    assert sorted(p.name for p in run_dir.iterdir()) == ["chapter1.tex", "notes.txt"]
    outcome = run(train_argv(run_dir, "--epochs", "1", "--force"), capsys)
    assert outcome.code == 0, outcome.stderr
    assert_unchanged(before, tmp_path)
    assert (run_dir / LAST).is_file()


def test_config_that_training_would_write_over_is_refused(tmp_path, toy_data, capsys):
    run_dir = tmp_path / "exp"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text("dataset: synthetic\nhidden: 16\nheads: 2\n")
    before = snapshot(tmp_path)
    outcome = run(["train", "--config", run_dir / "config.yaml", "--run-dir", run_dir, *TINY],
                  capsys)
    assert_one_line_error(outcome, "--config", "config.yaml", "--run-dir")
    assert_unchanged(before, tmp_path)


# --- non-finite values -----------------------------------------------------------------------
def test_huge_lr_is_reported_before_the_matcher(tmp_path, toy_data, capsys):
    (tmp_path / "keep.txt").write_text("a user's file\n")
    before = snapshot(tmp_path)
    outcome = run(train_argv(tmp_path / "run", "--epochs", "2", "--lr", "1e6"), capsys)
    assert_one_line_error(outcome, "non-finite model output", "epoch 1", "step ", "batch qids [")
    assert_unchanged(before, tmp_path)
    assert not (tmp_path / "run" / LAST).exists()   # nothing written for the bad epoch
    assert "invalid numeric entries" not in outcome.stderr
    assert "another process" not in outcome.stderr   # one process


def test_matcher_refuses_non_finite_cost_with_its_own_type():
    spans = torch.tensor([[[0.5, float("nan")], [0.2, 0.1]]])
    logits = torch.zeros(1, 2, 2)
    with pytest.raises(NonFiniteError, match="matching cost"):
        HungarianMatcher()(spans, logits, [torch.tensor([[0.5, 0.2]])])


def test_nan_input_in_one_process_does_not_mention_another_process(tmp_path, toy_data, capsys,
                                                                  monkeypatch):
    poisoned = list(SPLITS["train"])
    bad = poisoned[2]
    poisoned[2] = type(bad)(**{**bad.__dict__, "video_feats": np.full_like(bad.video_feats, np.inf)})
    splits = {**SPLITS, "train": poisoned}
    monkeypatch.setattr(engine, "load_split", lambda config, split: list(splits[split]))
    (tmp_path / "keep.txt").write_text("a user's file\n")
    before = snapshot(tmp_path)
    outcome = run(train_argv(tmp_path / "run", "--epochs", "1"), capsys)
    assert_one_line_error(outcome, "non-finite input features at epoch 1", str(bad.qid))
    assert_unchanged(before, tmp_path)
    assert "another process" not in outcome.stderr


# --- evaluate never writes over the training record ------------------------------------------
@pytest.mark.parametrize("which, split", [("last", "val"), ("best", "val"), ("best", "test")],
                         ids=["last-on-val", "best-on-val", "best-on-test"])
def test_evaluate_writes_a_folder_of_its_own(trained, capsys, which, split):
    before = snapshot(trained)
    outcome = run(["evaluate", trained, "--checkpoint", which, "--split", split], capsys)
    assert outcome.code == 0, outcome.stderr
    assert_unchanged(before, trained)
    assert {p for p in snapshot(trained)} - set(before) == {
        str(trained / "eval" / f"{split}_{which}" / name)
        for name in ("preds.jsonl", "metrics.json", "eval.json")}
    brief = json.loads(outcome.stdout.strip().splitlines()[-1])
    written = json.loads((trained / "eval" / f"{split}_{which}" / "metrics.json").read_text())
    assert written["brief"] == brief
    again = run(["evaluate", trained, "--checkpoint", which, "--split", split], capsys)
    assert again.code == 0 and json.loads(again.stdout.strip().splitlines()[-1]) == brief


def test_evaluate_of_a_checkpoint_file_leaves_its_folder_alone(trained, tmp_path, capsys):
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "model.ckpt").write_bytes((trained / BEST).read_bytes())
    (folder / "val_metrics.json").write_text("{}\n")
    before = snapshot(folder)
    outcome = run(["evaluate", folder / "model.ckpt", "--split", "val"], capsys)
    assert outcome.code == 0, outcome.stderr
    assert_unchanged(before, folder)
    assert (folder / "eval" / "val_model" / "metrics.json").is_file()


@pytest.mark.parametrize("make, mentions", [
    (lambda out: (out.mkdir(), (out / "paper.tex").write_text("x")), ("--out", "eval.json")),
    (lambda out: out.write_text("a file\n"), ("--out is a file",)),
], ids=["out-holds-other-files", "out-is-a-file"])
def test_evaluate_out_must_be_its_own(trained, tmp_path, capsys, make, mentions):
    out = tmp_path / "mine"
    make(out)
    before = snapshot(tmp_path)
    outcome = run(["evaluate", trained, "--out", out], capsys)
    assert_one_line_error(outcome, "mine", *mentions)
    assert_unchanged(before, tmp_path)


def test_evaluate_device_tpu(trained, capsys):
    before = snapshot(trained)
    outcome = run(["evaluate", trained, "--device", "tpu"], capsys)
    assert_one_line_error(outcome, "--device", "'tpu'")
    assert_unchanged(before, trained)


def test_predictor_device_tpu(trained):
    from rdmf.inference import Predictor
    before = snapshot(trained)
    with pytest.raises(ValueError, match="device: unknown device 'tpu'"):
        Predictor.from_checkpoint(trained, device="tpu")
    assert_unchanged(before, trained)


# --- damaged checkpoints ---------------------------------------------------------------------
def _flip_a_tensor_byte(path):
    with zipfile.ZipFile(path) as archive:
        entry = max((i for i in archive.infolist() if "/data/" in i.filename),
                    key=lambda i: i.file_size)
    data = bytearray(path.read_bytes())
    # local header: 30 bytes + name + extra field, then the (stored) tensor bytes
    name_len = int.from_bytes(data[entry.header_offset + 26:entry.header_offset + 28], "little")
    extra_len = int.from_bytes(data[entry.header_offset + 28:entry.header_offset + 30], "little")
    start = entry.header_offset + 30 + name_len + extra_len
    data[start + entry.file_size // 2] ^= 0x10
    path.write_bytes(bytes(data))


def test_flipped_byte_in_a_checkpoint_is_refused(trained, capsys):
    _flip_a_tensor_byte(trained / BEST)
    before = snapshot(trained)
    outcome = run(["evaluate", trained], capsys)
    assert_one_line_error(outcome, str(trained / BEST), "checksum mismatch")
    assert_unchanged(before, trained)


def test_checkpoint_without_its_checksum_is_refused_and_the_first_format_loads(trained,
                                                                                tmp_path):
    state = torch.load(trained / BEST, weights_only=True)
    del state["checksum"]
    torch.save(state, tmp_path / "stripped.ckpt")
    with pytest.raises(ValueError, match="stripped.ckpt: checkpoint lacks its checksum"):
        load_checkpoint(tmp_path / "stripped.ckpt")
    torch.save({**state, "format": "rdmf-checkpoint-v1"}, tmp_path / "old.ckpt")   # no checksum
    assert load_checkpoint(tmp_path / "old.ckpt")["epoch"] == state["epoch"]


def test_feature_spec_string_in_a_checkpoint(trained, tmp_path, capsys):
    state = load_checkpoint(trained / BEST)
    path = tmp_path / "odd.ckpt"
    save_checkpoint(path, {**state, "feature_spec": "clip"})   # a valid checksum, a bad field
    before = snapshot(tmp_path)
    outcome = run(["evaluate", path], capsys)
    assert_one_line_error(outcome, "odd.ckpt", "feature_spec")
    assert_unchanged(before, tmp_path)


# --- crash leftovers ---------------------------------------------------------------------------
def test_resume_removes_stale_temporary_files(trained, capsys):
    stale = [trained / ".last.ckpt.k2x9_a1.tmp", trained / ".best.ckpt.q0w8e7.tmp",
             trained / ".metrics.jsonl.zz.tmp"]
    for path in stale:
        path.write_bytes(b"\0" * 4096)
    (trained / ".my-notes.tmp").write_text("mine\n")       # not a name training writes
    (trained / "notes.txt").write_text("mine\n")
    keep = snapshot(trained / ".my-notes.tmp", trained / "notes.txt")
    outcome = run(train_argv(trained, "--epochs", "3"), capsys)
    assert outcome.code == 0, outcome.stderr
    assert not any(path.exists() for path in stale)
    assert_unchanged(keep, trained / ".my-notes.tmp", trained / "notes.txt")
    assert load_checkpoint(trained / LAST)["epoch"] == 3


def test_best_epoch_files_out_of_step_are_detected_and_repaired(trained, capsys):
    """A crash after val_metrics.json of a new best epoch and before best.ckpt: loading best.ckpt
    names the file; resuming writes the files of best.ckpt's epoch again."""
    good = snapshot(trained)
    metrics = trained / "val_metrics.json"
    newer = json.loads(metrics.read_text())
    newer["brief"]["MR-full-mAP"] = 99.0
    metrics.write_text(json.dumps(newer))
    (trained / "val_preds.jsonl").write_text("")
    before = snapshot(trained)
    outcome = run(["evaluate", trained], capsys)
    assert_one_line_error(outcome, "val_", "does not belong to best.ckpt")
    assert_unchanged(before, trained)
    outcome = run(train_argv(trained, "--epochs", "2"), capsys)   # resume: nothing left to train
    assert outcome.code == 0, outcome.stderr
    assert_unchanged(good, trained)
    assert run(["evaluate", trained], capsys).code == 0


def test_crash_between_best_files_and_checkpoint_leaves_a_detectable_state(tmp_path, toy_data,
                                                                            capsys, monkeypatch):
    """Kill the run while best.ckpt is being written: the new val files do not match the old
    best.ckpt (detected), and a resume brings the folder back to an uninterrupted run's."""
    dropout = ["--set", "dropout=0.1", "--set", "input_dropout=0.2"]   # the RNG matters
    straight = tmp_path / "straight"
    assert run(train_argv(straight, "--epochs", "2", *dropout), capsys).code == 0
    best_epoch = load_checkpoint(straight / BEST)["best_epoch"]
    if best_epoch == 1:
        pytest.skip("the second epoch is not better on this machine: no second best write")
    run_dir = tmp_path / "crashed"
    real = engine.save_checkpoint

    def killed(path, state):
        if path.name == BEST and state["epoch"] == 2:
            raise KeyboardInterrupt
        return real(path, state)
    monkeypatch.setattr(engine, "save_checkpoint", killed)
    assert run(train_argv(run_dir, "--epochs", "2", *dropout), capsys).code == 130
    monkeypatch.setattr(engine, "save_checkpoint", real)
    assert_one_line_error(run(["evaluate", run_dir], capsys), "does not belong to best.ckpt")
    assert run(train_argv(run_dir, "--epochs", "2", *dropout), capsys).code == 0
    for name in ("val_preds.jsonl", "val_metrics.json", "metrics.jsonl"):
        if name == "metrics.jsonl":   # times differ
            rows = [[{k: v for k, v in json.loads(line).items() if k not in engine.TIMES}
                     for line in (folder / name).read_text().splitlines()]
                    for folder in (run_dir, straight)]
            assert rows[0] == rows[1]
        else:
            assert (run_dir / name).read_bytes() == (straight / name).read_bytes(), name
    weights = [load_checkpoint(folder / LAST)["model"] for folder in (run_dir, straight)]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
