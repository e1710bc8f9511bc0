"""DETR-style transformer pieces: sine positions, encoder, decoder with auxiliary outputs, and the
text-to-video cross-attention layer of QD-DETR. Post-norm layers as in DETR / Moment-DETR.

Layout is batch-first: tokens (B, L, d), key-padding masks (B, L) with True on REAL tokens
(the inverse of PyTorch's ``key_padding_mask``; converted inside).
"""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as nnf


def sine_positions(mask: torch.Tensor, dim: int, temperature: float = 10000.0) -> torch.Tensor:
    """(B, L) bool mask -> (B, L, dim) sine/cosine encoding of the normalised clip position.

    As Moment-DETR's ``PositionEmbeddingSine(normalize=True)``: position = cumulative count of real
    clips, scaled to (0, 2π]; padded clips get the position of the last real one (never attended).
    """
    position = mask.float().cumsum(dim=1)
    position = position / (position[:, -1:].clamp(min=1.0)) * (2 * math.pi)
    freqs = temperature ** (2 * (torch.arange(dim, device=mask.device) // 2) / dim)
    angles = position[:, :, None] / freqs
    return torch.stack([angles[:, :, 0::2].sin(), angles[:, :, 1::2].cos()], dim=3).flatten(2)


def _padding(mask: torch.Tensor | None) -> torch.Tensor | None:
    return None if mask is None else ~mask


class FeedForward(nn.Module):
    def __init__(self, dim: int, ffn_dim: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, ffn_dim), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(ffn_dim, dim))
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.dropout(self.net(x)))


class EncoderLayer(nn.Module):
    """Self-attention (positions added to queries and keys) + feed-forward."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, ffn_dim, dropout)

    def forward(self, x, mask, pos):
        q = x + pos
        attended = self.attn(q, q, x, key_padding_mask=_padding(mask), need_weights=False)[0]
        return self.ffn(self.norm(x + self.dropout(attended)))


class CrossAttentionLayer(nn.Module):
    """QD-DETR's text-to-video layer: clips attend to the query tokens, then feed-forward."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, ffn_dim, dropout)

    def forward(self, video, video_pos, text, text_mask):
        attended = self.attn(video + video_pos, text, text, key_padding_mask=_padding(text_mask),
                             need_weights=False)[0]
        return self.ffn(self.norm(video + self.dropout(attended)))


class Encoder(nn.Module):
    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float, layers: int):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(dim, heads, ffn_dim, dropout) for _ in range(layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """x (B, S, d), mask (B, S) True on real tokens, pos (B, S, d) -> (B, S, d)."""
        for layer in self.layers:
            x = layer(x, mask, pos)
        return x


class DecoderLayer(nn.Module):
    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, ffn_dim, dropout)

    def forward(self, tgt, query_pos, memory, memory_mask, memory_pos):
        q = tgt + query_pos
        tgt = self.norm1(tgt + self.dropout1(self.self_attn(q, q, tgt, need_weights=False)[0]))
        attended = self.cross_attn(tgt + query_pos, memory + memory_pos, memory,
                                   key_padding_mask=_padding(memory_mask), need_weights=False)[0]
        tgt = self.norm2(tgt + self.dropout2(attended))
        return self.ffn(tgt)


