"""DDP through torchrun: 2 CPU processes on gloo give the same model as 1 process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from rdmf.train.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    sys.path.insert(0, sys.argv[3])
    from test_train_ddp import run_training
    run_training(sys.argv[1], sys.argv[2], sys.argv[4])
""")


def run_training(run_dir, fusion: str, decoder_queries: str = "learned") -> None:
    """The run both launches perform (dropout off: DDP processes draw different masks)."""
    from rdmf.train import run_config, train
    from rdmf.train.toy import toy_samples
    config = run_config(hidden=16, heads=2, ffn_dim=32, enc_layers=1, dec_layers=2,
                         rd_channels=4, batch_size=4, lr=1e-3, epochs=2, dropout=0.0,
                         input_dropout=0.0, progress=False, device="cpu", fusion=fusion,
                         decoder_queries=decoder_queries)
    train(config, run_dir, datasets=(toy_samples(8, seed=0), toy_samples(4, seed=1)))


def _torchrun(tmp_path: Path, nproc: int, fusion: str, decoder_queries: str = "learned") -> dict:
    script = tmp_path / "ddp_train.py"
    script.write_text(SCRIPT)
    run_dir = tmp_path / f"run{nproc}"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={nproc}", str(script), str(run_dir), fusion,
           str(Path(__file__).resolve().parent), decoder_queries]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return load_checkpoint(run_dir / "last.ckpt")


@pytest.mark.slow
@pytest.mark.parametrize("decoder_queries", ["learned", "proposals"])
def test_two_gloo_processes_match_one(tmp_path, decoder_queries):
    # every parameter must get a gradient under DDP (no unused parameters in any query mode)
    run_training(tmp_path / "run1", "rd", decoder_queries)   # one process, in this interpreter
    one = load_checkpoint(tmp_path / "run1" / "last.ckpt")
    two = _torchrun(tmp_path, 2, "rd", decoder_queries)
    assert one["step"] == two["step"] == 4
    for key, value in one["model"].items():
        assert torch.allclose(value, two["model"][key], atol=2e-5, rtol=1e-4), key
    assert abs(one["history"][-1]["train_loss"] - two["history"][-1]["train_loss"]) < 1e-4
