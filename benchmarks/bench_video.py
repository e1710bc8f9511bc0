"""Time decode + CLIP features per minute of video on CPU.

    PYTHONPATH=. python benchmarks/bench_video.py [VIDEO ...] [--threads 1] [--vit-b32]

Without videos it times a synthetic 60-s 640x360 30-fps clip (written to a temporary folder).
``--vit-b32`` also times a randomly initialised CLIP ViT-B/32 (``transformers.CLIPConfig()``
defaults: the architecture of QVHighlights' features; random weights cost the same time as the
real ones, and nothing is downloaded).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _synthetic_video(folder: Path, seconds: float = 60.0, fps: float = 30.0,
                     size: tuple[int, int] = (640, 360)) -> Path:
    import av

    path = folder / f"synthetic_{size[0]}x{size[1]}_{fps:g}fps.mp4"
    container = av.open(str(path), "w")
    stream = container.add_stream("mpeg4", rate=int(fps))
    stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    for index in range(int(seconds * fps)):
        image = np.roll(np.kron(base, np.ones((8, 8, 1), np.uint8)), index * 4, axis=1)
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def time_video(path: Path, extractor, repeats: int = 2) -> dict:
    """Seconds for decoding alone and for decode + features (best of ``repeats``, after a warm-up
    decode), and both per minute of video."""
    from rdmf.video.clip_features import extract_video_features
    from rdmf.video.decode import iter_clip_frames, probe_video

    info = probe_video(path)
    decode_s, total_s = float("inf"), float("inf")
    for _ in iter_clip_frames(path, info=info, progress=False):  # warm-up (codec, file cache)
        pass
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in iter_clip_frames(path, info=info, progress=False):
            pass
        decode_s = min(decode_s, time.perf_counter() - start)
        start = time.perf_counter()
        extract_video_features(path, extractor, cache_dir=None, progress=False)
        total_s = min(total_s, time.perf_counter() - start)
    minutes = info.duration_s / 60.0
    return {"video": path.name, "duration_s": info.duration_s, "clips": info.num_clips,
            "size": f"{info.width}x{info.height}", "fps": info.average_fps,
            "decode_s": decode_s, "decode_plus_features_s": total_s,
            "decode_s_per_min": decode_s / minutes, "total_s_per_min": total_s / minutes}


def main(argv: list[str] | None = None) -> None:
    import torch

    from rdmf.video.clip_features import ClipExtractor

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from tiny_clip import make_tiny_clip

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("videos", nargs="*", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--vit-b32", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    extractors = {"tiny CLIP (tests)": ClipExtractor(*make_tiny_clip(seed=0), name="tiny")}
    if args.vit_b32:
        from transformers import CLIPConfig, CLIPModel

        torch.manual_seed(0)
        model = CLIPModel(CLIPConfig()).eval()
        extractors["CLIP ViT-B/32 (random weights)"] = ClipExtractor(model, None, name="vit-b32")
    with tempfile.TemporaryDirectory() as tmp:
        videos = args.videos or [_synthetic_video(Path(tmp))]
        for name, extractor in extractors.items():
            for video in videos:
                row = time_video(Path(video), extractor)
                print(f"{name:32s} {row['video']:40s} {row['duration_s']:6.1f} s "
                      f"{row['size']:>9s} @ {row['fps'] or 0:5.1f} fps: decode "
                      f"{row['decode_s_per_min']:6.2f} s/min, decode + features "
                      f"{row['total_s_per_min']:6.2f} s/min ({args.threads} thread(s))")


if __name__ == "__main__":
    main()
