"""The learned floors and temporal references: per-clip relevance logits from a padded batch.

Every model reads the same input, a padded batch (``rdmf.data.sample.Batch``): video features
(B, L, Dv) with a (B, L) mask and query tokens (B, N, Dt) with a (B, N) mask, and returns
per-clip relevance logits (B, L) (0 on padding). They share one input layer,
:class:`ClipQueryInput`, which pairs each clip with the query's sentence embedding; they differ
only in how clips see each other:

- :class:`PerClip` (``per_clip``): an MLP on one clip and the query. No clip sees another, so
  permuting the clips of a video permutes its logits.
- :class:`TemporalConv` (``conv1d``): masked 1-D convolutions along time (each layer sees
  ``kernel // 2`` clips either side; padding is zeroed before every layer, so it never leaks
  across the true length).
- :class:`TemporalGRU` (``bigru``): a bidirectional GRU over packed sequences (each clip sees the
  whole video; lengths respected).

The smoothed floor (``per_clip_smooth``) is :class:`PerClip` followed by
:func:`rdmf.baselines.smoother.smooth_scores`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def sentence_embedding(text: torch.Tensor, text_mask: torch.Tensor) -> torch.Tensor:
    """(B, N, Dt) tokens, (B, N) mask -> (B, Dt): the mean of the L2-normalised real tokens,
    L2-normalised (the trivial predictors' query embedding)."""
    tokens = F.normalize(text, dim=-1) * text_mask[..., None].to(text.dtype)
    count = text_mask.sum(1, keepdim=True).clamp(min=1).to(text.dtype)
    return F.normalize(tokens.sum(1) / count, dim=-1)


class ClipQueryInput(nn.Module):
    """Each clip paired with the query: (B, L, Dv), (B, N, Dt) -> (B, L, width).

    ``u = W_v LayerNorm(clip)``, ``t = W_t query``; the output is ``ReLU(W [u; t; u * t])``, the
    product letting a single layer express clip-query agreement. Nothing here mixes clips.
    """

    def __init__(self, video_dim: int, text_dim: int, width: int, dropout: float = 0.1):
        super().__init__()
        self.video_norm = nn.LayerNorm(video_dim)
        self.video = nn.Linear(video_dim, width)
        self.text = nn.Linear(text_dim, width)
        self.mix = nn.Linear(3 * width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, video, video_mask, text, text_mask) -> torch.Tensor:
        u = self.video(self.video_norm(video))                              # (B, L, w)
        t = self.text(sentence_embedding(text, text_mask))[:, None]         # (B, 1, w)
        t = t.expand_as(u)
        x = torch.relu(self.mix(torch.cat([u, t, u * t], -1)))
        return self.dropout(x) * video_mask[..., None].to(x.dtype)


class PerClip(nn.Module):
    """``per_clip``: :class:`ClipQueryInput` then an MLP (width -> width -> 1) on each clip alone."""

    def __init__(self, video_dim: int, text_dim: int, width: int = 128, dropout: float = 0.1):
        super().__init__()
        self.input = ClipQueryInput(video_dim, text_dim, width, dropout)
        self.hidden = nn.Linear(width, width)
        self.out = nn.Linear(width, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, video, video_mask, text, text_mask) -> torch.Tensor:
        """Logits (B, L); 0 on padding."""
        x = self.input(video, video_mask, text, text_mask)
        x = self.dropout(torch.relu(self.hidden(x)))
        return self.out(x)[..., 0] * video_mask.to(x.dtype)


class TemporalConv(nn.Module):
    """``conv1d``: :class:`ClipQueryInput`, then ``layers`` residual blocks
    ``x + ReLU(Conv1d_k(x * mask))`` along time, then a linear read-out per clip.

    The receptive field is ``layers * (kernel - 1) + 1`` clips. Padding clips are zero before
    every convolution, exactly as the convolution's own zero padding beyond the true end, so the
    logits of real clips do not depend on how far the batch is padded.
    """

    def __init__(self, video_dim: int, text_dim: int, width: int = 128, dropout: float = 0.1,
                 layers: int = 2, kernel: int = 5):
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError(f"conv1d: the kernel must be odd (centred), got {kernel}")
        self.input = ClipQueryInput(video_dim, text_dim, width, dropout)
        self.convs = nn.ModuleList(nn.Conv1d(width, width, kernel, padding=kernel // 2)
                                   for _ in range(layers))
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(width, 1)

    def forward(self, video, video_mask, text, text_mask) -> torch.Tensor:
        """Logits (B, L); 0 on padding."""
        mask = video_mask[:, None, :].to(video.dtype)                       # (B, 1, L)
        x = self.input(video, video_mask, text, text_mask).transpose(1, 2)  # (B, w, L)
        for conv in self.convs:
            x = x + self.dropout(torch.relu(conv(x * mask)))
        x = (x * mask).transpose(1, 2)
        return self.out(x)[..., 0] * video_mask.to(x.dtype)


class TemporalGRU(nn.Module):
    """``bigru``: :class:`ClipQueryInput`, a bidirectional GRU (``width // 2`` per direction)
    over the packed true lengths, then a linear read-out per clip."""

    def __init__(self, video_dim: int, text_dim: int, width: int = 128, dropout: float = 0.1,
                 layers: int = 1):
        super().__init__()
        if width % 2:
            raise ValueError(f"bigru: the width must be even (two directions), got {width}")
        self.input = ClipQueryInput(video_dim, text_dim, width, dropout)
        self.gru = nn.GRU(width, width // 2, num_layers=layers, batch_first=True,
                          bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(width, 1)

    def forward(self, video, video_mask, text, text_mask) -> torch.Tensor:
        """Logits (B, L); 0 on padding."""
        x = self.input(video, video_mask, text, text_mask)
        lengths = video_mask.sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        y, _ = pad_packed_sequence(self.gru(packed)[0], batch_first=True,
                                   total_length=x.shape[1])
        return self.out(self.dropout(y))[..., 0] * video_mask.to(y.dtype)


#: learned model name -> class (``per_clip_smooth`` trains a :class:`PerClip`)
MODELS = {"per_clip": PerClip, "per_clip_smooth": PerClip, "conv1d": TemporalConv,
          "bigru": TemporalGRU}


def build_floor(name: str, video_dim: int, text_dim: int, width: int = 128,
                dropout: float = 0.1, **kw) -> nn.Module:
    """The learned model ``name`` (a key of :data:`MODELS`); ``kw``: ``layers``/``kernel`` of the
    temporal references."""
    if name not in MODELS:
        raise ValueError(f"unknown learned floor {name!r}; valid: {', '.join(MODELS)}")
    return MODELS[name](video_dim, text_dim, width, dropout, **kw)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
