"""Training-step time at QVHighlights scale for the rd, cross_attention and concat fusions.

One step = forward, the project's loss (Hungarian matching included), backward, gradient clipping
and AdamW, on random inputs of QVHighlights' shape: batch 32, 75 clips of 2818-d video features,
32 query tokens of 512-d text features, hidden 256 (the model's reference config otherwise).
Each fusion runs without and with bfloat16 autocast (AMP); ``rd`` runs twice, with the PyTorch
integrator and with the fused Triton kernel (CUDA only), so the kernel's share is visible.

Written against ``rdmf.model.build_model(config.model)`` and ``rdmf.train.config.run_config``; when
they do not import (the model is developed in parallel) the section is skipped with the reason.
On CPU (``--smoke``, the default there) it runs batch 2 for one timed step: a check that the code
path works, NOT a QVHighlights-scale measurement.

    PYTHONPATH=$PWD python benchmarks/bench_train_step.py [--out-dir DIR] [--budget-s 90]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rd_kernel import _version, device_name, device_slug, synchronize  # noqa: E402

from rdmf.io import atomic_write_json  # noqa: E402
from rdmf.paths import repo_root  # noqa: E402

VIDEO_DIM, TEXT_DIM, CLIPS, TOKENS, BATCH, HIDDEN = 2818, 512, 75, 32, 32, 256
VARIANTS = [("rd", "fused"), ("rd", "reference"), ("cross_attention", None), ("concat", None)]


STUBBED: list[str] = []  # modules replaced by empty stand-ins on a bare GPU machine


def load_model_api():
    """(build_model, run_config, Criterion|None) or raise ImportError with the reason.

    The GPU machine may lack PyYAML (used by the config only to save/load files): an empty
    stand-in module is installed then, and recorded. Without SciPy (Hungarian matcher) the
    project's loss does not import and a surrogate loss is used, also recorded per result.
    """
    try:
        import yaml  # noqa: F401
    except ImportError:
        import types
        sys.modules["yaml"] = types.ModuleType("yaml")
        STUBBED.append("yaml")
    from rdmf.model import build_model
    from rdmf.train.config import run_config
    try:
        from rdmf.model.losses import Criterion
    except Exception:  # noqa: BLE001 - fall back to a surrogate loss, reported
        Criterion = None
    return build_model, run_config, Criterion


def make_batch(batch: int, device, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    video = torch.randn(batch, CLIPS, VIDEO_DIM, generator=g)
    text = torch.randn(batch, TOKENS, TEXT_DIM, generator=g)
    v_len = torch.randint(CLIPS // 2, CLIPS + 1, (batch,), generator=g)
    v_len[0] = CLIPS
    t_len = torch.randint(4, TOKENS + 1, (batch,), generator=g)
    v_mask = torch.arange(CLIPS)[None] < v_len[:, None]
    t_mask = torch.arange(TOKENS)[None] < t_len[:, None]
    spans = []
    for i in range(batch):
        n = int(torch.randint(1, 3, (1,), generator=g))
        centre = 0.2 + 0.6 * torch.rand(n, generator=g)
        width = 0.05 + 0.2 * torch.rand(n, generator=g)
        spans.append(torch.stack([centre, width], dim=1).to(device))
    saliency = torch.rand(batch, CLIPS, generator=g) * 4 * v_mask
    return {"video": video.to(device), "video_mask": v_mask.to(device), "text": text.to(device),
            "text_mask": t_mask.to(device), "spans": spans, "saliency": saliency.to(device)}


@contextlib.contextmanager
def integrator(kind: str | None):
    """Route the model's ``rdmf.numerics.integrate`` to the fused dispatcher or the reference."""
    import rdmf.numerics as numerics
    from rdmf.kernels import dispatch
    saved = numerics.integrate, dispatch.FUSED_ENABLED
    try:
        if kind == "fused":
            numerics.integrate, dispatch.FUSED_ENABLED = dispatch.integrate, True
        elif kind == "reference":
            dispatch.FUSED_ENABLED = False
        yield dispatch
    finally:
        numerics.integrate, dispatch.FUSED_ENABLED = saved


def train_step_fn(model, criterion, batch, amp: bool, device):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
    loss_kind = "project Criterion" if criterion is not None else "surrogate (mean squares)"

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            out = model(batch["video"], batch["video_mask"], batch["text"], batch["text_mask"])
            if criterion is not None:
                loss, _ = criterion(out, batch["spans"], batch["saliency"], batch["video_mask"])
            else:
                loss = sum(v.float().pow(2).mean() for v in out.values()
                           if isinstance(v, torch.Tensor))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
        return loss.detach()
    return step, loss_kind


