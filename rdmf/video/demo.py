"""Everything ``rdmf predict`` needs, without downloading anything: a tiny random CLIP folder and
a tiny RDMF checkpoint trained for a few steps on toy features of that CLIP's widths.

    python -m rdmf.video.demo OUT_DIR
    rdmf predict VIDEO.mp4 --query "..." --checkpoint OUT_DIR/tiny_run \\
        --clip-model OUT_DIR/tiny_clip --out OUT_DIR/predictions

The predictions are meaningless (random CLIP, toy training data); the plumbing is the real one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .tiny_clip import save_tiny_clip

TINY_IMAGE_DIM, TINY_TEXT_DIM = 24, 32   # make_tiny_clip()'s projection and text widths
CLIP_FEATURE_SPEC = {"video_feature_types": ["clip"], "text_encoder": "clip"}


class FeatureSamples(list):
    """A list of samples that states its ``feature_spec`` (recorded in the checkpoint)."""

    def __init__(self, samples, feature_spec: dict):
        super().__init__(samples)
        self.feature_spec = dict(feature_spec)


def train_tiny_checkpoint(run_dir: str | Path, *, video_dim: int = TINY_IMAGE_DIM + 2,
                          text_dim: int = TINY_TEXT_DIM, feature_spec: dict = CLIP_FEATURE_SPEC,
                          trained_clips: int = 12, epochs: int = 2, seed: int = 0) -> Path:
    """Train a tiny RDMF model (``rdmf.train.train``) on toy (L, video_dim) / (N, text_dim)
    features into ``run_dir``; its trained length is ``trained_clips`` (longer videos are
    predicted in sliding windows). A few seconds on one CPU core."""
    from rdmf.train import run_config, train
    from rdmf.train.toy import toy_samples

    def split(n, data_seed):
        return FeatureSamples(toy_samples(n, seed=data_seed, video_dim=video_dim,
                                          text_dim=text_dim, num_clips=trained_clips),
                              feature_spec)

    config = run_config(dataset="qvhighlights", hidden=32, heads=4, ffn_dim=64, enc_layers=1,
                        dec_layers=1, rd_channels=4, epochs=epochs, batch_size=8, device="cpu",
                        progress=False, max_clips=trained_clips, seed=seed)
    train(config, run_dir, datasets=(split(16, seed), split(4, seed + 1)), resume=False)
    return Path(run_dir)


def main(argv: list[str] | None = None) -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    clip = save_tiny_clip(args.out_dir / "tiny_clip", seed=0)
    run = train_tiny_checkpoint(args.out_dir / "tiny_run")
    print(f"tiny CLIP: {clip}\ntiny checkpoint: {run}\n"
          f"rdmf predict VIDEO.mp4 --query \"...\" --checkpoint {run} --clip-model {clip} "
          f"--out {args.out_dir / 'predictions'}")


if __name__ == "__main__":
    main()
