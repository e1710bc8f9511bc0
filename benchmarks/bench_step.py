"""Training-step time of the three fusions on the same batch (CPU by default).

    PYTHONPATH=. python benchmarks/bench_step.py [--repeats 7] [--device cpu]

One step = forward + losses + backward + gradient clipping + AdamW update, reference model
(hidden 256, 8 heads, 2 + 2 layers, 10 queries, aux losses), RD layer with K = 8 steps. The
fusions are timed round-robin (rd, cross_attention, concat, rd, ...) so that load from other
processes on a shared machine hits all three alike; the median is reported. Writes
``reports/benchmarks/step_time.json``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

from rdmf.data.sample import Sample, collate
from rdmf.io import atomic_write_json
from rdmf.model import build_model
from rdmf.model.losses import Criterion
from rdmf.paths import repo_root
from rdmf.train.config import run_config

FUSIONS = ("rd", "cross_attention", "concat")


def make_batch(batch: int, clips: int, video_dim: int, text_dim: int, tokens: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(batch):
        start = int(rng.integers(0, clips - 10))
        sal = np.zeros((clips, 3), np.float32)
        sal[start:start + 10] = rng.integers(1, 5, size=(10, 3))
        samples.append(Sample(
            qid=i, vid=f"v{i}", query="q", video_feats=rng.normal(size=(clips, video_dim)).astype(np.float32),
            text_feats=rng.normal(size=(tokens, text_dim)).astype(np.float32),
            duration_s=2.0 * clips,
            clip_times_s=np.stack([np.arange(clips), np.arange(clips) + 1], 1).astype(np.float32) * 2,
            windows_s=np.array([[2.0 * start, 2.0 * (start + 10)]], np.float32), saliency=sal))
    return collate(samples)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--clips", type=int, default=75)
    parser.add_argument("--video-dim", type=int, default=2818)
    parser.add_argument("--text-dim", type=int, default=512)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--rd-steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(repo_root() / "reports" / "benchmarks" / "step_time.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    batch = make_batch(args.batch, args.clips, args.video_dim, args.text_dim, args.tokens).to(device)
    setups = {}
    for fusion in FUSIONS:
        torch.manual_seed(0)
        config = run_config(fusion=fusion, video_dim=args.video_dim, text_dim=args.text_dim,
                             rd_steps=args.rd_steps, device=args.device)
        model = build_model(config.model).to(device).train()
        setups[fusion] = (model, torch.optim.AdamW(model.parameters(), lr=1e-4), Criterion(config.loss),
                          sum(p.numel() for p in model.parameters()))

    def step(fusion: str) -> float:
        model, optimizer, criterion, _ = setups[fusion]
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = model(batch.video, batch.video_mask, batch.text, batch.text_mask)
        loss, _ = criterion(out, batch.spans, batch.saliency, batch.video_mask,
                            seeds=list(range(len(batch))))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    times = {f: [] for f in FUSIONS}
    for round_no in range(args.warmup + args.repeats):
        for fusion in FUSIONS:
            elapsed = step(fusion)
            if round_no >= args.warmup:
                times[fusion].append(elapsed)
    median = {f: statistics.median(t) for f, t in times.items()}
    result = {
        "what": "training step (forward + losses + backward + clip + AdamW) on one batch",
        "batch": args.batch, "clips": args.clips, "video_dim": args.video_dim,
        "text_dim": args.text_dim, "tokens": args.tokens, "rd_steps": args.rd_steps,
        "device": str(device), "threads": args.threads, "repeats": args.repeats,
        "torch": torch.__version__, "machine": platform.processor() or platform.machine(),
        "parameters": {f: setups[f][3] for f in FUSIONS},
        "median_step_s": {f: round(v, 4) for f, v in median.items()},
        "all_step_s": {f: [round(x, 4) for x in t] for f, t in times.items()},
        "ratio_rd_over_cross_attention": round(median["rd"] / median["cross_attention"], 3),
        "ratio_rd_over_concat": round(median["rd"] / median["concat"], 3),
        "target": "rd adds at most 50 % to cross_attention (ratio ≤ 1.5)",
    }
    atomic_write_json(args.out, result)
    print({k: result[k] for k in ("median_step_s", "ratio_rd_over_cross_attention",
                                  "ratio_rd_over_concat")})
    return result


if __name__ == "__main__":
    main()
