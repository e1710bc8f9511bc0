"""Decode one frame per clip from a video file with PyAV.

A video of ``duration_s`` seconds is cut into ``L = ceil(duration_s / clip_len_s)`` clips of
``clip_len_s`` (2 s, as in QVHighlights); the last one may be shorter. Clip ``i`` covers
``[i * clip_len_s, min((i + 1) * clip_len_s, duration_s))`` and is represented by the frame on
screen at the clip's centre: the last decoded frame whose presentation time is at or before the
centre (the first frame when the video starts later). Presentation times come from each frame's
own timestamp, so any frame rate and variable frame rates give the right frame. The rotation
stored in the container's display matrix is applied, so frames come out upright.

A clip after the last frame shows that frame only while it is still on screen: when the decoded
frames end more than ``TRUNCATION_TOLERANCE_S`` (plus one frame) before the duration the container
states (a truncated download, a cut file), decoding is an error naming the file, the stated and
the decoded duration; the missing time is never filled with the last frame.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from rdmf.data.sample import CLIP_LEN_S

# A trailing fragment shorter than this fraction of a clip is container rounding, not a clip
# (a 150.001 s QVHighlights video has 75 clips, not 76).
_FRAGMENT_TOLERANCE = 1e-3
# decoded frames may end this much (plus one frame interval) before the stated duration:
# container rounding, an audio track a little longer than the video
TRUNCATION_TOLERANCE_S = 0.5


@dataclass(frozen=True)
class VideoInfo:
    """What the decoder learnt about a video before decoding it."""

    path: str
    duration_s: float
    clip_len_s: float
    num_clips: int
    width: int            # after rotation
    height: int           # after rotation
    average_fps: float | None
    rotation_deg: int     # counter-clockwise rotation applied to every frame
    codec: str

    def to_dict(self) -> dict:
        return asdict(self)


def num_clips_for(duration_s: float, clip_len_s: float = CLIP_LEN_S) -> int:
    """``ceil(duration_s / clip_len_s)``, ignoring a trailing fragment below 0.1 % of a clip."""
    if not duration_s > 0:
        return 0
    return max(1, math.ceil(duration_s / clip_len_s - _FRAGMENT_TOLERANCE))


def clip_bounds(duration_s: float, clip_len_s: float = CLIP_LEN_S) -> np.ndarray:
    """(L, 2) float64 start and end of every clip in seconds; the last end is ``duration_s``."""
    num = num_clips_for(duration_s, clip_len_s)
    starts = np.arange(num, dtype=np.float64) * clip_len_s
    ends = np.minimum(starts + clip_len_s, duration_s)
    return np.stack([starts, ends], axis=1)


def clip_centres(duration_s: float, clip_len_s: float = CLIP_LEN_S) -> np.ndarray:
    """(L,) float64 centre of every clip in seconds (the time of the frame that represents it)."""
    bounds = clip_bounds(duration_s, clip_len_s)
    return bounds.mean(axis=1)


def _open(path: Path):
    import av

    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise ValueError(f"{path}: not a regular file")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the file is empty (0 bytes, zero-length video)")
    try:
        container = av.open(str(path))
    except PermissionError:
        raise ValueError(f"{path}: permission denied (cannot read the file)") from None
    except av.error.FFmpegError as err:
        raise ValueError(f"{path}: not a readable video (corrupt or unsupported format: "
                         f"{err.strerror or err})") from None
    if not container.streams.video:
        kinds = sorted({stream.type for stream in container.streams})
        container.close()
        if not kinds:
            raise ValueError(f"{path}: not a readable video (no streams found: truncated or not "
                             "a media file)")
        raise ValueError(f"{path}: the file has no video stream (only {', '.join(kinds)})")
    return container


def _stream_start_s(stream) -> float:
    if stream.start_time is not None and stream.time_base is not None:
        return float(stream.start_time * stream.time_base)
    return 0.0


def _duration_s(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / 1_000_000.0  # AV_TIME_BASE
    return None


def _rotation_deg(frame) -> int:
    """Counter-clockwise display rotation of ``frame``, snapped to a multiple of 90 degrees."""
    rotation = getattr(frame, "rotation", 0) or 0
    return int(round(rotation / 90.0)) * 90 % 360


def rotate_upright(image: np.ndarray, rotation_deg: int) -> np.ndarray:
    """(H, W, 3) stored frame -> displayed frame, rotated counter-clockwise by ``rotation_deg``."""
    k = (int(round(rotation_deg / 90.0))) % 4
    return np.ascontiguousarray(np.rot90(image, k=k)) if k else image


def probe_video(path: str | Path, clip_len_s: float = CLIP_LEN_S) -> VideoInfo:
    """Open ``path``, check it holds a decodable video stream and return its :class:`VideoInfo`.

    Decodes the first frame (to learn its rotation) and, when the container does not state a
    duration, the whole stream. Raises ``FileNotFoundError``/``ValueError`` naming the file.
    """
    import av

    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        first = None
        last_time = None
        try:
            for frame in container.decode(stream):
                first = frame
                break
        except av.error.FFmpegError as err:
            raise ValueError(f"{path}: corrupt video stream ({err.strerror or err})") from None
        if first is None:
            raise ValueError(f"{path}: the video stream has no frames (zero-length video)")
        duration = _duration_s(container, stream)
        if duration is None:  # no duration in the header: find the last frame's end
            last = first
            try:
                for frame in container.decode(stream):
                    last = frame
            except av.error.FFmpegError as err:
                raise ValueError(f"{path}: corrupt video stream ({err.strerror or err})") from None
            last_time = (last.time or 0.0) - _stream_start_s(stream)
            frame_dur = (1.0 / float(stream.average_rate)) if stream.average_rate else 0.0
            duration = last_time + frame_dur
        if not duration or duration <= 0:
            raise ValueError(f"{path}: zero-length video (duration {duration} s)")
        rotation = _rotation_deg(first)
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        fps = float(stream.average_rate) if stream.average_rate else None
        return VideoInfo(path=str(path), duration_s=float(duration), clip_len_s=float(clip_len_s),
                         num_clips=num_clips_for(duration, clip_len_s), width=width,
                         height=height, average_fps=fps, rotation_deg=rotation,
                         codec=stream.codec_context.name)
    finally:
        container.close()


def iter_clip_frames(path: str | Path, clip_len_s: float = CLIP_LEN_S, *,
                     info: VideoInfo | None = None, progress: bool = True
                     ) -> Iterator[tuple[int, float, np.ndarray]]:
    """Yield ``(clip_index, centre_s, frame)`` for every clip, in order.

    ``frame`` is the upright (H, W, 3) uint8 RGB frame on screen at the clip's centre. Decodes the
    stream once, converting only the frames that are used. A progress bar (tqdm, on stderr) counts
    clips unless ``progress=False``.
    """
    import av
    from tqdm.auto import tqdm

    path = Path(path)
    info = info or probe_video(path, clip_len_s)
    centres = clip_centres(info.duration_s, clip_len_s)
    container = _open(path)
    bar = tqdm(total=len(centres), desc=f"decode {path.name}", unit="clip",
               disable=not progress, file=sys.stderr, leave=False)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        start_s = _stream_start_s(stream)
        next_clip = 0
        previous = None
        rate = float(stream.average_rate) if stream.average_rate else None

        def emit(frame):
            image = frame.to_ndarray(format="rgb24")
            return rotate_upright(image, _rotation_deg(frame))

        decoded, end_s = 0, 0.0
        try:
            for index, frame in enumerate(container.decode(stream)):
                if frame.time is not None:
                    time_s = frame.time - start_s
                elif rate:
                    time_s = index / rate
                else:
                    raise ValueError(f"{path}: frames carry no timestamps and the stream states "
                                     "no frame rate")
                decoded = index + 1
                end_s = max(end_s, time_s + _frame_duration_s(frame, stream, rate))
                # every clip whose centre comes before this frame is shown by the previous frame
                while next_clip < len(centres) and centres[next_clip] < time_s - 1e-6:
                    chosen = previous if previous is not None else frame
                    yield next_clip, float(centres[next_clip]), emit(chosen)
                    bar.update(1)
                    next_clip += 1
                if next_clip >= len(centres):
                    break
                previous = frame
        except av.error.FFmpegError as err:
            raise ValueError(f"{path}: corrupt video stream near clip {next_clip} "
                             f"(t = {centres[min(next_clip, len(centres) - 1)]:.1f} s): "
                             f"{err.strerror or err}") from None
        if previous is None and next_clip < len(centres):
            raise ValueError(f"{path}: the video stream has no frames (zero-length video)")
        if next_clip < len(centres):
            _check_not_truncated(path, info, stream, decoded, end_s, rate)
        while next_clip < len(centres):  # clips after the last frame keep showing it
            yield next_clip, float(centres[next_clip]), emit(previous)
            bar.update(1)
            next_clip += 1
    finally:
        bar.close()
        container.close()


def _frame_duration_s(frame, stream, rate: float | None) -> float:
    """How long ``frame`` stays on screen: its own duration, else one frame at the average rate."""
    duration = getattr(frame, "duration", None)
    time_base = frame.time_base or stream.time_base
    if duration and time_base is not None:
        return float(duration * time_base)
    return 1.0 / rate if rate else 0.0


def _check_not_truncated(path: Path, info: VideoInfo, stream, decoded: int, end_s: float,
                         rate: float | None) -> None:
    """Raise when the decoded frames stop well before the duration the container states."""
    frame_s = 1.0 / rate if rate else 0.0
    if end_s >= info.duration_s - TRUNCATION_TOLERANCE_S - frame_s:
        return
    promised = f", {stream.frames} frames" if stream.frames else ""
    raise ValueError(
        f"{path}: truncated or corrupt video: the container states {info.duration_s:.1f} s"
        f"{promised}, but only {decoded} frame(s) covering {end_s:.1f} s could be decoded "
        "(re-download or re-encode the file)")


def decode_clip_frames(path: str | Path, clip_len_s: float = CLIP_LEN_S, *,
                       progress: bool = True) -> tuple[list[np.ndarray], np.ndarray, VideoInfo]:
    """All clip frames at once: (list of L (H, W, 3) uint8 frames, (L,) centres in s, info).

    Holds every frame in memory; for long videos prefer :func:`iter_clip_frames`.
    """
    info = probe_video(path, clip_len_s)
    frames, times = [], []
    for _, centre, frame in iter_clip_frames(path, clip_len_s, info=info, progress=progress):
        frames.append(frame)
        times.append(centre)
    return frames, np.asarray(times, dtype=np.float64), info
