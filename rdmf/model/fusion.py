"""Fusion of projected video and text, chosen by one switch (docs/design.md §4):

- ``rd``              RDMF: reaction-diffusion on the clip lattice (:mod:`rdmf.model.rd_fusion`);
- ``concat``          Moment-DETR: video and text tokens concatenated into the encoder;
- ``cross_attention`` QD-DETR: text-to-video cross-attention layers before the encoder.

Every fusion maps video X (B, L, d), text T (B, N, d) and their masks to the encoder's input
tokens, their mask and positions (B, S, d) — the first L tokens are always the clips — and a
per-clip saliency logit (B, L) to add to the saliency head's, or None (only RDMF with
``readout = "saliency"`` has one).
"""

from __future__ import annotations

import torch
from torch import nn

from .rd_fusion import RDFusion, RDSettings
from .transformer import CrossAttentionLayer

FUSIONS = ("rd", "concat", "cross_attention")


class ConcatFusion(nn.Module):
    """Moment-DETR: [clips ; query tokens]; query tokens carry no position."""

    def forward(self, video, video_mask, text, text_mask, video_pos):
        tokens = torch.cat([video, text], dim=1)
        mask = torch.cat([video_mask, text_mask], dim=1)
        pos = torch.cat([video_pos, torch.zeros_like(text)], dim=1)
        return tokens, mask, pos, None


class CrossAttentionFusion(nn.Module):
    """QD-DETR: ``layers`` text-to-video cross-attention layers; the encoder sees clips only."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float, layers: int = 2):
        super().__init__()
        self.layers = nn.ModuleList(CrossAttentionLayer(dim, heads, ffn_dim, dropout)
                                    for _ in range(layers))

    def forward(self, video, video_mask, text, text_mask, video_pos):
        for layer in self.layers:
            video = layer(video, video_pos, text, text_mask)
        return video, video_mask, video_pos, None


class RDFusionTokens(nn.Module):
    """RDMF as a fusion: the layer's read-out of u_K, v_K (:mod:`rdmf.model.rd_fusion`); the
    encoder sees clips only."""

    def __init__(self, dim: int, settings: RDSettings):
        super().__init__()
        self.rd = RDFusion(dim, settings)

    def forward(self, video, video_mask, text, text_mask, video_pos):
        if self.rd.saliency_readout is None:
            return self.rd(video, video_mask, text, text_mask), video_mask, video_pos, None
        fused, fields = self.rd(video, video_mask, text, text_mask, return_fields=True)
        return fused, video_mask, video_pos, fields["saliency"]


def build_fusion(name: str, *, dim: int, heads: int, ffn_dim: int, dropout: float,
                 cross_layers: int = 2, rd_settings: RDSettings | None = None) -> nn.Module:
    if name == "rd":
        return RDFusionTokens(dim, rd_settings or RDSettings())
    if name == "concat":
        return ConcatFusion()
    if name == "cross_attention":
        return CrossAttentionFusion(dim, heads, ffn_dim, dropout, cross_layers)
    raise ValueError(f"fusion: unknown fusion {name!r}; choose one of {', '.join(FUSIONS)}")
