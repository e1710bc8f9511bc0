"""The RDMF layer (docs/design.md §4): reaction-diffusion fusion of video and text on the clip lattice.

Per sample, with projected clip features X (L, d) and query tokens T (N, d):

1. text context per clip  S = softmax(X Tᵀ / √d, text mask) T;
2. seeds                  u0 = σ(W_u X),  v0 = σ(W_v (X ⊙ S) + b_v)      (C channels each);
3. kinetics per channel   F_c, k_c, Du_c, σ_c (Dv_c = Du_c / σ_c) and one time step dt, each
                          learned as its logarithm and mapped into its bounded range;
                          log F and log k may be shifted by the pooled query (text-conditioned
                          kinetics) and log F by each clip's match with the query (space-varying
                          feed F_c(x));
4. K steps of Gray-Scott on the masked lattice through :func:`rdmf.kernels.integrate`
   (default scheme ``dct``: exact diffusion + semi-implicit reaction);
5. read-out               H = LayerNorm(X + W_o [u_K ; v_K])                     ("residual"),
                          H ⊙ 2 σ(W_g v_K)   (v_K gates the fused features)     ("gate", default),
                          or H plus a saliency logit w_s · v_K per clip         ("saliency").

Parameterisation (why it is bounded). Every kinetic quantity q ∈ {F, k, Du, σ, dt} is one
parameter θ_q ≈ log q (one per channel; dt one per layer), mapped by :func:`soft_bound` into
[log q_min, log q_max]: the identity well inside the range, a smooth saturation within about
1/SHARPNESS of its ends, so the learning rate acts on relative changes of q everywhere. The text
shifts are projections with no bias (the base is θ_q), so one quantity has one parameter.
With F_min, k_min, dt_min > 0 the reaction substep keeps u ∈ [0, 1], 0 ≤ v ≤ max(max v0,
(1 + dt F)/(dt (F + k))) for ANY dt (:func:`rdmf.theory.splitting_invariant_region`), and the
exact (DCT) diffusion is a Markov operator for any Du dt: so the default scheme is bounded
whatever the parameters, and the diffusion reach sqrt(2 Du T) (T = K dt) is not capped. The
explicit-diffusion schemes (``semi_implicit``, ``explicit``) additionally need
r = Du dt ≤ 1/2, which :meth:`RDSettings.validate` enforces from the ranges
(Du_max dt_max / min(1, σ_min) < 1/2).

Initialisation (docs/design.md §4): reaches sqrt(2 Du T) log-uniform over ``reach_init`` clips
(1–16), (F, k) along the bistable band just below the saddle-node curve of notebook 02
(F 0.035–0.05, k 0.054–0.058, all classified "bistable"), dt = 6 with K = 8, so that
T (F + k) ≈ 4.3–5.2 reaction times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as nnf

from rdmf import numerics
from rdmf.kernels import integrate as rd_integrate

from .transformer import masked_mean, masked_softmax

BOUND_MARGIN = 1e-6  # keep r strictly below 1/2 so float rounding of exp(log Du + log dt) cannot cross it
SHARPNESS = 4.0      # soft_bound: saturation width 1/SHARPNESS in log units
READOUTS = ("residual", "gate", "saliency")
KINETIC_NAMES = ("log_F", "log_k", "log_Du", "log_sigma", "log_dt", "feed_gain")
#: fields of the earlier layout (sigmoid-squashed kinetics, diffusion number r ≤ r_max)
RETIRED_FIELDS = ("r_max", "r_init")


@dataclass(frozen=True)
class RDSettings:
    """Everything that defines an RDMF layer besides its width (one field per config knob)."""

    channels: int = 16
    steps: int = 8
    scheme: str = "dct"
    text_kinetics: bool = True
    space_feed: bool = True
    readout: str = "gate"
    diffusion: bool = True
    reaction: bool = True
    learn_kinetics: bool = True
    F_range: tuple[float, float] = (0.001, 0.1)
    k_range: tuple[float, float] = (0.001, 0.1)
    Du_range: tuple[float, float] = (1e-3, 100.0)
    sigma_range: tuple[float, float] = (1.0, 10.0)
    dt_range: tuple[float, float] = (0.05, 20.0)
    F_init: tuple[float, float] = (0.035, 0.05)
    k_init: tuple[float, float] = (0.054, 0.058)
    reach_init: tuple[float, float] = (1.0, 16.0)
    sigma_init: float = 2.0
    dt_init: float = 6.0
    feed_gain_init: float = 1.0
    kinetics_lr_mult: float = 10.0
    explicit_on_violation: str = "raise"

    def validate(self) -> "RDSettings":
        """Raise a ValueError naming the field when a setting leaves the bounded region."""
        if self.scheme not in numerics.SCHEMES:
            raise ValueError(f"rd_scheme: unknown scheme {self.scheme!r}; choose one of "
                             f"{', '.join(numerics.SCHEMES)}")
        if self.readout not in READOUTS:
            raise ValueError(f"rd_readout: unknown read-out {self.readout!r}; choose one of "
                             f"{', '.join(READOUTS)}")
        if int(self.channels) < 1:
            raise ValueError(f"rd_channels must be ≥ 1, got {self.channels}")
        if int(self.steps) < 0:
            raise ValueError(f"rd_steps must be ≥ 0, got {self.steps}")
        for name in ("F_range", "k_range", "Du_range", "sigma_range", "dt_range"):
            lo, hi = getattr(self, name)
            if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
                raise ValueError(f"rd_{name} = {(lo, hi)}: need finite 0 < low ≤ high "
                                 "(zero F, k or dt leave the bounded region; the kinetics are "
                                 "learned as logarithms)")
        for name, rng in (("F_init", self.F_range), ("k_init", self.k_range)):
            for value in getattr(self, name):
                if not rng[0] <= value <= rng[1]:
                    raise ValueError(f"rd_{name} = {getattr(self, name)} lies outside its range {rng}")
        if not self.sigma_range[0] <= self.sigma_init <= self.sigma_range[1]:
            raise ValueError(f"rd_sigma_init = {self.sigma_init} outside rd_sigma_range {self.sigma_range}")
        if not self.dt_range[0] <= self.dt_init <= self.dt_range[1]:
            raise ValueError(f"rd_dt_init = {self.dt_init} outside rd_dt_range {self.dt_range}")
        lo, hi = self.reach_init
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
            raise ValueError(f"rd_reach_init = {self.reach_init}: need finite 0 < low ≤ high (clips)")
        for reach in self.reach_init:
            Du = initial_Du(reach, self.steps, self.dt_init)
            if not self.Du_range[0] * (1 - 1e-9) <= Du <= self.Du_range[1] * (1 + 1e-9):
                raise ValueError(
                    f"rd_reach_init = {self.reach_init}: a reach of {reach:g} clips over T = "
                    f"{max(int(self.steps), 1)}·{self.dt_init:g} needs Du = {Du:.4g}, outside "
                    f"rd_Du_range {self.Du_range}")
        if not (math.isfinite(self.feed_gain_init)):
            raise ValueError(f"rd_feed_gain_init must be finite, got {self.feed_gain_init}")
        if not (math.isfinite(self.kinetics_lr_mult) and self.kinetics_lr_mult > 0):
            raise ValueError(f"rd_kinetics_lr_mult must be a positive number, got "
                             f"{self.kinetics_lr_mult}")
        if self.scheme != "dct":
            r = self.Du_range[1] * self.dt_range[1] / min(1.0, self.sigma_range[0])
            if r > 0.5 - BOUND_MARGIN:
                raise ValueError(
                    f"rd_Du_range = {self.Du_range} with rd_dt_range = {self.dt_range} and "
                    f"rd_sigma_range[0] = {self.sigma_range[0]} allows a diffusion number "
                    f"r = Du dt = {r:.4g} ≥ 1/2: outside the region where the {self.scheme!r} "
                    "scheme (explicit diffusion) is bounded; lower the ranges or use rd_scheme "
                    "'dct' (bounded for any Du dt)")
        if self.explicit_on_violation not in ("raise", "warn"):
            raise ValueError(f"rd_explicit_on_violation must be 'raise' or 'warn', got "
                             f"{self.explicit_on_violation!r}")
        if not self.learn_kinetics and self.text_kinetics:
            raise ValueError("rd_learn_kinetics = False (fixed kinetics) contradicts "
                             "rd_text_kinetics = True: set rd_text_kinetics = False too")
        if not self.learn_kinetics and self.space_feed:
            raise ValueError("rd_learn_kinetics = False (fixed kinetics) contradicts "
                             "rd_space_feed = True (a learned, text-conditioned feed): set "
                             "rd_space_feed = False too")
        return self


def upgrade_earlier_layout(rd: dict) -> dict:
    """A complete ``model.rd`` record of the earlier layout (sigmoid-squashed kinetics, diffusion
    number r = Du dt ≤ r_max, no space feed, residual read-out) re-expressed in this one's fields,
    so that the configs of its runs still load (their weights do not: see
    :func:`rdmf.train.engine.load_weights`). Same scheme, F, k, σ, dt ranges and initial values;
    the diffusion bound becomes Du ≤ r_max min(1, σ_min) / dt_max, the initial reach
    sqrt(2 r_init K) (capped by that bound); space feed off, residual read-out."""
    rd = dict(rd)
    r_max, r_init = float(rd.pop("r_max")), float(rd.pop("r_init"))
    old = {"scheme": "semi_implicit", "dt_range": (0.05, 2.0), "dt_init": 1.0,
           "F_init": (0.02, 0.06), "k_init": (0.045, 0.065), "sigma_range": (1.0, 10.0),
           "sigma_init": 2.0, "steps": 8, "space_feed": False, "readout": "residual"}
    for key, value in old.items():
        rd.setdefault(key, value)
    dt_hi, sigma_lo = float(rd["dt_range"][1]), float(rd["sigma_range"][0])
    steps, dt_init = max(int(rd["steps"]), 1), float(rd["dt_init"])
    Du_hi = min(r_max, 0.5 - 2 * BOUND_MARGIN) * min(1.0, sigma_lo) / dt_hi
    Du_lo = min(1e-4, Du_hi)
    rd.setdefault("Du_range", (Du_lo, Du_hi))
    reach = min(math.sqrt(2 * r_init * steps), math.sqrt(2 * steps * dt_init * Du_hi))
    reach = max(reach, math.sqrt(2 * steps * dt_init * Du_lo))
    rd.setdefault("reach_init", (reach, reach))
    return rd


def initial_Du(reach: float, steps: int, dt: float) -> float:
    """Du giving a diffusion reach sqrt(2 Du T) of ``reach`` clips over T = max(K, 1) dt."""
    return reach ** 2 / (2 * max(int(steps), 1) * dt)


def soft_bound(x: torch.Tensor, lo: float, hi: float, sharpness: float = SHARPNESS) -> torch.Tensor:
    """Smooth, strictly increasing map of ℝ onto (lo, hi): ≈ x inside, saturating at the ends::

        lo + (softplus(s (x − lo)) − softplus(s (x − hi))) / s

    (then clamped to [lo, hi] against float rounding for huge |x|)."""
    s = sharpness
    y = lo + (nnf.softplus(s * (x - lo)) - nnf.softplus(s * (x - hi))) / s
    return y.clamp(lo, hi)


def soft_bound_inverse(y: torch.Tensor | float, lo: float, hi: float,
                       sharpness: float = SHARPNESS) -> torch.Tensor:
    """The x with ``soft_bound(x, lo, hi) = y`` for lo < y < hi (closed form, float64)."""
    s = sharpness
    y = torch.as_tensor(y, dtype=torch.float64)
    span = s * (hi - lo)
    # keep y strictly inside (ends map to ±∞)
    z = (s * (y - lo)).clamp(1e-9, span - 1e-9)
    a = torch.expm1(z) / (1 - torch.exp(z - span))
    return lo + torch.log(a) / s


def _log_bounded(theta: torch.Tensor, rng: tuple[float, float]) -> torch.Tensor:
    return torch.exp(soft_bound(theta, math.log(rng[0]), math.log(rng[1])))


def _log_init(value, rng: tuple[float, float]) -> torch.Tensor:
    lo, hi = math.log(rng[0]), math.log(rng[1])
    value = torch.as_tensor(value, dtype=torch.float64)
    dtype = torch.get_default_dtype()   # the model's dtype (float64 for the agreement tests)
    if lo == hi:
        return torch.full_like(value, lo).to(dtype)
    return soft_bound_inverse(torch.log(value), lo, hi).to(dtype)


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
        self.readout = s.readout
        self.gate = nn.Linear(C, dim) if s.readout == "gate" else None
        self.saliency_readout = nn.Linear(C, 1) if s.readout == "saliency" else None
        for layer in (self.gate, self.saliency_readout):
            if layer is not None:   # start as the residual read-out (gate 1, no saliency term)
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)

        reaches = torch.logspace(math.log10(s.reach_init[0]), math.log10(s.reach_init[1]), C,
                                 dtype=torch.float64)
        Du = reaches ** 2 / (2 * max(self.steps, 1) * s.dt_init)
        init = {
            "log_F": _log_init(torch.linspace(*s.F_init, C, dtype=torch.float64), s.F_range),
            "log_k": _log_init(torch.linspace(*s.k_init, C, dtype=torch.float64), s.k_range),
            "log_Du": _log_init(Du.clamp(*s.Du_range), s.Du_range),
            "log_sigma": _log_init(torch.full((C,), s.sigma_init, dtype=torch.float64), s.sigma_range),
            "log_dt": _log_init(torch.tensor(s.dt_init, dtype=torch.float64), s.dt_range),
        }
        if s.space_feed:
            init["feed_gain"] = torch.full((C,), float(s.feed_gain_init))
        for name, value in init.items():
            if s.learn_kinetics:
                self.register_parameter(name, nn.Parameter(value))
            else:
                self.register_buffer(name, value)
        # text-conditioned shift of (log F, log k): a projection with no bias (the base is log_F,
        # log_k), zero-initialised so training starts unshifted
        self.text_shift = nn.Linear(dim, 2 * C, bias=False) if s.text_kinetics else None
        if self.text_shift is not None:
            nn.init.zeros_(self.text_shift.weight)

    def kinetic_parameters(self) -> list[str]:
        """Names (in this module) of the learned per-channel kinetics: the optimiser gives them
        their own group (learning rate × ``kinetics_lr_mult``, no weight decay)."""
        params = dict(self.named_parameters())
        return [name for name in KINETIC_NAMES if name in params]

    # --- kinetics --------------------------------------------------------------------------
    def kinetics(self, text_pooled: torch.Tensor | None = None,
                 match: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Bounded kinetics: ``F`` (B, C, L) with a space-varying feed (``match`` (B, L) given),
        else (B, C) (or (1, C) without text); ``F_query`` the feed without the per-clip shift;
        ``k`` (B|1, C); ``Du``, ``Dv``, ``sigma`` (C,); ``dt`` ()."""
        s = self.settings
        log_F, log_k = self.log_F[None], self.log_k[None]
        if self.text_shift is not None and text_pooled is not None:
            shift_F, shift_k = self.text_shift(text_pooled.to(log_F.dtype)).chunk(2, dim=-1)
            log_F, log_k = log_F + shift_F, log_k + shift_k
        F_query = _log_bounded(log_F, s.F_range)
        F = F_query
        if s.space_feed and match is not None:
            gain = self.feed_gain.to(log_F.dtype)
            F = _log_bounded(log_F[..., None] + gain[None, :, None] * match[:, None, :].to(log_F.dtype),
                             s.F_range)
        k = _log_bounded(log_k, s.k_range)
        dt = _log_bounded(self.log_dt, s.dt_range)
        Du = _log_bounded(self.log_Du, s.Du_range)
        sigma = _log_bounded(self.log_sigma, s.sigma_range)
        Dv = Du / sigma
        return {"F": F, "F_query": F_query, "k": k, "Du": Du, "Dv": Dv, "dt": dt, "sigma": sigma}

    @torch.no_grad()
    def describe(self) -> dict[str, list[float] | float]:
        """Learned kinetics without text shift, per channel, plus the time scales of docs/design.md §3:
        T (F + k) (reaction time units run) and sqrt(2 Du T), sqrt(2 Dv T) (diffusion reach in clips)."""
        kin = self.kinetics(None)
        T = self.steps * kin["dt"]
        return {"F": kin["F"][0].tolist(), "k": kin["k"][0].tolist(), "sigma": kin["sigma"].tolist(),
                "Du": kin["Du"].tolist(), "Dv": kin["Dv"].tolist(),
                "dt": float(kin["dt"]), "T": float(T),
                "T_times_F_plus_k": (T * (kin["F"][0] + kin["k"][0])).tolist(),
                "diffusion_length_clips": torch.sqrt(2 * kin["Du"] * T).tolist(),
                "diffusion_length_v_clips": torch.sqrt(2 * kin["Dv"] * T).tolist()}

    # --- the one call into the numerics: the fused Triton kernel on CUDA where it applies, the
    # PyTorch reference integrator (rdmf.numerics.integrate) otherwise ------------------------
    def integrate_fields(self, u0: torch.Tensor, v0: torch.Tensor, kin: dict[str, torch.Tensor],
                         mask: torch.Tensor, *, reaction: bool | None = None,
                         return_trajectory: bool = False):
        """K steps of the configured scheme. u0, v0 (B, C, L) float32, mask (B, L) -> (u_K, v_K)
        (and the list of (u, v) after every step with ``return_trajectory``).

        ``reaction=False`` integrates diffusion only whatever the settings (the linear smoother
        the diagnostics compare with)."""
        s = self.settings
        reaction = s.reaction if reaction is None else reaction
        F, k, Du, Dv, dt = kin["F"], kin["k"], kin["Du"], kin["Dv"], kin["dt"]
        scheme = s.scheme
        if not s.diffusion:
            Du, Dv = torch.zeros_like(Du), torch.zeros_like(Dv)
            if scheme == "dct":   # the same step with Du = Dv = 0, exactly local (no transform)
                scheme = "semi_implicit"
        if not reaction:
            # diffusion only: both fields diffuse as one "u" with v ≡ 0 and F = k = 0, for which
            # the Gray-Scott step reduces exactly to (explicit or exact) diffusion
            zero = torch.zeros((), dtype=u0.dtype, device=u0.device)
            both = torch.cat([u0, v0], dim=1)
            out = rd_integrate(
                both, torch.zeros_like(both), zero, zero, torch.cat([Du, Dv]), zero, dt,
                self.steps, mask, scheme=scheme, on_violation=s.explicit_on_violation,
                return_trajectory=return_trajectory)
            C = self.channels
            if return_trajectory:
                return (out[0][:, :C], out[0][:, C:],
                        [(a[:, :C], a[:, C:]) for a, _ in out[2]])
            return out[0][:, :C], out[0][:, C:]
        return rd_integrate(u0, v0, F, k, Du, Dv, dt, self.steps, mask, scheme=scheme,
                            on_violation=s.explicit_on_violation,
                            return_trajectory=return_trajectory)

    def seeds(self, video, video_mask, text, text_mask):
        """Seeds u0, v0 (B, C, L), the pooled query (B, d) and each clip's match with the query
        (B, L): the cosine of the clip and its text context, minus its mean over the video's
        real clips (0 on padding)."""
        # (the seeds are per clip: padding never reaches a real clip before the lattice)
        scores = video @ text.transpose(1, 2) / math.sqrt(self.dim)            # (B, L, N)
        context = masked_softmax(scores, text_mask[:, None, :]) @ text          # (B, L, d)
        u0 = torch.sigmoid(self.to_u(video)).transpose(1, 2)
        v0 = torch.sigmoid(self.to_v(video * context)).transpose(1, 2)
        real = video_mask.to(video.dtype)
        cos = nnf.cosine_similarity(video, context, dim=-1, eps=1e-6) * real
        mean = cos.sum(1, keepdim=True) / real.sum(1, keepdim=True).clamp_min(1)
        match = (cos - mean) * real
        return u0, v0, masked_mean(text, text_mask), match

    def forward(self, video: torch.Tensor, video_mask: torch.Tensor, text: torch.Tensor,
                text_mask: torch.Tensor, return_fields: bool = False):
        """video (B, L, d), video_mask (B, L), text (B, N, d), text_mask (B, N) -> (B, L, d).

        With ``return_fields`` also a dict of u0, v0, u_K, v_K (B, C, L), the kinetics, and
        ``saliency`` (B, L) (the read-out's saliency logit; None unless readout = "saliency").
        """
        u0, v0, pooled, match = self.seeds(video, video_mask, text, text_mask)
        work = self.log_F.dtype  # float32 under mixed precision, float64 for gradcheck
        with torch.autocast(device_type=video.device.type, enabled=False):
            kin = self.kinetics(pooled if self.text_shift is not None else None,
                                match if self.settings.space_feed else None)
            u_K, v_K = self.integrate_fields(u0.to(work), v0.to(work), kin, video_mask)
        v_clips = v_K.transpose(1, 2).to(video.dtype)                          # (B, L, C)
        fused = self.norm(video + self.out(torch.cat([u_K, v_K], dim=1).transpose(1, 2).to(video.dtype)))
        if self.gate is not None:
            fused = fused * (2 * torch.sigmoid(self.gate(v_clips)))
        saliency = (self.saliency_readout(v_clips).squeeze(-1)
                    if self.saliency_readout is not None else None)
        if return_fields:
            return fused, {"u0": u0, "v0": v0, "u": u_K, "v": v_K, "match": match,
                           "saliency": saliency, **kin}
        return fused
