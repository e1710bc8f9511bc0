"""CUDA paths of the numerics, the model and mixed-precision training, checked against the CPU.

Sections (each recorded in the JSON, a failure in one does not stop the others):

- ``numerics``: :func:`rdmf.numerics.integrate` on CUDA (float32) for every scheme and boundary
  vs the same call on the CPU in float64; gradients on CUDA finite.
- ``dispatch``: :func:`rdmf.kernels.integrate` on CUDA takes the fused path and matches the
  reference.
- ``model``: every fusion built by ``rdmf.model.build_model`` in eval mode gives the same outputs
  on CUDA (float32) as on the CPU; forward+backward under bfloat16 autocast is finite.
- ``amp_training``: a few AdamW steps with bfloat16 autocast on one QVHighlights-shaped batch
  (rd with the fused kernel, cross_attention, concat): losses finite, recorded.

Without CUDA (``--dry`` or no GPU) every CUDA comparison is skipped with the reason and only the
CPU halves run on tiny sizes, which proves the script end to end.

    PYTHONPATH=$PWD python benchmarks/gpu_smoke.py --out DIR/gpu_smoke.json
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train_step import integrator, load_model_api, make_batch, train_step_fn  # noqa: E402

from rdmf.io import atomic_write_json  # noqa: E402
from rdmf.numerics import gray_scott as reference  # noqa: E402


def _inputs(B, C, L, device, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    u0 = 0.4 + 0.6 * torch.rand(B, C, L, generator=g, dtype=torch.float64)
    v0 = 0.5 * torch.rand(B, C, L, generator=g, dtype=torch.float64)
    F = 0.01 + 0.05 * torch.rand(C, generator=g, dtype=torch.float64)
    k = 0.03 + 0.04 * torch.rand(B, C, generator=g, dtype=torch.float64)
    Du, Dv, dt = torch.tensor(0.2), 0.1 * torch.rand(C, generator=g, dtype=torch.float64), 0.5
    lengths = [L] + [max(1, L // (b + 2)) for b in range(B - 1)]
    mask = reference.lattice_mask(lengths, L).to(device)
    cast = [x.to(device=device, dtype=dtype) for x in (u0, v0, F, k, Du.double(), Dv)]
    return cast[:2], [*cast[2:], dt], mask


def check_numerics(cuda: bool) -> list[dict]:
    rows = []
    for scheme in reference.SCHEMES:
        for boundary in reference.BOUNDARIES:
            row = {"scheme": scheme, "boundary": boundary}
            try:
                states64, params64, mask64 = _inputs(3, 4, 50, "cpu", torch.float64)
                kw = dict(scheme=scheme, boundary=boundary, on_violation="warn")
                want = reference.integrate(*states64, *params64, 12, mask64, **kw)
                row["cpu_float64_ok"] = all(bool(torch.isfinite(x).all()) for x in want)
                if cuda:
                    states, params, mask = _inputs(3, 4, 50, "cuda", torch.float32)
                    states = [s.requires_grad_() for s in states]
                    got = reference.integrate(*states, *params, 12, mask, **kw)
                    row["cuda_float32_max_abs_err"] = max(
                        (a.double().cpu() - b).abs().max().item() for a, b in zip(got, want))
                    grads = torch.autograd.grad(got[0].sum() + got[1].sum(), states)
                    row["cuda_grads_finite"] = all(bool(torch.isfinite(g).all()) for g in grads)
                    row["passed"] = row["cuda_float32_max_abs_err"] < 1e-4 and row[
                        "cuda_grads_finite"]
                else:
                    row["cuda"] = "skipped: no CUDA"
                    row["passed"] = row["cpu_float64_ok"]
            except Exception as exc:  # noqa: BLE001
                row.update(passed=False, error=f"{type(exc).__name__}: {str(exc)[:300]}")
            rows.append(row)
    return rows


def check_dispatch(cuda: bool) -> dict:
    if not cuda:
        return {"skipped": "no CUDA"}
    from rdmf.kernels import dispatch
    states, params, mask = _inputs(4, 8, 75, "cuda", torch.float32)
    before = dispatch.FUSED_CALLS
    got = dispatch.integrate(*states, *params, 16, mask)
    want = reference.integrate(*states, *params, 16, mask)
    err = max((a - b).abs().max().item() for a, b in zip(got, want))
    used = dispatch.FUSED_CALLS - before
    return {"fused_calls": used, "max_abs_err_vs_reference_float32": err,
            "passed": used == 1 and err < 5e-5}


def check_model(cuda: bool) -> list[dict]:
    try:
        build_model, run_config, _ = load_model_api()
        from rdmf.model.fusion import FUSIONS
    except Exception as exc:  # noqa: BLE001
        return [{"skipped": f"model API not importable: {type(exc).__name__}: {exc}"}]
    rows = []
    for fusion in FUSIONS:
        row = {"fusion": fusion}
        try:
            config = run_config(fusion=fusion, video_dim=64, text_dim=32, hidden=64, heads=4,
                                 ffn_dim=128, progress=False)
            torch.manual_seed(0)
            model = build_model(config.model).eval()
            g = torch.Generator().manual_seed(0)
            video, text = torch.randn(3, 20, 64, generator=g), torch.randn(3, 6, 32, generator=g)
            vmask = torch.arange(20)[None] < torch.tensor([20, 9, 1])[:, None]
            tmask = torch.arange(6)[None] < torch.tensor([6, 3, 2])[:, None]
            with torch.no_grad():
                cpu_out = model(video, vmask, text, tmask)
            row["cpu_ok"] = all(bool(torch.isfinite(v).all()) for v in cpu_out.values()
                                if isinstance(v, torch.Tensor))
            if not cuda:
                row.update(cuda="skipped: no CUDA", passed=row["cpu_ok"])
                rows.append(row)
                continue
            model = model.cuda()
            args = [x.cuda() for x in (video, vmask, text, tmask)]
            with torch.no_grad():
                cuda_out = model(*args)
            row["cuda_vs_cpu_max_abs_err"] = max(
                (cuda_out[key].float().cpu() - val.float()).abs().max().item()
                for key, val in cpu_out.items() if isinstance(val, torch.Tensor))
            model.train()
            with torch.autocast("cuda", dtype=torch.bfloat16):
                out = model(*args)
                loss = sum(v.float().pow(2).mean() for v in out.values()
                           if isinstance(v, torch.Tensor))
            loss.backward()
            row["amp_backward_finite"] = all(bool(torch.isfinite(p.grad).all())
                                             for p in model.parameters() if p.grad is not None)
            row["passed"] = row["cuda_vs_cpu_max_abs_err"] < 1e-3 and row["amp_backward_finite"]
        except Exception as exc:  # noqa: BLE001
            row.update(passed=False, error=f"{type(exc).__name__}: {str(exc)[:300]}",
                       trace=traceback.format_exc(limit=3)[-800:])
        rows.append(row)
    return rows


def check_amp_training(cuda: bool, steps: int) -> list[dict]:
    try:
        api = load_model_api()
    except Exception as exc:  # noqa: BLE001
        return [{"skipped": f"model API not importable: {type(exc).__name__}: {exc}"}]
    build_model, run_config, Criterion = api
    device = torch.device("cuda" if cuda else "cpu")
    batch = make_batch(32 if cuda else 2, device)
    rows = []
    for fusion, kind in (("rd", "fused" if cuda else "reference"), ("cross_attention", None),
                         ("concat", None)):
        row = {"fusion": fusion, "integrator": kind, "amp": cuda}
        try:
            config = run_config(fusion=fusion, video_dim=2818, text_dim=512, progress=False)
            torch.manual_seed(0)
            model = build_model(config.model).to(device).train()
            criterion = Criterion(config.loss) if Criterion is not None else None
            step, row["loss_kind"] = train_step_fn(model, criterion, batch, cuda, device)
            with integrator(kind) as dispatch:
                before = dispatch.FUSED_CALLS
                losses = [float(step()) for _ in range(steps if cuda else 1)]
                row["fused_kernel_calls"] = dispatch.FUSED_CALLS - before
            row["losses"] = losses
            row["passed"] = all(torch.isfinite(torch.tensor(losses)))
        except Exception as exc:  # noqa: BLE001
            row.update(passed=False, error=f"{type(exc).__name__}: {str(exc)[:300]}")
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--dry", action="store_true", help="CPU halves only")
    parser.add_argument("--train-steps", type=int, default=5)
    args = parser.parse_args(argv)
    cuda = torch.cuda.is_available() and not args.dry
    if not cuda:
        torch.set_num_threads(1)
    report = {"cuda": cuda, "device": torch.cuda.get_device_name() if cuda else "cpu",
              "torch": torch.__version__}
    for name, fn in (("numerics", lambda: check_numerics(cuda)),
                     ("dispatch", lambda: check_dispatch(cuda)),
                     ("model", lambda: check_model(cuda)),
                     ("amp_training", lambda: check_amp_training(cuda, args.train_steps))):
        t0 = time.perf_counter()
        try:
            report[name] = fn()
        except Exception as exc:  # noqa: BLE001
            report[name] = {"passed": False, "error": f"{type(exc).__name__}: {exc}"}
        report[f"{name}_seconds"] = time.perf_counter() - t0
        atomic_write_json(args.out, report)
        print(name, "done", flush=True)
    rows = [r for key in ("numerics", "dispatch", "model", "amp_training")
            for r in (report[key] if isinstance(report[key], list) else [report[key]])]
    report["all_passed"] = all(r.get("passed", True) for r in rows)
    atomic_write_json(args.out, report)
    return 0 if report["all_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
