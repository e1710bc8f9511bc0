"""Decoding one frame per 2-s clip: clip counts, which frame represents each clip, rotation,
bad files. Videos are encoded here with PyAV; each frame shows its own index in binary."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from rdmf.video.decode import (clip_bounds, clip_centres, decode_clip_frames, iter_clip_frames,
                               num_clips_for, probe_video)
from videos import (corrupt_payload, encode_audio_only, encode_test_video, encode_zero_length,
                    frame_index_of)


@pytest.mark.parametrize("duration, expected", [
    (150.0, 75), (150.0001, 75), (149.0, 75), (150.5, 76), (1.0, 1), (2.0, 1), (2.01, 2),
    (0.0, 0), (-1.0, 0)])
def test_num_clips_is_ceil_of_duration_over_two_seconds(duration, expected):
    assert num_clips_for(duration) == expected
    if duration > 0 and expected:
        assert expected == math.ceil(round(duration / 2.0, 3))


def test_clip_bounds_and_centres_cover_the_video():
    bounds = clip_bounds(7.0)
    np.testing.assert_allclose(bounds, [[0, 2], [2, 4], [4, 6], [6, 7]])
    np.testing.assert_allclose(clip_centres(7.0), [1, 3, 5, 6.5])


@pytest.mark.parametrize("fps", [10.0, 25.0, 29.97, 0.75])
def test_constant_frame_rate_picks_the_frame_shown_at_each_clip_centre(tmp_path, fps):
    duration = 13.0
    times = np.arange(0, duration, 1.0 / fps)
    path = encode_test_video(tmp_path / "cfr.mp4", times, last_frame_s=duration - times[-1])
    frames, centres, info = decode_clip_frames(path, progress=False)
    assert info.num_clips == 7 == len(frames)
    assert info.duration_s == pytest.approx(duration, abs=1e-3)
    np.testing.assert_allclose(centres, [1, 3, 5, 7, 9, 11, 12.5])
    # the frame on screen at t is the last one that started at or before t
    expected = [int(np.searchsorted(times, c + 1e-9, side="right") - 1) for c in centres]
    assert [frame_index_of(f) for f in frames] == expected


def test_variable_frame_rate_uses_each_frames_own_timestamp(tmp_path):
    times = [0.0, 0.3, 0.5, 2.2, 2.25, 2.9, 4.5, 6.1]
    path = encode_test_video(tmp_path / "vfr.mp4", times, last_frame_s=0.5)
    frames, centres, info = decode_clip_frames(path, progress=False)
    assert info.duration_s == pytest.approx(6.6, abs=1e-3)
    np.testing.assert_allclose(centres, [1.0, 3.0, 5.0, 6.3])
    assert [frame_index_of(f) for f in frames] == [2, 5, 6, 7]


def test_frames_rarer_than_clips_repeat_the_frame_on_screen(tmp_path):
    path = encode_test_video(tmp_path / "slow.mp4", [0.0, 5.0], last_frame_s=5.0)
    frames, centres, _ = decode_clip_frames(path, progress=False)
    np.testing.assert_allclose(centres, [1, 3, 5, 7, 9])
    assert [frame_index_of(f) for f in frames] == [0, 0, 1, 1, 1]


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_rotation_metadata_gives_upright_frames(tmp_path, rotation):
    path = encode_test_video(tmp_path / "rot.mp4", np.arange(0, 5, 0.5), size=(80, 48),
                             rotation_deg=rotation)
    frames, _, info = decode_clip_frames(path, progress=False)
    assert info.rotation_deg == rotation % 360
    assert (info.width, info.height) == (80, 48)
    assert frames[0].shape == (48, 80, 3)
    assert [frame_index_of(f) for f in frames] == [2, 6, 9]


def test_progress_bar_goes_to_stderr(tmp_path, capsys):
    path = encode_test_video(tmp_path / "p.mp4", np.arange(0, 4, 0.5))
    list(iter_clip_frames(path, progress=True))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "decode p.mp4" in captured.err


@pytest.mark.realdata
def test_real_qvhighlights_video_has_75_clips_at_odd_seconds(real_data_root):
    path = real_data_root / "qvhighlights" / "video" / "HY7EC5zXoEE_60.0_210.0.mp4"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    info = probe_video(path)
    assert info.num_clips == 75 and info.duration_s == pytest.approx(150.0)
    frames, centres, _ = decode_clip_frames(path, progress=False)
    np.testing.assert_allclose(centres, np.arange(1, 150, 2))
    assert len(frames) == 75 and frames[0].shape == (info.height, info.width, 3)
    assert len({f.tobytes() for f in frames}) > 60  # a real video changes from clip to clip


# ------------------------------------------------------------------ bad input
def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = encode_test_video(tmp_path / "good.mp4", np.arange(0, 6, 0.25))
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 20)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return {
        "missing": (tmp_path / "missing.mp4", "no such file"),
        "folder": (tmp_path, "not a regular file"),
        "text": (text, "not a readable video"),
        "empty file": (empty, "empty"),
        "truncated": (truncated, "not a readable video"),
        "audio only": (encode_audio_only(tmp_path / "audio.m4a"), "no video stream"),
        "zero-length": (encode_zero_length(tmp_path / "zero.avi"), "zero-length"),
        "corrupt frames": (corrupt_payload(good, tmp_path / "corrupt.mp4"), "corrupt"),
    }


def test_bad_files_raise_clear_errors_naming_the_file(tmp_path):
    for case, (path, message) in _bad_files(tmp_path).items():
        with pytest.raises((ValueError, FileNotFoundError)) as info:
            decode_clip_frames(path, progress=False)
        assert str(path) in str(info.value), case
        assert message in str(info.value), (case, str(info.value))
