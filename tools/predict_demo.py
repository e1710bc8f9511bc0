"""Everything ``rdmf predict`` needs, without downloading anything: a tiny random CLIP folder and
a tiny RDMF checkpoint trained for a few steps on toy features of that CLIP's widths (the
stand-ins of the tests, ``tests/tiny_clip.py``).

    PYTHONPATH=. python tools/predict_demo.py OUT_DIR
    rdmf predict VIDEO.mp4 --query "..." --checkpoint OUT_DIR/tiny_run \\
        --clip-model OUT_DIR/tiny_clip --out OUT_DIR/predictions

The predictions are meaningless (random CLIP, toy training data); the plumbing is the real one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tiny_clip import save_tiny_clip, train_tiny_checkpoint  # noqa: E402


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
