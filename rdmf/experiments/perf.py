"""CPU performance of the three fusions (notebook 08): training and inference throughput, the
cost of the RD integration as K grows, and memory; plus the recorded GPU benchmark results
of the CUDA path (docs/cuda.md) when they exist (``reports/benchmarks/*.json``).

Timings are wall-clock medians over repeats on random inputs of a fixed shape, one torch thread
unless told otherwise; they depend on the machine and its load, so the notebook prints them
only to the report files, never into stored outputs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rdmf.paths import repo_root
from rdmf.profiles import profile_settings

def perf_settings(profile: str) -> dict:
    """Problem sizes and repeats of ``profile`` (:data:`rdmf.profiles.PROFILES`)."""
    return profile_settings(profile, "perf")


def _inputs(batch: int, clips: int, video_dim: int, text_dim: int, tokens: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    video = torch.randn(batch, clips, video_dim, generator=g)
    text = torch.randn(batch, tokens, text_dim, generator=g)
    vmask = torch.ones(batch, clips, dtype=torch.bool)
    tmask = torch.ones(batch, tokens, dtype=torch.bool)
    return video, vmask, text, tmask


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def fusion_throughput(fusion: str, *, batch: int = 8, clips: int = 75, hidden: int = 128,
                      video_dim: int = 514, text_dim: int = 384, tokens: int = 16,
                      repeats: int = 3, **overrides: Any) -> dict:
    """Training step (forward + loss + backward + AdamW) and inference (no-grad forward) time of
    one batch for one fusion; returns seconds and samples / s, parameter count."""
    from rdmf.model import build_model
    from rdmf.model.losses import Criterion
    from rdmf.train.config import preset
    heads = 8 if hidden % 8 == 0 else 4
    # the reference model of docs/design.md §5 (the qvhighlights preset changes no model field)
    cfg = preset("qvhighlights", fusion=fusion, hidden=hidden, heads=heads, ffn_dim=4 * hidden,
                 video_dim=video_dim, text_dim=text_dim, progress=False, **overrides)
    torch.manual_seed(0)
    model = build_model(cfg.model)
    crit = Criterion(cfg.loss)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    video, vmask, text, tmask = _inputs(batch, clips, video_dim, text_dim, tokens)
    spans = [torch.tensor([[0.5, 0.2]]) for _ in range(batch)]
    saliency = torch.rand(batch, clips)

    def step():
        model.train()
        out = model(video, vmask, text, tmask)
        loss, _ = crit(out, spans, saliency, vmask, list(range(batch)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    @torch.no_grad()
    def infer():
        model.eval()
        model(video, vmask, text, tmask)

    t_train = _median_time(step, repeats)
    t_infer = _median_time(infer, repeats)
    return {"fusion": fusion, "batch": batch, "clips": clips, "hidden": hidden,
            "params": int(sum(p.numel() for p in model.parameters())),
            "train_step_s": t_train, "train_samples_per_s": batch / t_train,
            "infer_s": t_infer, "infer_samples_per_s": batch / t_infer}


def rd_step_cost(K_values, *, batch: int = 32, channels: int = 16, clips: int = 75,
                 scheme: str = "dct", repeats: int = 3) -> list[dict]:
    """Forward and forward+backward time of the RD integration alone vs the number of steps K."""
    from rdmf import numerics
    g = torch.Generator().manual_seed(0)
    out = []
    for K in K_values:
        u0 = torch.rand(batch, channels, clips, generator=g)
        v0 = torch.rand(batch, channels, clips, generator=g)
        F = torch.full((channels,), 0.04, requires_grad=True)
        k = torch.full((channels,), 0.06, requires_grad=True)
        Du = torch.full((channels,), 0.2, requires_grad=True)
        Dv = torch.full((channels,), 0.1, requires_grad=True)
        dt = torch.tensor(1.0, requires_grad=True)
        mask = torch.ones(batch, clips, dtype=torch.bool)

        def fwd():
            with torch.no_grad():
                numerics.integrate(u0, v0, F, k, Du, Dv, dt, int(K), mask, scheme=scheme)

        def fwd_bwd():
            u, v = numerics.integrate(u0, v0, F, k, Du, Dv, dt, int(K), mask, scheme=scheme)
            (u.sum() + v.sum()).backward()

        out.append({"K": int(K), "scheme": scheme, "forward_s": _median_time(fwd, repeats),
                    "forward_backward_s": _median_time(fwd_bwd, repeats)})
    return out


def activation_memory_mb(fusion: str, *, batch: int = 8, clips: int = 75, hidden: int = 128,
                         video_dim: int = 514, text_dim: int = 384, tokens: int = 16) -> float:
    """Bytes of tensors saved for backward in one forward pass (exact, via saved-tensor hooks;
    storage shared between saved tensors is counted once)."""
    from rdmf.model import build_model
    from rdmf.train.config import preset
    heads = 8 if hidden % 8 == 0 else 4
    cfg = preset("qvhighlights", fusion=fusion, hidden=hidden, heads=heads, ffn_dim=4 * hidden,
                 video_dim=video_dim, text_dim=text_dim, progress=False)
    torch.manual_seed(0)
    model = build_model(cfg.model).train()
    video, vmask, text, tmask = _inputs(batch, clips, video_dim, text_dim, tokens)
    seen: dict[int, int] = {}

    def pack(t):
        try:
            ptr = t.untyped_storage().data_ptr()
            seen[ptr] = max(seen.get(ptr, 0), t.untyped_storage().nbytes())
        except (RuntimeError, NotImplementedError):
            pass
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(video, vmask, text, tmask)
    return sum(seen.values()) / 2**20


def is_gpu_record(data: Any) -> bool:
    """A benchmark record measured on a GPU: ``device`` starting with ``cuda`` or a ``gpu`` field."""
    if not isinstance(data, dict):
        return False
    return str(data.get("device", "")).startswith("cuda") or bool(data.get("gpu"))


def gpu_benchmarks(folder: Path | None = None) -> list[dict]:
    """Recorded GPU benchmark results of the CUDA path (``reports/benchmarks/*.json`` whose
    record says it ran on a GPU), or []. CPU records in the same folder are left out."""
    folder = folder or repo_root() / "reports" / "benchmarks"
    out = []
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            try:
                data = json.loads(path.read_text())
            except json.JSONDecodeError:
                continue
            if is_gpu_record(data):
                out.append({"file": path.name, "data": data})
    return out


def machine() -> dict:
    import os
    import platform
    return {"python": platform.python_version(), "torch": torch.__version__,
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "processor": platform.processor() or platform.machine()}
