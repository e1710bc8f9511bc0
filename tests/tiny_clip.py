"""A tiny randomly initialised CLIP (and a byte-level tokenizer) built from a config, and a tiny
RDMF checkpoint trained on toy features of that CLIP's widths: no download.

Used by the tests of the real CLIP loading and prediction code, and by ``tools/predict_demo.py``
for trying the predict command end to end without real weights. The features and predictions
are meaningless; only shapes, plumbing and determinism can be checked with them.
"""

from __future__ import annotations

from pathlib import Path


def make_tiny_clip(*, seed: int = 0, image_size: int = 32, projection_dim: int = 24,
                   text_hidden: int = 32):
    """Return ``(model, tokenizer)``: a random ``transformers.CLIPModel`` and a ``CLIPTokenizer``.

    The tokenizer's vocabulary is the 256 byte-level symbols (alone and word-final) plus the two
    CLIP special tokens, with no merges, so every character is one token.
    """
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    symbols = list(bytes_to_unicode().values())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for symbol in symbols:
        vocab[symbol] = len(vocab)
    for symbol in symbols:
        vocab[symbol + "</w>"] = len(vocab)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[])
    config = CLIPConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=text_hidden,
                         intermediate_size=2 * text_hidden, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=77,
                         bos_token_id=0, eos_token_id=1, pad_token_id=1),
        vision_config=dict(image_size=image_size, patch_size=max(image_size // 4, 1),
                           hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=2),
        projection_dim=projection_dim)
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = CLIPModel(config).eval()
    finally:
        torch.random.set_rng_state(generator_state)
    return model, tokenizer


def save_tiny_clip(folder: str | Path, **kwargs) -> Path:
    """Write a tiny random CLIP (weights, config, tokenizer) to ``folder`` for ``--clip-model``."""
    folder = Path(folder)
    model, tokenizer = make_tiny_clip(**kwargs)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


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
