"""The moment-retrieval / highlight-detection model: projection, fusion, encoder, DETR decoder,
heads. One class for all fusions so that baselines share everything but the fusion."""

from __future__ import annotations

import torch
from torch import nn

from .fusion import build_fusion
from .heads import ClassHead, SaliencyHead, SpanHead, input_projection
from .proposals import ProposalHead, gather_proposals, select_proposals
from .transformer import AnchorDecoder, Decoder, Encoder, masked_mean, sine_positions


#: the kinds of decoder queries (``ModelConfig.decoder_queries``)
DECODER_QUERIES = ("learned", "anchors", "proposals")


class MomentModel(nn.Module):
    """Video (B, L, Dv) + query tokens (B, N, Dt) -> spans, foreground logits, clip saliency.

    Outputs (dict):
        ``pred_spans`` (B, Q, 2) normalised (center, width), ``pred_logits`` (B, Q, 2)
        (foreground = index 0), ``aux`` list of the same for the earlier decoder layers,
        ``saliency`` (B, L); with ``negatives=True`` also ``saliency_neg`` (B, L), the scores of
        every video paired with the NEXT sample's query (QD-DETR's query-dependent negatives);
        with ``decoder_queries="proposals"`` also ``proposal_logits`` (B, L) and
        ``proposal_distances`` (B, L, 2), the dense clip proposals (:mod:`rdmf.model.proposals`).
        HD-only models have no decoder and output only the saliency entries.
    """

    def __init__(self, config):
        super().__init__()
        if config.video_dim is None or config.text_dim is None:
            raise ValueError("build_model: config.model.video_dim and text_dim must be set "
                             "(they are filled from the data set by rdmf.train.train)")
        d = config.hidden
        self.config = config
        self.video_proj = input_projection(config.video_dim, d, config.input_dropout)
        self.text_proj = input_projection(config.text_dim, d, config.input_dropout)
        self.fusion = build_fusion(config.fusion, dim=d, heads=config.heads,
                                   ffn_dim=config.ffn_dim, dropout=config.dropout,
                                   cross_layers=config.cross_layers,
                                   rd_settings=config.rd if config.fusion == "rd" else None)
        self.encoder = Encoder(d, config.heads, config.ffn_dim, config.dropout, config.enc_layers)
        self.saliency_head = SaliencyHead(d, config.saliency_head)
        self.hd_only = bool(config.hd_only)
        self.decoder_queries = config.decoder_queries
        if not self.hd_only:
            if self.decoder_queries == "proposals":
                self.proposal_head = ProposalHead(d)
            if self.decoder_queries in ("anchors", "proposals"):
                learned = config.num_queries if self.decoder_queries == "anchors" else None
                self.decoder = AnchorDecoder(d, config.heads, config.ffn_dim, config.dropout,
                                             config.dec_layers, learned)
            else:
                self.query_pos = nn.Embedding(config.num_queries, d)
                self.decoder = Decoder(d, config.heads, config.ffn_dim, config.dropout,
                                       config.dec_layers)
                self.span_head = SpanHead(d)
            self.class_head = ClassHead(d)

    def encode(self, video, video_mask, text, text_mask):
        """Projected, fused and encoded tokens: memory (B, S, d), mask (B, S), pos (B, S, d),
        the pooled projected query (B, d), and the fusion's saliency logit (B, L) or None."""
        x = self.video_proj(video)
        t = self.text_proj(text)
        pos = sine_positions(video_mask, x.shape[-1]).to(x.dtype)
        tokens, mask, token_pos, clip_logit = self.fusion(x, video_mask, t, text_mask, pos)
        return (self.encoder(tokens, mask, token_pos), mask, token_pos, masked_mean(t, text_mask),
                clip_logit)

    def saliency(self, memory, query, clip_logit, L: int) -> torch.Tensor:
        """(B, L) saliency: the head's score of the encoded clips plus the fusion's own logit."""
        scores = self.saliency_head(memory[:, :L], query)
        return scores if clip_logit is None else scores + clip_logit.to(scores.dtype)

    def forward(self, video: torch.Tensor, video_mask: torch.Tensor, text: torch.Tensor,
                text_mask: torch.Tensor, negatives: bool = False) -> dict:
        _check_inputs(video, video_mask, text, text_mask, self.config)
        L = video.shape[1]
        memory, mask, pos, query, clip_logit = self.encode(video, video_mask, text, text_mask)
        out = {"saliency": self.saliency(memory, query, clip_logit, L)}
        if negatives:
            neg_text, neg_mask = text.roll(1, dims=0), text_mask.roll(1, dims=0)
            neg_memory, _, _, neg_query, neg_logit = self.encode(video, video_mask, neg_text, neg_mask)
            out["saliency_neg"] = self.saliency(neg_memory, neg_query, neg_logit, L)
        if not self.hd_only:
            prior = None                    # proposals: their foreground logits, (B, Q)
            if self.decoder_queries == "proposals":
                clips = memory[:, :L]
                p_logits, p_dist, p_windows = self.proposal_head(clips, query, video_mask)
                index = select_proposals(p_logits, p_windows, video_mask, self.config.num_queries)
                ref = gather_proposals(p_windows, index)
                tgt = clips.gather(1, index[..., None].expand(-1, -1, clips.shape[-1]))
                hidden, spans = self.decoder(memory, mask, pos, ref=ref, tgt=tgt)
                out["proposal_logits"], out["proposal_distances"] = p_logits, p_dist
                prior = p_logits.detach().gather(1, index)
            elif self.decoder_queries == "anchors":
                hidden, spans = self.decoder(memory, mask, pos)
            else:
                query_pos = self.query_pos.weight.unsqueeze(0).expand(video.shape[0], -1, -1)
                hidden = self.decoder(query_pos, memory, mask, pos)       # (layers, B, Q, d)
                spans = self.span_head(hidden)
            logits = self.class_head(hidden)
            if prior is not None:
                # the proposal's own foreground logit is a prior of every layer's class score
                logits = logits + torch.stack([prior, torch.zeros_like(prior)], -1).to(logits.dtype)
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
    """The model a :class:`rdmf.train.config.ModelConfig` (a run config's ``model`` section)
    describes (fusion chosen by name)."""
    return MomentModel(config)
