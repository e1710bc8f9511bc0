"""Input projections and prediction heads (Moment-DETR): span (center, width), foreground class,
per-clip saliency."""

from __future__ import annotations

import torch
from torch import nn


class LinearLayer(nn.Module):
    """LayerNorm -> dropout -> linear [-> ReLU], Moment-DETR's input-projection block."""

    def __init__(self, in_dim: int, out_dim: int, dropout: float, relu: bool = True):
        super().__init__()
        self.norm = nn.LayerNorm(in_dim)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(in_dim, out_dim)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.linear(self.dropout(self.norm(x)))
        return torch.relu(x) if self.relu else x


def input_projection(in_dim: int, hidden: int, input_dropout: float) -> nn.Sequential:
    """(…, in_dim) -> (…, hidden): two LinearLayers, the first with ReLU (Moment-DETR n_input_proj=2)."""
    return nn.Sequential(LinearLayer(in_dim, hidden, input_dropout, relu=True),
                         LinearLayer(hidden, hidden, input_dropout, relu=False))


class MLP(nn.Module):
    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int):
        super().__init__()
        dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x


class SpanHead(nn.Module):
    """(…, d) decoder output -> (…, 2) normalised (center, width) in (0, 1)."""

    def __init__(self, dim: int):
        super().__init__()
        self.mlp = MLP(dim, dim, 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x).sigmoid()


class ClassHead(nn.Module):
    """(…, d) -> (…, 2) logits: index 0 foreground, index 1 background."""

    def __init__(self, dim: int):
        super().__init__()
        self.linear = nn.Linear(dim, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class SaliencyHead(nn.Module):
    """(B, L, d) encoded clips -> (B, L) saliency scores (unbounded)."""

    def __init__(self, dim: int):
        super().__init__()
        self.linear = nn.Linear(dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).squeeze(-1)
