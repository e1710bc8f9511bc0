"""The RDMF layer (docs/design.md §4): reaction-diffusion fusion of video and text on the clip lattice.

Per sample, with projected clip features X (L, d) and query tokens T (N, d):

1. text context per clip  S = softmax(X Tᵀ / √d, text mask) T;
2. seeds                  u0 = σ(W_u X),  v0 = σ(W_v (X ⊙ S) + b_v)      (C channels each);
3. kinetics per channel   F_c, k_c, Du_c, σ_c (Dv_c = Du_c / σ_c) and one time step dt, all
                          squashed into ranges where the chosen scheme is provably bounded;
                          F and k may be shifted by the pooled query (text-conditioned kinetics);
4. K steps of Gray-Scott on the masked lattice through :func:`rdmf.kernels.integrate` (the fused
   Triton kernel on CUDA, :func:`rdmf.numerics.integrate` elsewhere);
5. fuse                   H = LayerNorm(X + W_o [u_K ; v_K]).

Parameterisation (why it is bounded). The explicit-diffusion schemes keep u ∈ [0, 1], v ≥ 0 for
any dt as long as r = D dt / Δx² ≤ 1/2 (docs/design.md §3). The layer therefore learns the diffusion
NUMBER r_c = r_max · sigmoid(·) with r_max < 1/2 and sets Du_c = r_c Δx² / dt, Dv_c = Du_c / σ_c
with σ_c ≥ σ_min, so that r_v = r_c / σ_c ≤ r_max / min(1, σ_min) ≤ 1/2 whatever the raw
parameters are. dt ∈ [dt_min, dt_max] (dt_min > 0) is one learnable time scale for the layer;
F_c ∈ [F_min, F_max], k_c ∈ [k_min, k_max] with F_min, k_min > 0 keep v below
max(max v0, (1 + dt F)/(dt (F + k))). Note that the diffusion reach sqrt(2 Du T) = sqrt(2 r K)
does not depend on dt: dt sets how far the REACTION runs, T (F + k) with T = K dt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from rdmf import numerics
from rdmf.kernels import integrate as rd_integrate

from .transformer import masked_mean, masked_softmax

BOUND_MARGIN = 1e-6  # keep r strictly below 1/2 so float rounding of (r / dt) · dt cannot cross it


@dataclass(frozen=True)
class RDSettings:
    """Everything that defines an RDMF layer besides its width (one field per config knob)."""

    channels: int = 16
    steps: int = 8
    scheme: str = "semi_implicit"
    text_kinetics: bool = True
    diffusion: bool = True
    reaction: bool = True
    learn_kinetics: bool = True
    F_range: tuple[float, float] = (0.001, 0.1)
    k_range: tuple[float, float] = (0.001, 0.1)
    sigma_range: tuple[float, float] = (1.0, 10.0)
    dt_range: tuple[float, float] = (0.05, 2.0)
    r_max: float = 0.45
    F_init: tuple[float, float] = (0.02, 0.06)
    k_init: tuple[float, float] = (0.045, 0.065)
    sigma_init: float = 2.0
    dt_init: float = 1.0
    r_init: float = 0.25
    explicit_on_violation: str = "raise"

    def validate(self) -> "RDSettings":
        """Raise a ValueError naming the field when a setting leaves the bounded region."""
        if self.scheme not in numerics.SCHEMES:
            raise ValueError(f"rd_scheme: unknown scheme {self.scheme!r}; choose one of "
                             f"{', '.join(numerics.SCHEMES)}")
        if int(self.channels) < 1:
            raise ValueError(f"rd_channels must be ≥ 1, got {self.channels}")
        if int(self.steps) < 0:
            raise ValueError(f"rd_steps must be ≥ 0, got {self.steps}")
        for name in ("F_range", "k_range", "sigma_range", "dt_range"):
            lo, hi = getattr(self, name)
            if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
                raise ValueError(f"rd_{name} = {(lo, hi)}: need finite 0 < low ≤ high "
                                 "(zero F, k or dt leave the bounded region)")
        for name, rng in (("F_init", self.F_range), ("k_init", self.k_range)):
            for value in getattr(self, name):
                if not rng[0] <= value <= rng[1]:
                    raise ValueError(f"rd_{name} = {getattr(self, name)} lies outside its range {rng}")
        if not self.sigma_range[0] <= self.sigma_init <= self.sigma_range[1]:
            raise ValueError(f"rd_sigma_init = {self.sigma_init} outside rd_sigma_range {self.sigma_range}")
        if not self.dt_range[0] <= self.dt_init <= self.dt_range[1]:
            raise ValueError(f"rd_dt_init = {self.dt_init} outside rd_dt_range {self.dt_range}")
        if not (0 < self.r_max and math.isfinite(self.r_max)):
            raise ValueError(f"rd_r_max must be a positive number, got {self.r_max}")
        if not 0 < self.r_init < self.r_max:
            raise ValueError(f"rd_r_init = {self.r_init} must lie in (0, rd_r_max = {self.r_max})")
        if self.scheme != "dct":
            r_v_max = self.r_max / min(1.0, self.sigma_range[0])
            if max(self.r_max, r_v_max) > 0.5 - BOUND_MARGIN:
                raise ValueError(
                    f"rd_r_max = {self.r_max} with rd_sigma_range[0] = {self.sigma_range[0]} allows a "
                    f"diffusion number r = {max(self.r_max, r_v_max):.4g} ≥ 1/2: outside the region "
                    f"where the {self.scheme!r} scheme is bounded (need r_max / min(1, σ_min) < 1/2)")
        if self.explicit_on_violation not in ("raise", "warn"):
            raise ValueError(f"rd_explicit_on_violation must be 'raise' or 'warn', got "
                             f"{self.explicit_on_violation!r}")
        if not self.learn_kinetics and self.text_kinetics:
            raise ValueError("rd_learn_kinetics = False (fixed kinetics) contradicts "
                             "rd_text_kinetics = True: set rd_text_kinetics = False too")
        return self


def _logit(fraction: torch.Tensor) -> torch.Tensor:
    fraction = fraction.clamp(1e-4, 1 - 1e-4)
    return torch.log(fraction) - torch.log1p(-fraction)


def _squash(raw: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    return lo + (hi - lo) * torch.sigmoid(raw)


class RDFusion(nn.Module):
    """Reaction-diffusion fusion. Video (B, L, d), text (B, N, d) -> fused video (B, L, d)."""

    def __init__(self, dim: int, settings: RDSettings = RDSettings()):
        super().__init__()
        self.settings = s = settings.validate()
        C = int(s.channels)
        self.dim, self.channels, self.steps = dim, C, int(s.steps)
        self.to_u = nn.Linear(dim, C)
        self.to_v = nn.Linear(dim, C)
        self.out = nn.Linear(2 * C, dim)
        self.norm = nn.LayerNorm(dim)

        frac = lambda value, rng: (torch.as_tensor(value, dtype=torch.float32) - rng[0]) / (rng[1] - rng[0])  # noqa: E731
        raw = {
            "raw_F": _logit(frac(torch.linspace(*s.F_init, C), s.F_range)),
            "raw_k": _logit(frac(torch.linspace(*s.k_init, C), s.k_range)),
            "raw_r": _logit(torch.full((C,), s.r_init / s.r_max)),
            "raw_sigma": _logit(frac(torch.full((C,), s.sigma_init), s.sigma_range)),
            "raw_dt": _logit(frac(torch.tensor(s.dt_init), s.dt_range)),
        }
        for name, value in raw.items():
            if s.learn_kinetics:
                self.register_parameter(name, nn.Parameter(value))
            else:
                self.register_buffer(name, value)
        # text-conditioned shift of (raw F, raw k); zero-initialised so training starts unshifted
        self.text_shift = nn.Linear(dim, 2 * C) if s.text_kinetics else None
        if self.text_shift is not None:
            nn.init.zeros_(self.text_shift.weight)
            nn.init.zeros_(self.text_shift.bias)

    # --- kinetics --------------------------------------------------------------------------
    def kinetics(self, text_pooled: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Squashed kinetics: F, k of shape (B, C) (or (1, C) without text), Du, Dv, r (C,), dt ()."""
        s = self.settings
        raw_F, raw_k = self.raw_F[None], self.raw_k[None]
        if self.text_shift is not None and text_pooled is not None:
            shift_F, shift_k = self.text_shift(text_pooled.to(raw_F.dtype)).chunk(2, dim=-1)
            raw_F, raw_k = raw_F + shift_F, raw_k + shift_k
        F = _squash(raw_F, *s.F_range)
        k = _squash(raw_k, *s.k_range)
        dt = _squash(self.raw_dt, *s.dt_range)
        r = s.r_max * torch.sigmoid(self.raw_r)
        sigma = _squash(self.raw_sigma, *s.sigma_range)
        Du = r / dt  # Δx = 1 clip
        Dv = Du / sigma
        return {"F": F, "k": k, "Du": Du, "Dv": Dv, "dt": dt, "r": r, "sigma": sigma}

    @torch.no_grad()
    def describe(self) -> dict[str, list[float] | float]:
        """Learned kinetics without text shift, per channel, plus the time scales of docs/design.md §3:
        T (F + k) (reaction time units run) and sqrt(2 Du T) (diffusion length in clips)."""
        kin = self.kinetics(None)
        T = self.steps * kin["dt"]
        return {"F": kin["F"][0].tolist(), "k": kin["k"][0].tolist(), "sigma": kin["sigma"].tolist(),
                "Du": kin["Du"].tolist(), "Dv": kin["Dv"].tolist(), "r": kin["r"].tolist(),
                "dt": float(kin["dt"]), "T": float(T),
                "T_times_F_plus_k": (T * (kin["F"][0] + kin["k"][0])).tolist(),
                "diffusion_length_clips": torch.sqrt(2 * kin["Du"] * T).tolist()}

    # --- the one call into the numerics: the fused Triton kernel on CUDA, the PyTorch reference
    # integrator (rdmf.numerics.integrate) otherwise; both give the same values ----------------
    def integrate_fields(self, u0: torch.Tensor, v0: torch.Tensor, kin: dict[str, torch.Tensor],
                         mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """K steps of the configured scheme. u0, v0 (B, C, L) float32, mask (B, L) -> (u_K, v_K)."""
        s = self.settings
        F, k, Du, Dv, dt = kin["F"], kin["k"], kin["Du"], kin["Dv"], kin["dt"]
        if not s.diffusion:
            Du, Dv = torch.zeros_like(Du), torch.zeros_like(Dv)
        if not s.reaction:
            # diffusion only: both fields diffuse as one "u" with v ≡ 0 and F = k = 0, for which
            # the Gray-Scott step reduces exactly to explicit (or DCT) diffusion
            zero = torch.zeros((), dtype=u0.dtype, device=u0.device)
            fields, _ = rd_integrate(
                torch.cat([u0, v0], dim=1), torch.zeros_like(torch.cat([u0, v0], dim=1)),
                zero, zero, torch.cat([Du, Dv]), zero, dt, self.steps, mask,
                scheme=s.scheme, on_violation=s.explicit_on_violation)
            return fields[:, : self.channels], fields[:, self.channels:]
        return rd_integrate(u0, v0, F, k, Du, Dv, dt, self.steps, mask, scheme=s.scheme,
                            on_violation=s.explicit_on_violation)

    def seeds(self, video, video_mask, text, text_mask):
        """Seeds u0, v0 (B, C, L) and the pooled query (B, d)."""
        # (the seeds are per clip: padding never reaches a real clip before the lattice)
        scores = video @ text.transpose(1, 2) / math.sqrt(self.dim)            # (B, L, N)
        context = masked_softmax(scores, text_mask[:, None, :]) @ text          # (B, L, d)
        u0 = torch.sigmoid(self.to_u(video)).transpose(1, 2)
        v0 = torch.sigmoid(self.to_v(video * context)).transpose(1, 2)
        return u0, v0, masked_mean(text, text_mask)

    def forward(self, video: torch.Tensor, video_mask: torch.Tensor, text: torch.Tensor,
                text_mask: torch.Tensor, return_fields: bool = False):
        """video (B, L, d), video_mask (B, L), text (B, N, d), text_mask (B, N) -> (B, L, d).

        With ``return_fields`` also a dict of u0, v0, u_K, v_K (B, C, L) and the kinetics.
        """
        u0, v0, pooled = self.seeds(video, video_mask, text, text_mask)
        work = self.raw_F.dtype  # float32 under mixed precision, float64 for gradcheck
        with torch.autocast(device_type=video.device.type, enabled=False):
            kin = self.kinetics(pooled if self.text_shift is not None else None)
            u_K, v_K = self.integrate_fields(u0.to(work), v0.to(work), kin, video_mask)
        fused = self.norm(video + self.out(torch.cat([u_K, v_K], dim=1).transpose(1, 2).to(video.dtype)))
        if return_fields:
            return fused, {"u0": u0, "v0": v0, "u": u_K, "v": v_K, **kin}
        return fused
