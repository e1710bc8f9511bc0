"""The RDMF layer: invariant region, padding invariance, slow references, gradients, bad settings,
the initial kinetics and reaches, the read-outs."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch.func import functional_call

from rdmf.model.rd_fusion import (KINETIC_NAMES, RDFusion, RDSettings, soft_bound,
                                  soft_bound_inverse)

DIM = 16
#: ranges where the explicit-diffusion schemes are bounded (Du dt ≤ 0.12 · 4 < 1/2)
SEMI = dict(scheme="semi_implicit", Du_range=(1e-3, 0.12), dt_range=(0.05, 4.0), dt_init=2.0,
            reach_init=(1.0, 1.5))


def _inputs(B=3, L=9, N=5, dim=DIM, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    video = torch.randn(B, L, dim, generator=g, dtype=dtype) * 3
    text = torch.randn(B, N, dim, generator=g, dtype=dtype) * 3
    lengths = torch.tensor([L, L - 3, 2][:B])
    video_mask = torch.arange(L)[None] < lengths[:, None]
    text_mask = torch.arange(N)[None] < torch.tensor([N, 2, 1][:B])[:, None]
    return video, video_mask, text, text_mask


def _layer(seed=0, **changes):
    torch.manual_seed(seed)
    return RDFusion(DIM, dataclasses.replace(RDSettings(channels=4, steps=6), **changes))


def _kinetic_params(layer):
    return [n for n in KINETIC_NAMES if hasattr(layer, n)]


def test_soft_bound_is_the_identity_inside_and_bounded_outside():
    lo, hi = math.log(0.001), math.log(0.1)
    x = torch.linspace(-50, 50, 2001, dtype=torch.float64)
    y = soft_bound(x, lo, hi)
    assert (y >= lo).all() and (y <= hi).all() and (y.diff() >= -1e-12).all()
    inside = torch.tensor([-6.0, -4.5, -3.2], dtype=torch.float64)
    assert torch.allclose(soft_bound(inside, lo, hi), inside, atol=0.01)
    target = torch.tensor([lo + 0.01, -4.0, hi - 0.01], dtype=torch.float64)
    assert torch.allclose(soft_bound(soft_bound_inverse(target, lo, hi), lo, hi), target, atol=1e-9)
    assert soft_bound(torch.tensor(1e6), lo, hi) <= hi and soft_bound(torch.tensor(-1e6), lo, hi) >= lo


@pytest.mark.parametrize("raw_scale", [0.0, 3.0, 40.0, 1e4])
@pytest.mark.parametrize("scheme", ["dct", "semi_implicit"])
def test_invariant_region_for_any_parameters(raw_scale, scheme):
    """u ∈ [0, 1], 0 ≤ v ≤ max(max v0, max_x (1 + dt F)/(dt (F + k))) after many steps, whatever
    the learned log-kinetics, text shifts and feed gains (for dct: any reach)."""
    changes = SEMI if scheme == "semi_implicit" else {}
    for seed in range(3):
        layer = _layer(seed, steps=40, **changes)
        g = torch.Generator().manual_seed(100 + seed)
        with torch.no_grad():
            for name in _kinetic_params(layer):
                param = getattr(layer, name)
                param.add_(torch.randn(param.shape, generator=g) * raw_scale)
            layer.text_shift.weight.copy_(torch.randn(layer.text_shift.weight.shape, generator=g) * raw_scale)
            layer.to_v.bias.fill_(raw_scale)  # strong seeds: v0 near 1
            _, fields = layer(*_inputs(seed=seed), return_fields=True)
        u, v, v0 = fields["u"], fields["v"], fields["v0"]
        s = layer.settings
        assert torch.isfinite(u).all() and torch.isfinite(v).all()
        assert u.min() >= 0 and u.max() <= 1
        assert v.min() >= 0
        F, k, dt = fields["F"], fields["k"][..., None], fields["dt"]
        assert F.dim() == 3 and F.min() >= s.F_range[0] * (1 - 1e-6) and F.max() <= s.F_range[1] * (1 + 1e-6)
        site_bound = ((1 + dt * F) / (dt * (F + k))).amax(dim=2, keepdim=True)
        bound = torch.maximum(v0.amax(dim=2, keepdim=True), site_bound)
        assert (v <= bound * (1 + 1e-5)).all()
        if scheme == "semi_implicit":
            assert (fields["Du"] * dt).max() <= 0.5 and (fields["Dv"] * dt).max() <= 0.5


def test_padding_never_changes_real_clips():
    layer = _layer(1).eval()
    video, video_mask, text, text_mask = _inputs(B=1, L=7, N=4)
    out, fields = layer(video, video_mask, text, text_mask, return_fields=True)
    g = torch.Generator().manual_seed(5)
    pad_video = torch.cat([video, 100 * torch.randn(1, 6, DIM, generator=g)], dim=1)
    pad_text = torch.cat([text, 100 * torch.randn(1, 3, DIM, generator=g)], dim=1)
    pad_vmask = torch.cat([video_mask, torch.zeros(1, 6, dtype=torch.bool)], dim=1)
    pad_tmask = torch.cat([text_mask, torch.zeros(1, 3, dtype=torch.bool)], dim=1)
    out_pad, fields_pad = layer(pad_video, pad_vmask, pad_text, pad_tmask, return_fields=True)
    assert torch.allclose(out_pad[:, :7], out, atol=1e-5)
    assert torch.allclose(fields_pad["u"][..., :7], fields["u"], atol=1e-5)
    assert torch.allclose(fields_pad["v"][..., :7], fields["v"], atol=1e-5)
    # a padded batch equals running each video alone at its true length
    video, video_mask, text, text_mask = _inputs(B=3, L=9, N=5, seed=3)
    batch_out = layer(video, video_mask, text, text_mask)
    for b in range(3):
        n, m = int(video_mask[b].sum()), int(text_mask[b].sum())
        alone = layer(video[b:b + 1, :n], video_mask[b:b + 1, :n], text[b:b + 1, :m],
                      text_mask[b:b + 1, :m])
        assert torch.allclose(batch_out[b, :n], alone[0], atol=1e-5)


def _laplacian_matrix(n):
    lap = torch.zeros(n, n, dtype=torch.float64)
    for i in range(n):
        for j in (max(i - 1, 0), min(i + 1, n - 1)):
            lap[i, j] += 1
            lap[i, i] -= 1
    return lap


def _reference(u0, v0, F, k, Du, Dv, dt, steps, length, scheme):
    """Pure-Python Gray-Scott on one channel, reflecting boundaries at ``length``; F per site.
    ``dct``: exact diffusion by a dense matrix exponential, then the semi-implicit reaction."""
    u, v = list(u0[:length]), list(v0[:length])
    lap = _laplacian_matrix(length)
    Pu = torch.linalg.matrix_exp(dt * Du * lap).tolist()
    Pv = torch.linalg.matrix_exp(dt * Dv * lap).tolist()
    for _ in range(steps):
        if scheme == "dct":
            du = [sum(Pu[i][j] * u[j] for j in range(length)) for i in range(length)]
            dv = [sum(Pv[i][j] * v[j] for j in range(length)) for i in range(length)]
        else:
            lp = lambda x, i: (x[max(i - 1, 0)] + x[min(i + 1, length - 1)] - 2 * x[i])  # noqa: E731
            du = [u[i] + dt * Du * lp(u, i) for i in range(length)]
            dv = [v[i] + dt * Dv * lp(v, i) for i in range(length)]
        u_new = [(du[i] + dt * F[i]) / (1 + dt * (v[i] ** 2 + F[i])) for i in range(length)]
        if scheme == "dct":  # the reaction substep sees the diffused v
            u_new = [(du[i] + dt * F[i]) / (1 + dt * (dv[i] ** 2 + F[i])) for i in range(length)]
            v_new = [(dv[i] + dt * u_new[i] * dv[i] ** 2) / (1 + dt * (F[i] + k)) for i in range(length)]
        else:
            v_new = [(dv[i] + dt * u_new[i] * v[i] ** 2) / (1 + dt * (F[i] + k)) for i in range(length)]
        u, v = u_new, v_new
    return u, v


@pytest.mark.parametrize("scheme", ["dct", "semi_implicit"])
@pytest.mark.parametrize("changes", [{}, {"diffusion": False}, {"reaction": False},
                                     {"space_feed": False}])
def test_layer_equals_slow_reference(scheme, changes):
    layer = _layer(2, **(SEMI if scheme == "semi_implicit" else {}), **changes).double()
    with torch.no_grad():
        layer.text_shift.weight.normal_(0, 0.5)
        if layer.settings.space_feed:
            layer.feed_gain.fill_(3.0)
        inputs = _inputs(seed=4, dtype=torch.float64)
        _, f = layer(*inputs, return_fields=True)
    lengths = inputs[1].sum(1)
    for b in range(f["u"].shape[0]):
        for c in range(f["u"].shape[1]):
            n = int(lengths[b])
            F = f["F"][b, c].tolist() if f["F"].dim() == 3 else [float(f["F"][b, c])] * n
            k = float(f["k"][b, c])
            Du, Dv, dt = float(f["Du"][c]), float(f["Dv"][c]), float(f["dt"])
            if not layer.settings.diffusion:
                Du = Dv = 0.0
            u0, v0 = f["u0"][b, c].tolist(), f["v0"][b, c].tolist()
            if layer.settings.reaction:
                u_ref, v_ref = _reference(u0, v0, F, k, Du, Dv, dt, 6, n, scheme)
            else:  # pure diffusion of each field
                zero = [0.0] * n
                u_ref, _ = _reference(u0, zero, zero, 0.0, Du, 0.0, dt, 6, n, scheme)
                v_ref, _ = _reference(v0, zero, zero, 0.0, Dv, 0.0, dt, 6, n, scheme)
            assert torch.allclose(f["u"][b, c, :n], torch.tensor(u_ref, dtype=torch.float64), atol=1e-10)
            assert torch.allclose(f["v"][b, c, :n], torch.tensor(v_ref, dtype=torch.float64), atol=1e-10)


def test_no_reaction_conserves_mass_and_no_diffusion_is_local():
    video, video_mask, text, text_mask = _inputs(B=1, L=8, N=3, seed=7)
    diffusion_only = _layer(3, reaction=False)
    _, f = diffusion_only(video, video_mask, text, text_mask, return_fields=True)
    assert torch.allclose(f["u"].sum(-1), f["u0"].sum(-1), atol=1e-5)
    assert torch.allclose(f["v"].sum(-1), f["v0"].sum(-1), atol=1e-5)
    assert not torch.allclose(f["u"], f["u0"])
    # (the space-varying feed is centred on the video's mean match, which couples the clips)
    local = _layer(3, diffusion=False, space_feed=False)
    changed = video.clone()
    changed[0, 3] += 5.0
    _, f0 = local(video, video_mask, text, text_mask, return_fields=True)
    _, f1 = local(changed, video_mask, text, text_mask, return_fields=True)
    differs = ~torch.isclose(f0["v"], f1["v"]).all(dim=1)[0]
    assert differs.tolist() == [i == 3 for i in range(8)]


@pytest.mark.parametrize("scheme", ["dct", "semi_implicit"])
def test_gradcheck_float64(scheme):
    changes = {**SEMI, "reach_init": (0.8, 1.0)} if scheme == "semi_implicit" else {}
    layer = _layer(4, steps=3, **changes).double()
    with torch.no_grad():
        layer.text_shift.weight.normal_(0, 0.3)
        layer.gate.weight.normal_(0, 0.3)
    video, video_mask, text, text_mask = _inputs(B=2, L=5, N=3, dim=DIM, seed=8, dtype=torch.float64)
    names = layer.kinetic_parameters()
    assert names == list(KINETIC_NAMES)
    params = {n: getattr(layer, n).detach().clone().requires_grad_() for n in names}

    def fn(video, text, *raw):
        return functional_call(layer, dict(zip(names, raw)), (video, video_mask, text, text_mask))

    assert torch.autograd.gradcheck(
        fn, (video.requires_grad_(), text.requires_grad_(), *params.values()), eps=1e-6, atol=1e-6)


def test_fixed_kinetics_has_no_trainable_kinetics():
    layer = _layer(0, learn_kinetics=False, text_kinetics=False, space_feed=False)
    names = {n for n, p in layer.named_parameters()}
    assert not names & set(KINETIC_NAMES)
    assert layer.kinetic_parameters() == []
    assert "log_F" in dict(layer.named_buffers())


def test_one_parameter_per_kinetic_quantity():
    layer = _layer(0)
    assert layer.text_shift.bias is None          # the base log F, log k is the only offset
    for name in ("log_F", "log_k", "log_Du", "log_sigma", "feed_gain"):
        assert getattr(layer, name).shape == (4,)
    assert layer.log_dt.shape == ()


@pytest.mark.parametrize("changes, field", [
    ({"scheme": "semi_implicit"}, "rd_Du_range"),
    ({"scheme": "explicit", "sigma_range": (0.5, 2.0)}, "rd_Du_range"),
    ({"F_range": (0.0, 0.1)}, "rd_F_range"),
    ({"Du_range": (0.0, 1.0)}, "rd_Du_range"),
    ({"dt_range": (0.0, 1.0)}, "rd_dt_range"),
    ({"scheme": "rk4"}, "rd_scheme"),
    ({"readout": "concat"}, "rd_readout"),
    ({"learn_kinetics": False}, "rd_learn_kinetics"),
    ({"learn_kinetics": False, "text_kinetics": False}, "rd_space_feed"),
    ({"F_init": (0.2, 0.3)}, "rd_F_init"),
    ({"reach_init": (1.0, 200.0)}, "rd_reach_init"),
    ({"kinetics_lr_mult": 0.0}, "rd_kinetics_lr_mult"),
])
def test_settings_outside_the_bounded_region_are_errors(changes, field):
    with pytest.raises(ValueError, match=field):
        RDFusion(DIM, dataclasses.replace(RDSettings(), **changes))


def test_default_reaches_span_moments_and_are_not_capped():
    layer = RDFusion(DIM, RDSettings())
    info = layer.describe()
    reaches = torch.tensor(info["diffusion_length_clips"])
    assert info["T"] == pytest.approx(8 * info["dt"])
    assert reaches[0] == pytest.approx(1.0, rel=1e-4) and reaches[-1] == pytest.approx(16.0, rel=1e-4)
    ratios = reaches[1:] / reaches[:-1]                    # log-uniform
    assert torch.allclose(ratios, ratios[0].expand_as(ratios), rtol=1e-4)
    assert reaches.max() > 2 * (2 * 0.45 * 8) ** 0.5        # beyond the explicit schemes' cap
    # sqrt(2 Du T) with T = K dt
    for Du, length in zip(info["Du"], info["diffusion_length_clips"]):
        assert length == pytest.approx((2 * Du * info["T"]) ** 0.5, rel=1e-5)
    assert layer.settings.scheme == "dct"


def test_initial_kinetics_lie_in_the_bistable_band_and_the_reaction_acts():
    from rdmf.experiments.analysis import classify_channel
    layer = RDFusion(DIM, RDSettings())
    info = layer.describe()
    for F, k, Du, Dv in zip(info["F"], info["k"], info["Du"], info["Dv"]):
        assert classify_channel(F, k, Du, Dv) == "bistable"
        assert k < math.sqrt(F) / 2 - F                      # below the saddle-node curve
    assert min(info["T_times_F_plus_k"]) > 4                # several reaction times


def test_space_feed_varies_along_the_clips_inside_the_bounds():
    layer = _layer(0)
    with torch.no_grad():
        layer.feed_gain.fill_(5.0)
        _, f = layer(*_inputs(), return_fields=True)
    F, mask = f["F"], _inputs()[1]
    s = layer.settings
    assert F.shape == (3, 4, 9)
    assert F.min() >= s.F_range[0] and F.max() <= s.F_range[1]
    assert (F[0].std(dim=-1) > 0).all()                     # varies along the clips
    flat = _layer(0, space_feed=False)
    _, g = flat(*_inputs(), return_fields=True)
    assert g["F"].shape == (3, 4)
    assert f["match"][~mask].abs().max() == 0


def test_readouts():
    inputs = _inputs()
    residual = _layer(5, readout="residual")
    gate = _layer(5, readout="gate")
    saliency = _layer(5, readout="saliency")
    out_r = residual(*inputs)
    # the gate starts open (factor 1) and the saliency term at 0: all three start equal
    assert torch.allclose(gate(*inputs), out_r, atol=1e-6)
    out_s, fields = saliency(*inputs, return_fields=True)
    assert torch.allclose(out_s, out_r, atol=1e-6) and fields["saliency"].abs().max() == 0
    with torch.no_grad():
        gate.gate.weight.normal_(0, 1.0)
        saliency.saliency_readout.weight.fill_(1.0)
    assert not torch.allclose(gate(*inputs), out_r, atol=1e-3)
    _, fields = saliency(*inputs, return_fields=True)
    assert torch.allclose(fields["saliency"], fields["v"].sum(1))
    assert residual.gate is None and residual.saliency_readout is None


def test_explicit_scheme_ablation_reports_leaving_its_bounded_region():
    from rdmf.numerics.gray_scott import StabilityError
    explicit = dict(scheme="explicit", Du_range=(1e-3, 0.2), dt_range=(0.05, 2.0), dt_init=1.9,
                    reach_init=(1.0, 2.0))
    layer = _layer(0, **explicit)
    with pytest.raises(StabilityError, match="explicit Euler"):
        layer(*_inputs())
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _layer(0, **explicit, explicit_on_violation="warn")(*_inputs())
    assert any("explicit Euler" in str(w.message) for w in caught)
