"""The RDMF layer: invariant region, padding invariance, a slow reference, gradients, bad settings."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch.func import functional_call

from rdmf.model.rd_fusion import RDFusion, RDSettings

DIM = 16


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


@pytest.mark.parametrize("raw_scale", [0.0, 3.0, 40.0, 1e4])
@pytest.mark.parametrize("scheme", ["semi_implicit"])
def test_invariant_region_for_any_raw_parameters(raw_scale, scheme):
    for seed in range(4):
        layer = _layer(seed, scheme=scheme, steps=12)
        g = torch.Generator().manual_seed(100 + seed)
        with torch.no_grad():
            for name in ("raw_F", "raw_k", "raw_r", "raw_sigma", "raw_dt"):
                param = getattr(layer, name)
                param.copy_(torch.randn(param.shape, generator=g) * raw_scale)
            layer.text_shift.weight.copy_(torch.randn(layer.text_shift.weight.shape, generator=g) * raw_scale)
            layer.to_v.bias.fill_(raw_scale)  # strong seeds: v0 near 1
            _, fields = layer(*_inputs(seed=seed), return_fields=True)
        u, v, v0 = fields["u"], fields["v"], fields["v0"]
        assert torch.isfinite(u).all() and torch.isfinite(v).all()
        assert u.min() >= 0 and u.max() <= 1
        assert v.min() >= 0
        F, k, dt = fields["F"][..., None], fields["k"][..., None], fields["dt"]
        bound = torch.maximum(v0.amax(dim=2, keepdim=True), (1 + dt * F) / (dt * (F + k)))
        assert (v <= bound * (1 + 1e-5)).all()
        r_u = fields["Du"] * dt
        r_v = fields["Dv"] * dt
        assert r_u.max() <= 0.5 and r_v.max() <= 0.5


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
    assert torch.allclose(fields_pad["u"][..., :7], fields["u"], atol=1e-6)
    assert torch.allclose(fields_pad["v"][..., :7], fields["v"], atol=1e-6)
    # a padded batch equals running each video alone at its true length
    video, video_mask, text, text_mask = _inputs(B=3, L=9, N=5, seed=3)
    batch_out = layer(video, video_mask, text, text_mask)
    for b in range(3):
        n, m = int(video_mask[b].sum()), int(text_mask[b].sum())
        alone = layer(video[b:b + 1, :n], video_mask[b:b + 1, :n], text[b:b + 1, :m],
                      text_mask[b:b + 1, :m])
        assert torch.allclose(batch_out[b, :n], alone[0], atol=1e-5)


def _reference_semi_implicit(u0, v0, F, k, Du, Dv, dt, steps, length):
    """Pure-Python Gray-Scott, semi-implicit (u first), reflecting boundaries at ``length``."""
    u, v = list(u0[:length]), list(v0[:length])
    for _ in range(steps):
        lap = lambda x, i: (x[max(i - 1, 0)] + x[min(i + 1, length - 1)] - 2 * x[i])  # noqa: E731
        u_new = [(u[i] + dt * Du * lap(u, i) + dt * F) / (1 + dt * (v[i] ** 2 + F))
                 for i in range(length)]
        v_new = [(v[i] + dt * Dv * lap(v, i) + dt * u_new[i] * v[i] ** 2) / (1 + dt * (F + k))
                 for i in range(length)]
        u, v = u_new, v_new
    return u, v


@pytest.mark.parametrize("changes", [{}, {"diffusion": False}, {"reaction": False}])
def test_layer_equals_slow_reference(changes):
    layer = _layer(2, **changes).double()
    with torch.no_grad():
        layer.raw_dt.fill_(1.5)   # dt near the top of its range, strong reaction
        layer.text_shift.weight.normal_(0, 0.5) if layer.text_shift is not None else None
        inputs = _inputs(seed=4, dtype=torch.float64)
        _, f = layer(*inputs, return_fields=True)
    lengths = inputs[1].sum(1)
    for b in range(f["u"].shape[0]):
        for c in range(f["u"].shape[1]):
            F, k = float(f["F"][b, c]), float(f["k"][b, c])
            Du, Dv, dt = float(f["Du"][c]), float(f["Dv"][c]), float(f["dt"])
            if not layer.settings.diffusion:
                Du = Dv = 0.0
            n = int(lengths[b])
            u0, v0 = f["u0"][b, c].tolist(), f["v0"][b, c].tolist()
            if layer.settings.reaction:
                u_ref, v_ref = _reference_semi_implicit(u0, v0, F, k, Du, Dv, dt, 6, n)
            else:  # pure diffusion of each field
                u_ref, _ = _reference_semi_implicit(u0, [0.0] * n, 0.0, 0.0, Du, 0.0, dt, 6, n)
                v_ref, _ = _reference_semi_implicit(v0, [0.0] * n, 0.0, 0.0, Dv, 0.0, dt, 6, n)
            assert torch.allclose(f["u"][b, c, :n], torch.tensor(u_ref, dtype=torch.float64), atol=1e-12)
            assert torch.allclose(f["v"][b, c, :n], torch.tensor(v_ref, dtype=torch.float64), atol=1e-12)


def test_no_reaction_conserves_mass_and_no_diffusion_is_local():
    video, video_mask, text, text_mask = _inputs(B=1, L=8, N=3, seed=7)
    diffusion_only = _layer(3, reaction=False)
    _, f = diffusion_only(video, video_mask, text, text_mask, return_fields=True)
    assert torch.allclose(f["u"].sum(-1), f["u0"].sum(-1), atol=1e-5)
    assert torch.allclose(f["v"].sum(-1), f["v0"].sum(-1), atol=1e-5)
    assert not torch.allclose(f["u"], f["u0"])
    local = _layer(3, diffusion=False)
    changed = video.clone()
    changed[0, 3] += 5.0
    _, f0 = local(video, video_mask, text, text_mask, return_fields=True)
    _, f1 = local(changed, video_mask, text, text_mask, return_fields=True)
    differs = ~torch.isclose(f0["v"], f1["v"]).all(dim=1)[0]
    assert differs.tolist() == [i == 3 for i in range(8)]


def test_gradcheck_float64():
    layer = _layer(4, steps=3).double()
    with torch.no_grad():
        layer.text_shift.weight.normal_(0, 0.3)
    video, video_mask, text, text_mask = _inputs(B=2, L=5, N=3, dim=DIM, seed=8, dtype=torch.float64)
    names = ["raw_F", "raw_k", "raw_r", "raw_sigma", "raw_dt"]
    params = {n: getattr(layer, n).detach().clone().requires_grad_() for n in names}

    def fn(video, text, *raw):
        return functional_call(layer, dict(zip(names, raw)), (video, video_mask, text, text_mask))

    assert torch.autograd.gradcheck(
        fn, (video.requires_grad_(), text.requires_grad_(), *params.values()), eps=1e-6, atol=1e-6)


def test_fixed_kinetics_has_no_trainable_kinetics():
    layer = _layer(0, learn_kinetics=False, text_kinetics=False)
    names = {n for n, p in layer.named_parameters()}
    assert not names & {"raw_F", "raw_k", "raw_r", "raw_sigma", "raw_dt"}
    assert "raw_F" in dict(layer.named_buffers())


@pytest.mark.parametrize("changes, field", [
    ({"r_max": 0.5}, "rd_r_max"),
    ({"sigma_range": (0.5, 2.0), "sigma_init": 1.0}, "rd_r_max"),
    ({"F_range": (0.0, 0.1)}, "rd_F_range"),
    ({"dt_range": (0.0, 1.0)}, "rd_dt_range"),
    ({"scheme": "rk4"}, "rd_scheme"),
    ({"learn_kinetics": False}, "rd_learn_kinetics"),
    ({"F_init": (0.2, 0.3)}, "rd_F_init"),
])
def test_settings_outside_the_bounded_region_are_errors(changes, field):
    with pytest.raises(ValueError, match=field):
        RDFusion(DIM, dataclasses.replace(RDSettings(), **changes))


def test_dct_scheme_may_exceed_the_explicit_bound():
    pytest.importorskip("rdmf.numerics.dct")
    layer = RDFusion(DIM, RDSettings(channels=2, steps=3, scheme="dct", r_max=3.0, r_init=2.0))
    _, f = layer(*_inputs(), return_fields=True)
    assert f["u"].min() >= 0 and f["u"].max() <= 1 and f["v"].min() >= 0


def test_describe_reports_the_time_scales():
    layer = _layer(0, steps=8)
    info = layer.describe()
    assert info["T"] == pytest.approx(8 * info["dt"])
    # sqrt(2 Du T) = sqrt(2 r K): the diffusion reach depends on r and K only
    for r, length in zip(info["r"], info["diffusion_length_clips"]):
        assert length == pytest.approx((2 * r * 8) ** 0.5, rel=1e-5)
    assert len(info["F"]) == 4 and all(0.001 <= f <= 0.1 for f in info["F"])


def test_explicit_scheme_ablation_reports_leaving_its_bounded_region():
    from rdmf.numerics.gray_scott import StabilityError
    layer = _layer(0, scheme="explicit", dt_init=1.9, r_init=0.4)
    with pytest.raises(StabilityError, match="explicit Euler"):
        layer(*_inputs())
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _layer(0, scheme="explicit", dt_init=1.9, r_init=0.4, explicit_on_violation="warn")(*_inputs())
    assert any("explicit Euler" in str(w.message) for w in caught)
