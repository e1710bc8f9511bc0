"""A tiny randomly initialised CLIP (and a byte-level tokenizer) built from a config: no download.

Used by the tests and for trying the predict command end to end without real CLIP weights. Its
features are meaningless; only shapes, plumbing and determinism can be checked with it.
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
