"""Test helpers: synthetic videos whose frames say when they were shown, and a
small deterministic stand-in for ``rdmf.inference.Predictor``.

Frame ``n`` of :func:`encode_test_video` shows ``n`` in binary as black/white stripes in its top
half, so a decoded frame names its own index (:func:`frame_index_of`) despite lossy compression,
and only when it is upright.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


NUM_BITS = 10


def frame_image(index: int, width: int = 80, height: int = 48) -> np.ndarray:
    """(H, W, 3) uint8 frame ``index``: the top half shows the index in binary as 10 black/white
    vertical stripes (most significant bit left), the bottom half is grey."""
    image = np.full((height, width, 3), 128, dtype=np.uint8)
    edges = np.linspace(0, width, NUM_BITS + 1).round().astype(int)
    for bit in range(NUM_BITS):
        on = (index >> (NUM_BITS - 1 - bit)) & 1
        image[: height // 2, edges[bit]: edges[bit + 1]] = 255 if on else 0
    return image


def frame_index_of(frame: np.ndarray) -> int:
    """The index :func:`frame_image` wrote into a decoded upright (H, W, 3) frame."""
    height, width = frame.shape[:2]
    edges = np.linspace(0, width, NUM_BITS + 1)
    row = frame[height // 8: 3 * height // 8].mean(axis=(0, 2))
    index = 0
    for bit in range(NUM_BITS):
        middle = int(0.5 * (edges[bit] + edges[bit + 1]))
        index = (index << 1) | int(row[middle] > 128)
    return index


def encode_test_video(path: str | Path, frame_times_s, *, size: tuple[int, int] = (80, 48),
                      rotation_deg: int = 0, codec: str = "mpeg4",
                      last_frame_s: float | None = None) -> Path:
    """Write a video whose frame ``n`` is shown from ``frame_times_s[n]`` (any, even irregular,
    spacing) and shows :func:`frame_image` ``(n)``.

    Args:
        size: (width, height) as displayed (upright).
        rotation_deg: counter-clockwise display rotation written to the container; the frames
            are stored rotated the other way, so a player that honours it shows them upright.
        last_frame_s: how long the last frame lasts (default: the previous gap).
    """
    import av

    path = Path(path)
    times = [float(t) for t in frame_times_s]
    width, height = size
    turns = int(round(rotation_deg / 90.0)) % 4
    stored_w, stored_h = (height, width) if turns % 2 else (width, height)
    container = av.open(str(path), "w")
    durations: dict[int, int] = {}
    try:
        stream = container.add_stream(codec, rate=30)
        stream.width, stream.height = stored_w, stored_h
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.time_base = Fraction(1, 1000)
        if rotation_deg:
            stream.set_display_rotation(rotation_deg)
        for index, time_s in enumerate(times):
            image = np.ascontiguousarray(np.rot90(frame_image(index, width, height), k=-turns))
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = int(round(time_s * 1000))
            frame.time_base = Fraction(1, 1000)
            if index + 1 < len(times):
                frame.duration = int(round((times[index + 1] - time_s) * 1000))
            else:
                gap = last_frame_s if last_frame_s is not None else (
                    times[-1] - times[-2] if len(times) > 1 else 1.0)
                frame.duration = int(round(gap * 1000))
            durations[frame.pts] = frame.duration
            for packet in stream.encode(frame):
                _mux(container, packet, durations)
        for packet in stream.encode():
            _mux(container, packet, durations)
    finally:
        container.close()
    return path


def _mux(container, packet, durations: dict[int, int]) -> None:
    # the muxer would give every packet 1/rate; keep each frame's own display time instead
    if packet.pts is not None and packet.pts in durations:
        packet.duration = durations[packet.pts]
    container.mux(packet)


class FakePredictor:
    """A deterministic stand-in with ``rdmf.inference.Predictor``'s interface (for tests).

    Saliency of clip i: cosine between the clip's feature (without the 2 endpoint dims) and the
    mean text token after a fixed random projection; windows: runs of clips above the mean
    saliency, scored by their mean saliency.
    """

    def __init__(self, video_dim: int, text_dim: int, *, max_clips: int = 75, seed: int = 0,
                 video_types=("clip",)):
        # the layout rdmf.train writes into every checkpoint
        self.feature_spec = {"video_feature_types": list(video_types),
                             "video_dim": video_dim + 2, "text_encoder": "clip",
                             "text_dim": text_dim, "clip_len_s": 2.0, "max_clips": max_clips}
        self.projection = np.random.default_rng(seed).standard_normal(
            (text_dim, video_dim)).astype(np.float32)
        self.calls: list[tuple[int, float]] = []

    def predict(self, video_feats, text_feats, duration_s, clip_len_s=2.0, top_k=10):
        video = np.asarray(video_feats, dtype=np.float32)[:, :-2]
        text = np.asarray(text_feats, dtype=np.float32).mean(axis=0) @ self.projection
        saliency = video @ text / (np.linalg.norm(video, axis=1) * np.linalg.norm(text) + 1e-9)
        self.calls.append((len(video), float(duration_s)))
        above = saliency > saliency.mean()
        windows, start = [], None
        for i, flag in enumerate(list(above) + [False]):
            if flag and start is None:
                start = i
            elif not flag and start is not None:
                windows.append([start * clip_len_s, min(i * clip_len_s, duration_s),
                                float(saliency[start:i].mean())])
                start = None
        windows.sort(key=lambda w: -w[2])
        return {"windows": windows[:top_k], "saliency": saliency.astype(float).tolist()}


def encode_audio_only(path: str | Path, seconds: float = 1.0) -> Path:
    """An AAC audio file with no video stream (for the bad-input tests)."""
    import av

    path = Path(path)
    container = av.open(str(path), "w")
    try:
        stream = container.add_stream("aac", rate=8000)
        for index in range(int(seconds * 8000 / 1024) + 1):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                               layout="mono")
            frame.sample_rate = 8000
            frame.pts = index * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    finally:
        container.close()
    return path


def encode_zero_length(path: str | Path) -> Path:
    """A container (AVI) holding a video stream header and no frames."""
    import av

    path = Path(path)
    container = av.open(str(path), "w")
    try:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
    finally:
        container.close()
    return path


def corrupt_payload(source: str | Path, target: str | Path, seed: int = 0) -> Path:
    """Copy an MP4 whose media data (mdat) is replaced by random bytes; headers stay intact."""
    data = bytearray(Path(source).read_bytes())
    start, end = data.find(b"mdat") + 8, data.find(b"moov") - 8
    if start < 8 or end <= start:
        raise ValueError(f"{source}: expected an MP4 with mdat before moov")
    data[start:end] = np.random.default_rng(seed).integers(0, 256, end - start,
                                                            dtype=np.uint8).tobytes()
    Path(target).write_bytes(bytes(data))
    return Path(target)


def truncated_faststart(source: str | Path, target: str | Path, keep: float = 1 / 3) -> Path:
    """Remux an MP4 with ``movflags=faststart`` (index first, as web downloads are) and keep
    only the first ``keep`` of its media data, as an interrupted download leaves it: the header
    still promises every frame."""
    import av

    remuxed = Path(target).with_suffix(".faststart.mp4")
    with av.open(str(source)) as inp, av.open(str(remuxed), "w",
                                              options={"movflags": "faststart"}) as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = stream
            out.mux(packet)
    data = remuxed.read_bytes()
    remuxed.unlink()
    start = data.find(b"mdat")
    if start < 0 or data.find(b"moov") > start:
        raise ValueError(f"{source}: expected the remuxed MP4 to hold moov before mdat")
    Path(target).write_bytes(data[: start + int((len(data) - start) * keep)])
    return Path(target)
