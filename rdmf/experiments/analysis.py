"""Look inside a trained RDMF model (notebook 06): the learned kinetics per channel, where they
lie on the Gray-Scott (F, k) map, their time and length scales, and the u, v fields over the
K integration steps for a few queries.

No change to the model is needed: the fields are recomputed from the model's own modules
(``video_proj``, ``text_proj``, ``fusion.rd.seeds`` / ``kinetics``) and the same integrator
(:func:`rdmf.numerics.integrate` with ``return_trajectory=True``).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from rdmf.data.sample import Sample, collate

CLASSES = ("Turing-capable", "bistable", "Hopf-unstable", "monostable")


def rd_layer(model):
    """The :class:`rdmf.model.rd_fusion.RDFusion` of a model with ``fusion = "rd"``."""
    rd = getattr(getattr(model, "fusion", None), "rd", None)
    if rd is None:
        raise ValueError(f"model has fusion {model.config.fusion!r}: only an RDMF model (fusion "
                         "'rd') has reaction-diffusion kinetics to analyse")
    return rd


def classify_channel(F: float, k: float, Du: float, Dv: float) -> str:
    """Where one channel's kinetics sit on the (F, k) map, for its own Du/Dv.

    - ``monostable``: no non-trivial homogeneous state (k > sqrt(F)/2 − F): (u, v) = (1, 0) is
      the only homogeneous state; weak seeds decay to it, but a strong, wide seed near the
      saddle-node curve can still split into travelling pulses (notebook 02, section 6);
    - ``Turing-capable``: the upper state is stable without diffusion and Turing-unstable with
      this channel's Du, Dv (:func:`rdmf.theory.turing_analysis`);
    - ``bistable``: the upper state is stable (and so is (1, 0)): v stays high where the seed
      is high and dies where it is low — a switch, no spatial pattern;
    - ``Hopf-unstable``: the upper state exists but is Hopf-unstable.
    """
    from rdmf.theory import NoSteadyStateError, turing_analysis
    if k > math.sqrt(F) / 2 - F:
        return "monostable"
    try:
        ta = turing_analysis(F, k, Du, Dv)
    except NoSteadyStateError:
        return "monostable"
    if ta.turing_unstable:
        return "Turing-capable"
    return "bistable" if ta.hopf_stable else "Hopf-unstable"


@torch.no_grad()
def _prepared(model, samples: Sequence[Sample]):
    model.eval()
    batch = collate(list(samples))
    x = model.video_proj(batch.video)
    t = model.text_proj(batch.text)
    return batch, x, t


@torch.no_grad()
def learned_kinetics(model, samples: Sequence[Sample] | None = None) -> dict[str, np.ndarray]:
    """Per-channel kinetics (arrays of shape (C,)) and their scales.

    F, k: without text conditioning the layer's own values; with it, the mean over ``samples``
    of the query-shifted values (``F_std``, ``k_std``: their spread over the queries);
    ``F_base``, ``k_base``: the unshifted values.
    Also Du, Dv, sigma = Du/Dv, dt, K, T = K dt, ``T(F+k)`` (integration time in reaction times)
    and ``diffusion_length`` = sqrt(2 Du T) in clips, and ``class`` (:func:`classify_channel`).
    """
    rd = rd_layer(model)
    pooled = None
    if rd.text_shift is not None and samples:
        batch, x, t = _prepared(model, samples)
        pooled = rd.seeds(x, batch.video_mask, t, batch.text_mask)[2]
    kin = rd.kinetics(pooled)
    F, k = kin["F"].float().numpy(), kin["k"].float().numpy()            # (B or 1, C)
    Du, Dv = kin["Du"].float().numpy(), kin["Dv"].float().numpy()
    dt = float(kin["dt"])
    K = int(rd.steps)
    T = K * dt
    Fm, km = F.mean(0), k.mean(0)
    out = {"F": Fm, "k": km, "F_std": F.std(0), "k_std": k.std(0), "Du": Du, "Dv": Dv,
           "sigma": Du / Dv, "dt": dt, "K": K, "T": T, "T(F+k)": T * (Fm + km),
           "diffusion_length": np.sqrt(2 * Du * T)}
    base = rd.kinetics(None)     # the layer's own (unshifted) values
    out["F_base"], out["k_base"] = base["F"][0].float().numpy(), base["k"][0].float().numpy()
    out["class"] = np.array([classify_channel(float(f), float(kk), float(du), float(dv))
                             for f, kk, du, dv in zip(Fm, km, Du, Dv)])
    return out


@torch.no_grad()
def field_trajectories(model, samples: Sequence[Sample]) -> dict[str, np.ndarray]:
    """u and v after every step for each sample: ``u``, ``v`` (K + 1, B, C, L) (step 0 = seeds),
    plus ``mask`` (B, L). Uses the layer's scheme and switches exactly as its forward pass."""
    from rdmf import numerics
    rd = rd_layer(model)
    s = rd.settings
    batch, x, t = _prepared(model, samples)
    u0, v0, pooled = rd.seeds(x, batch.video_mask, t, batch.text_mask)
    kin = rd.kinetics(pooled if rd.text_shift is not None else None)
    u0, v0 = u0.float(), v0.float()
    if not s.reaction:
        raise ValueError("field_trajectories: the layer has no reaction (diffusion-only "
                         "ablation); its 'v' is not a Gray-Scott field")
    Du, Dv = kin["Du"], kin["Dv"]
    if not s.diffusion:
        Du, Dv = torch.zeros_like(Du), torch.zeros_like(Dv)
    uK, vK, traj = numerics.integrate(u0, v0, kin["F"], kin["k"], Du, Dv, kin["dt"], rd.steps,
                                        batch.video_mask, scheme=s.scheme,
                                        on_violation="warn", return_trajectory=True)
    us = [u0] + [a for a, _ in traj]
    vs = [v0] + [b for _, b in traj]
    # the recomputed final fields equal the forward pass's (same integrator, same inputs)
    assert torch.allclose(us[-1], uK) and torch.allclose(vs[-1], vK)
    return {"u": torch.stack(us).numpy(), "v": torch.stack(vs).numpy(),
            "mask": batch.video_mask.numpy()}


def channel_relevance(fields: dict[str, np.ndarray], samples: Sequence[Sample]) -> np.ndarray:
    """Per channel, the mean over samples of corr(v_K, ground-truth moment indicator) over the
    real clips: which channels' final v marks the moment (C,)."""
    vK = fields["v"][-1]                                    # (B, C, L)
    out = []
    for b, s in enumerate(samples):
        L = s.num_clips
        centers = s.clip_times_s.mean(1)
        inside = np.zeros(L, float)
        for a, e in s.windows_s:
            inside[(centers > a) & (centers < e)] = 1.0
        if inside.std() == 0:
            continue
        v = vK[b, :, :L]
        vc = v - v.mean(1, keepdims=True)
        ic = inside - inside.mean()
        den = np.sqrt((vc ** 2).sum(1) * (ic ** 2).sum()) + 1e-12
        out.append((vc @ ic) / den)
    return np.mean(out, 0) if out else np.zeros(vK.shape[1])
