"""``rdmf train`` then ``rdmf evaluate`` on the synthetic CI set, and their one-line errors."""

from __future__ import annotations

import json

import pytest

from rdmf.cli import main

TINY = ["--set", "hidden=16", "--set", "heads=2", "--set", "ffn_dim=32", "--set", "enc_layers=1",
        "--set", "dec_layers=1", "--set", "rd_channels=4", "--no-progress"]


@pytest.mark.slow
def test_train_then_evaluate_on_the_synthetic_set(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main(["train", "--preset", "synthetic", "--fusion", "rd", "--run-dir", str(run_dir),
                 "--epochs", "1", "--seed", "3", "--batch-size", "50", *TINY]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["epochs"] == 1 and summary["metric_name"] == "MR-full-mAP"
    assert main(["evaluate", str(run_dir), "--split", "val"]) == 0
    brief = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert brief["MR-full-mAP"] == summary["best_metric"]
    metrics = json.loads((run_dir / "eval" / "val_best" / "metrics.json").read_text())
    assert set(metrics) >= {"brief", "full", "HL-min-VeryGood"}
    assert "seed: 3" in (run_dir / "config.yaml").read_text()


@pytest.mark.parametrize("argv, message", [
    (["train", "--run-dir", "{tmp}/x", "--set", "fusion=gated"], "unknown fusion 'gated'"),
    (["train", "--run-dir", "{tmp}/x", "--set", "rd_scheme=explicit"], "rd_Du_range"),
    (["train", "--run-dir", "{tmp}/x", "--set", "no_such_field=1"], "unknown field(s) no_such_field"),
    (["evaluate", "{tmp}/missing"], "no such checkpoint or run folder"),
])
def test_cli_errors_are_one_line(tmp_path, capsys, argv, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