def measure(fusion: str, kind: str | None, amp: bool, batch: dict, device, api, *,
            warmup: int, timed: int) -> dict:
    build_model, run_config, Criterion = api
    config = run_config(fusion=fusion, video_dim=VIDEO_DIM, text_dim=TEXT_DIM, hidden=HIDDEN,
                         batch_size=batch["video"].shape[0], progress=False, amp=amp)
    torch.manual_seed(0)
    model = build_model(config.model).to(device).train()
    criterion = None
    if Criterion is not None:
        try:
            criterion = Criterion(config.loss)
        except Exception:  # noqa: BLE001
            criterion = None
    step, loss_kind = train_step_fn(model, criterion, batch, amp, device)
    with integrator(kind) as dispatch:
        calls_before = dispatch.FUSED_CALLS
        for _ in range(warmup):
            loss = step()
        synchronize(device)
        t0 = time.perf_counter()
        for _ in range(timed):
            loss = step()
        synchronize(device)
        seconds = (time.perf_counter() - t0) / timed
        fused_calls = dispatch.FUSED_CALLS - calls_before
    return {"fusion": fusion, "integrator": kind, "amp": amp, "ms_per_step": seconds * 1e3,
            "loss": float(loss), "loss_kind": loss_kind, "fused_kernel_calls": fused_calls,
            "batch": batch["video"].shape[0], "clips": CLIPS, "video_dim": VIDEO_DIM,
            "hidden": HIDDEN, "rd_channels": getattr(config, "rd_channels", None),
            "rd_steps": config.model.rd.steps}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--budget-s", type=float, default=120.0)
    parser.add_argument("--smoke", action="store_true",
                        help="batch 2, one timed step (default on CPU)")
    args = parser.parse_args(argv)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    gpu = device.type == "cuda"
    smoke = args.smoke or not gpu
    if not gpu:
        torch.set_num_threads(1)
    out_dir = Path(args.out_dir) if args.out_dir else repo_root() / "reports" / "benchmarks"
    out_path = out_dir / f"train_step_{device_slug(device)}.json"
    report = {"device": device_name(device), "torch": torch.__version__,
              "triton": _version("triton"), "smoke": smoke,
              "note": ("CPU smoke run (batch 2, 1 timed step): checks the code path, NOT a "
                       "QVHighlights-scale timing" if smoke else
                       "QVHighlights scale: batch 32, 75 clips, 2818-d video, hidden 256"),
              "results": []}
    try:
        api = load_model_api()
    except Exception as exc:  # noqa: BLE001 - the model may not be merged yet
        report["skipped"] = f"model API not importable: {type(exc).__name__}: {exc}"
        report["stubbed_modules"] = STUBBED
        atomic_write_json(out_path, report)
        print(report["skipped"])
        return 0
    report["stubbed_modules"] = STUBBED
    batch = make_batch(2 if smoke else BATCH, device)
    started = time.perf_counter()
    for amp in (False, True):
        for fusion, kind in VARIANTS:
            if kind == "fused" and not gpu:
                continue
            if amp and not gpu:
                continue  # bfloat16 autocast is a CUDA measurement
            entry = {"fusion": fusion, "integrator": kind, "amp": amp}
            if time.perf_counter() - started > args.budget_s:
                entry["skipped"] = "time budget exhausted"
            else:
                try:
                    entry = measure(fusion, kind, amp, batch, device, api,
                                    warmup=1 if smoke else 3, timed=1 if smoke else 10)
                except Exception as exc:  # noqa: BLE001
                    entry["error"] = f"{type(exc).__name__}: {str(exc)[:500]}"
            report["results"].append(entry)
            report["ratios"] = ratios(report["results"])
            atomic_write_json(out_path, report)
            print(entry, flush=True)
    print(f"wrote {out_path}")
    return 0


def ratios(results: list[dict]) -> dict:
    """rd step time over cross_attention's (target ≤ 1.10), per integrator and AMP setting."""
    ms = {(r["fusion"], r["integrator"], r["amp"]): r["ms_per_step"]
          for r in results if "ms_per_step" in r}
    out = {}
    for amp in (False, True):
        base = ms.get(("cross_attention", None, amp))
        for kind in ("fused", "reference"):
            rd = ms.get(("rd", kind, amp))
            if base and rd:
                out[f"rd_{kind}_over_cross_attention_amp={amp} (target <= 1.10)"] = rd / base
    return out


if __name__ == "__main__":
    sys.exit(main())
