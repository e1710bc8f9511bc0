"""Sliding windows over long videos: coverage, overlap, saliency averaging, window merging."""

from __future__ import annotations

import numpy as np
import pytest

from rdmf.video.chunking import average_saliency, chunk_ranges, merge_windows, temporal_iou


def test_short_video_is_one_chunk():
    assert chunk_ranges(75, 75) == [(0, 75)]
    assert chunk_ranges(10, 75) == [(0, 10)]


@pytest.mark.parametrize("num_clips, max_clips, overlap", [
    (76, 75, None), (200, 75, None), (151, 75, 10), (1000, 75, 0), (300, 20, 19)])
def test_chunks_have_full_length_cover_every_clip_and_overlap_at_least_as_asked(
        num_clips, max_clips, overlap):
    chunks = chunk_ranges(num_clips, max_clips, overlap)
    assert all(end - start == max_clips for start, end in chunks)
    assert chunks[0][0] == 0 and chunks[-1][1] == num_clips
    wanted = max_clips // 2 if overlap is None else overlap
    for (s0, e0), (s1, e1) in zip(chunks, chunks[1:]):
        assert s0 < s1 and e0 - s1 >= wanted  # consecutive chunks overlap by >= the overlap
    covered = np.zeros(num_clips, int)
    for start, end in chunks:
        covered[start:end] += 1
    assert covered.min() >= 1


def test_chunk_ranges_rejects_bad_settings():
    with pytest.raises(ValueError, match="overlap_clips"):
        chunk_ranges(200, 75, 75)
    with pytest.raises(ValueError, match="num_clips"):
        chunk_ranges(0, 75)


def test_average_saliency_is_the_mean_over_covering_chunks():
    chunks = [(0, 4), (2, 6)]
    scores = [np.array([1.0, 1.0, 1.0, 1.0]), np.array([3.0, 3.0, 3.0, 3.0])]
    np.testing.assert_allclose(average_saliency(chunks, scores, 6), [1, 1, 2, 2, 3, 3])
    with pytest.raises(ValueError, match="shape"):
        average_saliency(chunks, [np.ones(3), np.ones(4)], 6)


def test_temporal_iou():
    assert temporal_iou((0, 10), (5, 15)) == pytest.approx(5 / 15)
    assert temporal_iou((0, 10), (10, 20)) == 0.0
    assert temporal_iou((2, 4), (2, 4)) == 1.0


def test_merge_windows_shifts_suppresses_duplicates_and_clamps():
    # chunk 0 starts at 0 s, chunk 1 at 100 s (video 180 s)
    chunk_windows = [[[90.0, 150.0, 0.6], [10.0, 20.0, 0.9]],      # 90-150 cut by the chunk end
                     [[-5.0, 30.0, 0.8], [60.0, 90.0, 0.3]]]       # -> 95-130 and 160-190
    merged = merge_windows(chunk_windows, [0.0, 100.0], 180.0, top_k=10, nms_iou=0.5)
    # 10-20 (0.9); 95-130 (0.8); 90-150 overlaps 95-130 with IoU 35/60 >= 0.5 -> dropped;
    # 160-190 clamped to 160-180 (0.3)
    assert merged == [[10.0, 20.0, 0.9], [95.0, 130.0, 0.8], [160.0, 180.0, 0.3]]
    assert merge_windows(chunk_windows, [0.0, 100.0], 180.0, top_k=2)[-1] == [95.0, 130.0, 0.8]
    # a looser threshold keeps both overlapping windows
    assert len(merge_windows(chunk_windows, [0.0, 100.0], 180.0, nms_iou=0.9)) == 4
