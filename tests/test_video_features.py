"""CLIP features from a tiny random CLIP (built from a config, nothing downloaded) and the
per-video HDF5 cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rdmf.video.clip_features as clip_features
from rdmf.video.clip_features import (ClipExtractor, cache_file, extract_video_features,
                                      read_cache)
from tiny_clip import make_tiny_clip, save_tiny_clip
from videos import encode_test_video


@pytest.fixture(scope="module")
def extractor():
    model, tokenizer = make_tiny_clip(seed=0)
    return ClipExtractor(model, tokenizer, name="tiny-0", batch_size=4)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    folder = tmp_path_factory.mktemp("videos")
    return encode_test_video(folder / "clip.mp4", np.arange(0, 9, 0.25))


def test_image_features_equal_the_clip_model_on_the_same_pixels(extractor):
    frames = [np.random.default_rng(i).integers(0, 256, (40, 60, 3), dtype=np.uint8)
              for i in range(3)]
    feats = extractor.encode_images(frames)
    assert feats.shape == (3, extractor.image_dim) and feats.dtype == np.float32
    pixels = extractor.preprocess(frames)
    assert pixels.shape == (3, 3, 32, 32)
    with torch.no_grad():
        reference = extractor.model.get_image_features(pixel_values=pixels)
    reference = getattr(reference, "pooler_output", reference)  # tensor in transformers 4.x
    np.testing.assert_allclose(feats, reference.numpy(), rtol=1e-5, atol=1e-6)
    # batching does not change a frame's feature
    np.testing.assert_allclose(extractor.encode_images(frames[1:2])[0], feats[1], atol=1e-6)


def test_preprocess_resizes_the_short_side_and_crops_the_centre(extractor):
    frame = np.zeros((32, 96, 3), dtype=np.uint8)
    frame[:, 32:64] = 255  # the centre third is white: all that survives the centre crop
    pixels = extractor.preprocess([frame])[0]
    white = (torch.ones(3) - extractor.mean.view(3)) / extractor.std.view(3)
    torch.testing.assert_close(pixels[:, 4:28, 4:28].mean(dim=(1, 2)), white, atol=0.05,
                               rtol=0.0)


def test_text_features_are_per_token_last_hidden_states(extractor):
    query = "a man opens the fridge"
    feats = extractor.encode_text(query)
    # one token per non-space character, plus the start and end tokens
    assert feats.shape == (len(query.replace(" ", "")) + 2, extractor.text_dim)
    assert np.array_equal(feats, extractor.encode_text("  " + query + " "))  # stripped
    with pytest.raises(ValueError, match="empty query"):
        extractor.encode_text("   ")


def test_video_features_shape_and_cache_hit_skips_decoding(tmp_path, extractor, video,
                                                           monkeypatch):
    first = extract_video_features(video, extractor, cache_dir=tmp_path, progress=False)
    assert first.clip_features.shape == (5, extractor.image_dim)  # ceil(9 / 2)
    np.testing.assert_allclose(first.centres_s, [1, 3, 5, 7, 8.5])
    assert first.thumbnails.shape[0] == 5 and first.thumbnails.dtype == np.uint8
    assert not first.from_cache
    assert cache_file(tmp_path, first.video_sha256, extractor.extractor_id).is_file()

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although the features were cached")

    monkeypatch.setattr(clip_features, "iter_clip_frames", no_decoding)
    second = extract_video_features(video, extractor, cache_dir=tmp_path, progress=False)
    assert second.from_cache
    assert np.array_equal(second.clip_features, first.clip_features)
    assert np.array_equal(second.thumbnails, first.thumbnails)
    assert second.info == first.info


def test_cache_is_keyed_by_content_and_extractor(tmp_path, extractor, video):
    other_model, tokenizer = make_tiny_clip(seed=1)
    other = ClipExtractor(other_model, tokenizer, name="tiny-1")
    assert other.extractor_id != extractor.extractor_id
    a = extract_video_features(video, extractor, cache_dir=tmp_path, progress=False)
    b = extract_video_features(video, other, cache_dir=tmp_path, progress=False)
    assert not b.from_cache and not np.allclose(a.clip_features, b.clip_features)
    copy = tmp_path / "renamed.mp4"
    copy.write_bytes(video.read_bytes())
    c = extract_video_features(copy, extractor, cache_dir=tmp_path, progress=False)
    assert c.from_cache and c.info.path == str(copy)  # same bytes, other name: still a hit


def test_damaged_cache_entry_is_recomputed(tmp_path, extractor, video):
    first = extract_video_features(video, extractor, cache_dir=tmp_path, progress=False)
    path = cache_file(tmp_path, first.video_sha256, extractor.extractor_id)
    path.write_bytes(b"not hdf5")
    assert read_cache(path, video) is None
    again = extract_video_features(video, extractor, cache_dir=tmp_path, progress=False)
    assert not again.from_cache
    assert np.array_equal(again.clip_features, first.clip_features)


def test_from_pretrained_folder_matches_the_in_memory_model(tmp_path, extractor):
    folder = save_tiny_clip(tmp_path / "tiny_clip", seed=0)
    loaded = ClipExtractor.from_pretrained(str(folder))
    assert loaded.extractor_id == extractor.extractor_id
    frames = [np.full((20, 30, 3), 90, dtype=np.uint8)]
    # same weights; the attention kernel transformers picks when loading may differ in the last bit
    np.testing.assert_allclose(loaded.encode_images(frames), extractor.encode_images(frames),
                               atol=1e-5)
    np.testing.assert_allclose(loaded.encode_text("dog"), extractor.encode_text("dog"), atol=1e-5)


def test_from_pretrained_bad_path_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="--clip-model .*nothing_here"):
        ClipExtractor.from_pretrained(str(tmp_path / "nothing_here"))


def test_feature_extraction_shows_one_progress_bar_on_stderr(tmp_path, extractor, video, capsys):
    extract_video_features(video, extractor, cache_dir=None, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and "decode + CLIP clip.mp4" in captured.err