class Decoder(nn.Module):
    """DETR decoder: learned query positions, zero initial targets, every layer's output kept."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float, layers: int):
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(dim, heads, ffn_dim, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)

    def forward(self, query_pos, memory, memory_mask, memory_pos) -> torch.Tensor:
        """query_pos (B, Q, d), memory (B, S, d) -> (layers, B, Q, d) normalised outputs."""
        tgt = torch.zeros_like(query_pos)
        outputs = []
        for layer in self.layers:
            tgt = layer(tgt, query_pos, memory, memory_mask, memory_pos)
            outputs.append(self.norm(tgt))
        return torch.stack(outputs)


def inverse_sigmoid(x: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    x = x.clamp(eps, 1 - eps)
    return torch.log(x / (1 - x))


def span_sine_embedding(spans: torch.Tensor, dim: int, temperature: float = 10000.0) -> torch.Tensor:
    """(…, 2) normalised (center, width) -> (…, dim) sine embedding: half the channels encode the
    center, half the width, with the frequencies and the (0, 2π] scaling of :func:`sine_positions`."""
    half = dim // 2
    freqs = temperature ** (2 * (torch.arange(half, device=spans.device) // 2) / half)
    angles = spans[..., :, None] * (2 * math.pi) / freqs                     # (…, 2, half)
    emb = torch.stack([angles[..., 0::2].sin(), angles[..., 1::2].cos()], dim=-1).flatten(-2)
    return emb.flatten(-2)                                                 # (…, 2·half)


class AnchorDecoder(nn.Module):
    """DETR decoder with learned span anchors refined layer by layer (DAB-DETR, as in the
    anchor-based moment-retrieval DETRs): every query carries a normalised (center, width)
    anchor; its positional query is an MLP of the anchor's sine embedding (so it lives in the
    space of the clips' positions), and each layer predicts an offset of the anchor in logit
    space, ``span = σ(σ⁻¹(anchor) + Δ)``; the next layer starts from the refined (detached) span.

    Anchors start evenly spread: centers on a grid over (0, 1), widths cycling through a few
    moment lengths, so that Hungarian matching has a query near every moment from step one.
    """

    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float, layers: int,
                 num_queries: int | None):
        """``num_queries=None``: no learned anchors; every call passes its own ``ref`` (two-stage
        proposals), so that no parameter goes without a gradient (DDP requires it)."""
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(dim, heads, ffn_dim, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        if num_queries is not None:
            centers = (torch.arange(num_queries, dtype=torch.float32) + 0.5) / num_queries
            widths = torch.tensor([0.05, 0.1, 0.2])[torch.arange(num_queries) % 3]
            self.anchors = nn.Parameter(inverse_sigmoid(torch.stack([centers, widths], -1)))
        self.pos_mlp = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.delta = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU(),
                                   nn.Linear(dim, 2))
        nn.init.zeros_(self.delta[-1].weight)
        nn.init.zeros_(self.delta[-1].bias)

    def forward(self, memory, memory_mask, memory_pos, ref: torch.Tensor | None = None,
                tgt: torch.Tensor | None = None):
        """memory (B, S, d) -> hidden (layers, B, Q, d) and spans (layers, B, Q, 2).

        ``ref`` (B, Q, 2): per-sample initial anchors (two-stage proposals) instead of the learned
        ones; ``tgt`` (B, Q, d): initial content of the queries (zeros by default)."""
        batch, dim = memory.shape[0], memory.shape[-1]
        if ref is None:
            if not hasattr(self, "anchors"):
                raise ValueError("AnchorDecoder built without learned anchors needs ref")
            ref = self.anchors.sigmoid().unsqueeze(0).expand(batch, -1, -1)
        if tgt is None:
            tgt = memory.new_zeros(batch, ref.shape[1], dim)
        hidden, spans = [], []
        for layer in self.layers:
            query_pos = self.pos_mlp(span_sine_embedding(ref, dim).to(memory.dtype))
            tgt = layer(tgt, query_pos, memory, memory_mask, memory_pos)
            h = self.norm(tgt)
            span = (inverse_sigmoid(ref.float()) + self.delta(h).float()).sigmoid()
            hidden.append(h)
            spans.append(span)
            ref = span.detach()
        return torch.stack(hidden), torch.stack(spans)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, N, d), (B, N) bool -> (B, d) mean over the real tokens."""
    weights = mask.to(x.dtype).unsqueeze(-1)
    return (x * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax over ``dim`` ignoring masked-out entries (mask True = keep); all-masked rows -> 0."""
    scores = scores.masked_fill(~mask, float("-inf"))
    out = nnf.softmax(scores, dim=dim)
    return torch.nan_to_num(out, nan=0.0)
