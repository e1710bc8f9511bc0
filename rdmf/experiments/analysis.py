"""Look inside a trained RDMF model (notebook 06): the learned kinetics per channel, where they
lie on the Gray-Scott (F, k) map, their time and length scales, and the u, v fields over the
K integration steps for a few queries; and whether the reaction does anything a linear smoother
would not: :func:`affine_r2` (how much of v_K an affine function of the linearly diffused seeds
explains), :func:`learned_reaches`, :func:`effective_kinetics` (with the text shift and the
space-varying feed), :func:`flash_response` (an isolated one-clip seed vs a run of seeds).

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
def _seeded(model, samples: Sequence[Sample]):
    """The layer, the batch, float32 seeds u0, v0 (B, C, L) and the kinetics of its forward pass."""
    rd = rd_layer(model)
    batch, x, t = _prepared(model, samples)
    u0, v0, pooled, match = rd.seeds(x, batch.video_mask, t, batch.text_mask)
    kin = rd.kinetics(pooled if rd.text_shift is not None else None,
                      match if rd.settings.space_feed else None)
    work = rd.log_F.dtype
    return rd, batch, u0.to(work), v0.to(work), kin


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
    F, k = kin["F_query"].float().numpy(), kin["k"].float().numpy()      # (B or 1, C)
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
    rd, batch, u0, v0, kin = _seeded(model, samples)
    if not rd.settings.reaction:
        raise ValueError("field_trajectories: the layer has no reaction (diffusion-only "
                         "ablation); its 'v' is not a Gray-Scott field")
    uK, vK, traj = rd.integrate_fields(u0, v0, kin, batch.video_mask, return_trajectory=True)
    us = [u0] + [a for a, _ in traj]
    vs = [v0] + [b for _, b in traj]
    # the recomputed final fields equal the forward pass's (same integrator, same inputs)
    assert torch.allclose(us[-1], uK) and torch.allclose(vs[-1], vK)
    return {"u": torch.stack(us).float().numpy(), "v": torch.stack(vs).float().numpy(),
            "mask": batch.video_mask.numpy()}


@torch.no_grad()
def affine_r2(model, samples: Sequence[Sample]) -> np.ndarray:
    """(B,) per sample, how much of v_K an affine function of the LINEARLY diffused seeds explains.

    The seeds u0, v0 are diffused with the layer's own Du, Dv over the same T and scheme, with no
    reaction (ũ, ṽ); per channel c, v_K[c] is fitted by least squares as a ũ[c] + b ṽ[c] + d over
    the real clips; R² = 1 − Σ_c SS_res,c / Σ_c SS_tot,c. Near 1: the reaction only rescales a
    linear smoothing of the seeds; well below 1: it reshapes them. (NaN for a sample whose v_K is
    constant.)
    """
    rd, batch, u0, v0, kin = _seeded(model, samples)
    _, vK = rd.integrate_fields(u0, v0, kin, batch.video_mask)
    lin_u, lin_v = rd.integrate_fields(u0, v0, kin, batch.video_mask, reaction=False)
    out = []
    for b, n in enumerate(batch.video_mask.sum(1).tolist()):
        y = vK[b, :, :n].double()                                        # (C, n)
        X = torch.stack([lin_u[b, :, :n], lin_v[b, :, :n],
                         torch.ones_like(lin_u[b, :, :n])], dim=-1).double()   # (C, n, 3)
        coef = torch.linalg.lstsq(X, y.unsqueeze(-1), driver="gelsd").solution
        resid = y - (X @ coef).squeeze(-1)
        total = ((y - y.mean(dim=1, keepdim=True)) ** 2).sum()
        out.append(float(1 - (resid ** 2).sum() / total) if total > 1e-20 else math.nan)
    return np.array(out)


@torch.no_grad()
def learned_reaches(model) -> dict[str, np.ndarray | float]:
    """Diffusion reach in clips per channel: ``u`` = sqrt(2 Du T), ``v`` = sqrt(2 Dv T), T = K dt
    (zero when diffusion is off), and ``T``."""
    rd = rd_layer(model)
    kin = rd.kinetics(None)
    T = rd.steps * float(kin["dt"])
    on = 1.0 if rd.settings.diffusion else 0.0
    return {"u": on * np.sqrt(2 * kin["Du"].double().numpy() * T),
            "v": on * np.sqrt(2 * kin["Dv"].double().numpy() * T), "T": T}


@torch.no_grad()
def effective_kinetics(model, samples: Sequence[Sample]) -> dict:
    """The kinetics each query actually runs with, text shift (and space-varying feed) included.

    ``F``, ``k`` (B, C): per query (without the per-clip shift); ``F_clips``: per sample a
    (C, n_b) array of F_c(x) over its real clips (equal to ``F`` without a space feed);
    ``T(F+k)`` (B, C) with F averaged over the clips; ``dt``, ``T``.
    """
    rd, batch, _, _, kin = _seeded(model, samples)
    F_query, k = kin["F_query"], kin["k"]
    B, C = batch.video_mask.shape[0], rd.channels
    F_query, k = F_query.expand(B, C), k.expand(B, C)
    lengths = batch.video_mask.sum(1).tolist()
    F = kin["F"]
    if F.dim() == 3:
        F_clips = [F[b, :, :n].double().numpy() for b, n in enumerate(lengths)]
    else:
        F_clips = [F.expand(B, C)[b, :, None].expand(C, n).double().numpy()
                   for b, n in enumerate(lengths)]
    T = rd.steps * float(kin["dt"])
    F_mean = np.stack([f.mean(1) for f in F_clips])
    return {"F": F_query.double().numpy(), "k": k.double().numpy(), "F_clips": F_clips,
            "T(F+k)": T * (F_mean + k.double().numpy()), "dt": float(kin["dt"]), "T": T}


@torch.no_grad()
def flash_response(model, *, clips: int = 64, run: int = 8, amplitude: float = 0.9,
                   background: float = 0.0) -> dict[str, np.ndarray]:
    """What the layer's medium does to an isolated one-clip seed and to a run of ``run`` seeds.

    Per channel, with the layer's own kinetics (no text shift, constant feed), scheme and K:
    u0 = 1 everywhere, v0 = ``background`` except ``amplitude`` on the middle clip (``single``) or
    on ``run`` middle clips (``run``). Returns the peak v_K of each (C,), their ``ratio``
    run/single, and the peak of a seed-free lattice (``none``). A bistable medium that
    "kills isolated seeds and keeps mutually supporting ones" has ratio ≫ 1.
    """
    if not (isinstance(clips, int) and isinstance(run, int) and 1 <= run <= clips):
        raise ValueError(f"flash_response: need integers 1 ≤ run ≤ clips, got run={run}, "
                         f"clips={clips}")
    rd = rd_layer(model)
    kin = rd.kinetics(None)
    C, work = rd.channels, rd.log_F.dtype
    v0 = torch.full((3, C, clips), float(background), dtype=work)
    mid = clips // 2
    v0[0, :, mid] = amplitude
    v0[1, :, mid - run // 2: mid - run // 2 + run] = amplitude
    u0 = torch.ones_like(v0)
    mask = torch.ones(3, clips, dtype=torch.bool)
    _, vK = rd.integrate_fields(u0, v0, kin, mask)
    peak = vK.amax(dim=-1).double().numpy()
    return {"single": peak[0], "run": peak[1], "none": peak[2],
            "ratio": peak[1] / np.maximum(peak[0], 1e-30)}


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


def diagnostics_summary(model, samples: Sequence[Sample]) -> dict:
    """The four RD diagnostics of a trained model on ``samples``, summarised for a report:
    affine R² of v_K (median, 10th and 90th percentile), effective T(F+k) (median, range), the
    reaches of u per channel, the flash response (run/single ratio: median, max) and the channel
    classes on the (F, k) map."""
    r2 = affine_r2(model, samples)
    eff = effective_kinetics(model, samples)
    reach = learned_reaches(model)
    flash = flash_response(model)
    kin = learned_kinetics(model, samples)
    return {
        "n_samples": len(samples),
        "affine_r2": {"median": float(np.nanmedian(r2)), "p10": float(np.nanpercentile(r2, 10)),
                      "p90": float(np.nanpercentile(r2, 90))},
        "effective_T(F+k)": {"median": float(np.median(eff["T(F+k)"])),
                             "min": float(np.min(eff["T(F+k)"])), "max": float(np.max(eff["T(F+k)"]))},
        "reach_u_clips": sorted(float(x) for x in np.asarray(reach["u"])),
        "flash_ratio": {"median": float(np.median(flash["ratio"])), "max": float(np.max(flash["ratio"]))},
        "classes": {name: int((kin["class"] == name).sum()) for name in CLASSES},
    }
