"""The moment-retrieval / highlight-detection model: projection, fusion, encoder, DETR decoder,
heads. One class for all fusions so that baselines share everything but the fusion."""

from __future__ import annotations

import torch
from torch import nn

from .fusion import build_fusion
from .heads import ClassHead, SaliencyHead, SpanHead, input_projection
from .transformer import Decoder, Encoder, sine_positions


class MomentModel(nn.Module):
    """Video (B, L, Dv) + query tokens (B, N, Dt) -> spans, foreground logits, clip saliency.

    Outputs (dict):
        ``pred_spans`` (B, Q, 2) normalised (center, width), ``pred_logits`` (B, Q, 2)
        (foreground = index 0), ``aux`` list of the same for the earlier decoder layers,
        ``saliency`` (B, L); with ``negatives=True`` also ``saliency_neg`` (B, L), the scores of
        every video paired with the NEXT sample's query (QD-DETR's query-dependent negatives).
        HD-only models have no decoder and output only the saliency entries.
    """

    def __init__(self, config):
        super().__init__()
        if config.video_dim is None or config.text_dim is None:
            raise ValueError("build_model: config.video_dim and config.text_dim must be set "
                             "(they are filled from the data set by rdmf.train.train)")
        d = config.hidden
        self.config = config
        self.video_proj = input_projection(config.video_dim, d, config.input_dropout)
        self.text_proj = input_projection(config.text_dim, d, config.input_dropout)
        self.fusion = build_fusion(config.fusion, dim=d, heads=config.heads,
                                   ffn_dim=config.ffn_dim, dropout=config.dropout,
                                   cross_layers=config.cross_layers,
                                   rd_settings=config.rd_settings() if config.fusion == "rd" else None)
        self.encoder = Encoder(d, config.heads, config.ffn_dim, config.dropout, config.enc_layers)
        self.saliency_head = SaliencyHead(d)
        self.hd_only = bool(config.hd_only)
        if not self.hd_only:
            self.query_pos = nn.Embedding(config.num_queries, d)
            self.decoder = Decoder(d, config.heads, config.ffn_dim, config.dropout, config.dec_layers)
            self.span_head = SpanHead(d)
            self.class_head = ClassHead(d)

    def encode(self, video, video_mask, text, text_mask):
        """Projected, fused and encoded tokens: memory (B, S, d), mask (B, S), pos (B, S, d)."""
        x = self.video_proj(video)
        t = self.text_proj(text)
        pos = sine_positions(video_mask, x.shape[-1]).to(x.dtype)
        tokens, mask, token_pos = self.fusion(x, video_mask, t, text_mask, pos)
        return self.encoder(tokens, mask, token_pos), mask, token_pos

    def forward(self, video: torch.Tensor, video_mask: torch.Tensor, text: torch.Tensor,
                text_mask: torch.Tensor, negatives: bool = False) -> dict:
        _check_inputs(video, video_mask, text, text_mask, self.config)
        L = video.shape[1]
        memory, mask, pos = self.encode(video, video_mask, text, text_mask)
        out = {"saliency": self.saliency_head(memory[:, :L])}
        if negatives:
            neg_text, neg_mask = text.roll(1, dims=0), text_mask.roll(1, dims=0)
            neg_memory = self.encode(video, video_mask, neg_text, neg_mask)[0]
            out["saliency_neg"] = self.saliency_head(neg_memory[:, :L])
        if not self.hd_only:
            query_pos = self.query_pos.weight.unsqueeze(0).expand(video.shape[0], -1, -1)
            hidden = self.decoder(query_pos, memory, mask, pos)           # (layers, B, Q, d)
            spans, logits = self.span_head(hidden), self.class_head(hidden)
            out["pred_spans"], out["pred_logits"] = spans[-1], logits[-1]
            out["aux"] = [{"pred_spans": s, "pred_logits": c}
                          for s, c in zip(spans[:-1], logits[:-1])] if self.config.aux_loss else []
        return out


def _check_inputs(video, video_mask, text, text_mask, config) -> None:
    if video.dim() != 3 or text.dim() != 3:
        raise ValueError(f"model input: video must be (B, L, Dv) and text (B, N, Dt); got "
                         f"{tuple(video.shape)} and {tuple(text.shape)}")
    if video.shape[-1] != config.video_dim:
        raise ValueError(f"model input: video features have {video.shape[-1]} dims, the model "
                         f"was built for {config.video_dim}")
    if text.shape[-1] != config.text_dim:
        raise ValueError(f"model input: text features have {text.shape[-1]} dims, the model "
                         f"was built for {config.text_dim}")
    if video_mask.shape != video.shape[:2] or text_mask.shape != text.shape[:2]:
        raise ValueError("model input: masks must be (B, L) and (B, N) like the features")


def build_model(config) -> MomentModel:
    """The model a :class:`rdmf.train.config.TrainConfig` describes (fusion chosen by name)."""
    return MomentModel(config)
