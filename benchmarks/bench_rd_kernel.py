"""Throughput of the Gray-Scott integration: eager PyTorch, torch.compile and the fused kernel.

For every (size B × C × L, steps K, pass) it measures the time per call and reports

- cell-updates/s = B·C·L·K / time (forward+backward counts the same cells, once);
- achieved GB/s over the MINIMAL bytes: forward reads u0, v0 and writes u_K, v_K once
  (4 states) plus the per-channel parameters; forward+backward adds reading u0, v0, ḡu_K, ḡv_K
  and writing ḡu0, ḡv0 (10 states in all) plus parameters and their gradients;
- the fraction of the memory-bandwidth roofline, the roofline being a device-to-device copy
  (read + write) measured in the same run.

Layout (B, C, L) float32 (the fused kernel also in bfloat16), mask None (all clips real), kinetics
per channel (C,) requiring gradients in the backward pass. On CPU only eager and torch.compile
run, over a smaller subset of sizes (the fused kernel is CUDA-only). Results go to
``reports/benchmarks/rd_kernel_<device>.json`` (or ``--out-dir``), rewritten after every case so
that a run cut short still leaves its measurements.

    PYTHONPATH=$PWD python benchmarks/bench_rd_kernel.py            # CPU subset or full GPU grid
    PYTHONPATH=$PWD python benchmarks/bench_rd_kernel.py --budget-s 150 --out-dir /tmp/out
"""

from __future__ import annotations

import argparse
import math
import platform
import re
import sys
import time
from pathlib import Path

import torch

from rdmf.io import atomic_write_json
from rdmf.numerics import gray_scott as reference
from rdmf.paths import repo_root

GPU_SIZES = [(64, 256, 4096), (32, 256, 75), (32, 256, 1000)]  # the targets' size first
CPU_SIZES = [(4, 16, 75), (2, 16, 1000)]
STEPS = [16, 1, 4, 64]          # K = 16 first: the targets are stated there
PASSES = ("forward", "forward+backward")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine() or "cpu"


def device_slug(device: torch.device) -> str:
    """'cpu' or e.g. 'nvidia_h100_80gb_hbm3' (file-name safe)."""
    if device.type != "cuda":
        return "cpu"
    return re.sub(r"[^a-z0-9]+", "_", device_name(device).lower()).strip("_")


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn, device: torch.device, *, min_total_s: float, warmup: int = 2,
              max_calls: int = 200) -> float:
    """Seconds per call: warm up, then the mean of a batch of calls lasting ≥ min_total_s,
    best of 3 batches (GPU) or 1 (CPU, where runs are long)."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    t0 = time.perf_counter()
    fn()
    synchronize(device)
    one = max(time.perf_counter() - t0, 1e-6)
    calls = int(min(max_calls, max(1, math.ceil(min_total_s / one))))
    best = math.inf
    for _ in range(3 if device.type == "cuda" else 1):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        synchronize(device)
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def copy_bandwidth(device: torch.device, nbytes: int) -> float:
    """Device-to-device copy bandwidth in GB/s, counting read + write."""
    x = torch.empty(nbytes // 4, dtype=torch.float32, device=device).fill_(1.0)
    y = torch.empty_like(x)
    t = time_call(lambda: y.copy_(x), device, min_total_s=0.2 if device.type == "cuda" else 0.3)
    return 2 * nbytes / t / 1e9


def make_inputs(B, C, L, dtype, device, requires_grad: bool, seed: int = 0):
    g = torch.Generator(device="cpu").manual_seed(seed)
    u0 = (0.5 + 0.5 * torch.rand(B, C, L, generator=g)).to(device=device, dtype=dtype)
    v0 = (0.5 * torch.rand(B, C, L, generator=g)).to(device=device, dtype=dtype)
    pd = torch.float32
    params = [torch.full((C,), val, dtype=pd, device=device) for val in (0.03, 0.06, 0.2, 0.1, 1.0)]
    if requires_grad:
        for t in (u0, v0, *params):
            t.requires_grad_(True)
    return (u0, v0, *params)


def minimal_bytes(B, C, L, dtype, pass_name: str) -> int:
    state = B * C * L * torch.tensor([], dtype=dtype).element_size()
    params = 5 * C * 4
    return 4 * state + params if pass_name == "forward" else 10 * state + 2 * params


def make_method(name: str, steps: int, compiled: dict):
    """fn(u0, v0, F, k, Du, Dv, dt) -> (u_K, v_K) for one method."""
    if name == "eager":
        return lambda *a: reference.integrate(*a, steps, None, check=False)
    if name == "compile":
        if steps not in compiled:
            def run(u0, v0, F, k, Du, Dv, dt):
                return reference.integrate(u0, v0, F, k, Du, Dv, dt, steps, None, check=False)
            compiled[steps] = torch.compile(run, dynamic=False)
        return compiled[steps]
    from rdmf.kernels import dispatch
    use_gather = name == "fused_gather"

    def fused(*a):
        old = dispatch.USE_GATHER
        dispatch.USE_GATHER = use_gather
        try:
            return dispatch.integrate_fused(*a, steps, None, check=False)
        finally:
            dispatch.USE_GATHER = old
    return fused


def run_case(method: str, size, steps: int, pass_name: str, dtype, device, compiled: dict,
             min_total_s: float) -> dict:
    B, C, L = size
    fn = make_method(method, steps, compiled)
    grad = pass_name != "forward"
    inputs = make_inputs(B, C, L, dtype, device, requires_grad=grad)
    if grad:
        gen = torch.Generator(device="cpu").manual_seed(1)
        g_out = [torch.randn(B, C, L, generator=gen).to(device=device, dtype=dtype)
                 for _ in range(2)]

        def call():
            out = fn(*inputs)
            return torch.autograd.grad(out, inputs, g_out)
    else:
        def call():
            with torch.no_grad():
                return fn(*inputs)
    t_compile = time.perf_counter()
    call()  # first call: compilation / autotuning, not timed
    synchronize(device)
    first_s = time.perf_counter() - t_compile
    seconds = time_call(call, device, min_total_s=min_total_s)
    cells = B * C * L * steps
    nbytes = minimal_bytes(B, C, L, dtype, pass_name)
    return {"method": method, "B": B, "C": C, "L": L, "K": steps, "pass": pass_name,
            "dtype": str(dtype).replace("torch.", ""), "ms": seconds * 1e3,
            "first_call_s": first_s, "cell_updates_per_s": cells / seconds,
            "minimal_bytes": nbytes, "achieved_GBps": nbytes / seconds / 1e9}


def summarise(results: list[dict], copy_GBps: float) -> dict:
    """Roofline fractions, speed-ups of the fused kernel and the performance targets of
    docs/cuda.md."""
    for r in results:
        if "ms" in r:
            r["roofline_fraction"] = r["achieved_GBps"] / copy_GBps
    index = {(r["method"], r["B"], r["C"], r["L"], r["K"], r["pass"], r["dtype"]): r
             for r in results if "ms" in r}
    speedups = []
    for (method, B, C, L, K, p, dt), r in index.items():
        if method != "fused":
            continue
        row = {"B": B, "C": C, "L": L, "K": K, "pass": p, "dtype": dt}
        for other in ("eager", "compile"):
            o = index.get((other, B, C, L, K, p, dt))
            if o:
                row[f"vs_{other}"] = o["ms"] / r["ms"]
        speedups.append(row)
    targets = {}
    big = GPU_SIZES[0]
    fwd = index.get(("fused", *big, 16, "forward", "float32"))
    fb = index.get(("fused", *big, 16, "forward+backward", "float32"))
    if fwd:
        targets["fused_forward_roofline_K16_long (target >= 0.70)"] = fwd["roofline_fraction"]
    for other, goal in (("eager", 10.0), ("compile", 2.0)):
        o = index.get((other, *big, 16, "forward+backward", "float32"))
        if fb and o:
            targets[f"fused_fwd+bwd_speedup_vs_{other}_K16_long (target >= {goal:g})"] = (
                o["ms"] / fb["ms"])
    return {"speedups": speedups, "targets": targets}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    parser.add_argument("--out-dir", default=None,
                        help="folder of the JSON (default reports/benchmarks)")
    parser.add_argument("--budget-s", type=float, default=None,
                        help="stop starting new cases after this many seconds "
                             "(default 240 on GPU, 150 on CPU)")
    parser.add_argument("--steps", type=int, nargs="*", default=None, help="K values")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    parser.add_argument("--compile-steps", type=int, nargs="*", default=None,
                        help="K values for torch.compile (default all on GPU; 1 and 16 on CPU, "
                             "where one compilation takes 1-3 minutes)")
    parser.add_argument("--min-time-s", type=float, default=None,
                        help="timed seconds per case (default 0.05 GPU, 0.3 CPU)")
    args = parser.parse_args(argv)

    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    gpu = device.type == "cuda"
    if not gpu:
        torch.set_num_threads(1)  # shared CPU: one thread, stated in the JSON
    budget = args.budget_s if args.budget_s is not None else (240.0 if gpu else 150.0)
    min_total = args.min_time_s if args.min_time_s is not None else (0.05 if gpu else 0.3)
    out_dir = Path(args.out_dir) if args.out_dir else repo_root() / "reports" / "benchmarks"
    out_path = out_dir / f"rd_kernel_{device_slug(device)}.json"

    methods = ["fused", "compile", "eager"] if gpu else ["compile", "eager"]
    if args.no_compile:
        methods.remove("compile")
    fused_ok, fused_error = False, None
    if gpu:
        try:
            from rdmf.kernels import triton_gray_scott  # noqa: F401
            fused_ok = True
        except Exception as exc:  # noqa: BLE001 - reported in the JSON
            fused_error = f"{type(exc).__name__}: {exc}"
            methods.remove("fused")
    sizes = GPU_SIZES if gpu else CPU_SIZES
    steps_list = args.steps or STEPS
    cases = []
    for K in steps_list:
        for size in sizes:
            for pass_name in PASSES:
                for method in methods:
                    cases.append((method, size, K, pass_name, torch.float32))
                    if method == "fused" and K == 16:
                        cases.append(("fused", size, K, pass_name, torch.bfloat16))
                        if size[2] <= 128:  # tl.gather: ptxas takes minutes for long rows
                            cases.append(("fused_gather", size, K, pass_name, torch.float32))

    # compilation is the slow part: every case but torch.compile's first, then compile's cases
    # at the targets' point (K = 16, first size), then the remaining compile cases
    cases.sort(key=lambda c: 0 if c[0] != "compile" else (1 if (c[2], c[1]) == (
        steps_list[0], sizes[0]) else 2))
    _raise_recompile_limits()
    compile_steps = set(args.compile_steps if args.compile_steps is not None
                        else (steps_list if gpu else [1, 16]))
    started = time.perf_counter()
    copy_bytes = (1 << 30) if gpu else (1 << 27)
    report = {
        "device": device_name(device), "device_type": device.type,
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
        "triton": _version("triton"), "fused_kernel_available": fused_ok,
        "fused_kernel_error": fused_error,
        "note": ("GPU run: full grid" if gpu else
                 "CPU run: SMALL subset of sizes (not the GPU grid), eager and torch.compile "
                 "only, one thread of a shared 2-core machine (other jobs running: timings "
                 "indicative only); the fused kernel is CUDA-only (its CPU interpreter is for "
                 "testing)"),
        "definitions": {
            "cell_updates_per_s": "B*C*L*K / seconds per call",
            "minimal_bytes": "forward: 4 states + 5 per-channel params; forward+backward: "
                             "10 states + params and their gradients",
            "roofline_fraction": "achieved_GBps / copy_GBps (device-to-device copy, same run)",
            "mask": "None (all clips real)",
        },
        "copy_GBps": copy_bandwidth(device, copy_bytes), "copy_bytes": copy_bytes,
        "budget_s": budget, "compile_steps": sorted(compile_steps), "results": [],
    }
    compiled: dict = {}
    for method, size, K, pass_name, dtype in cases:
        entry = {"method": method, "B": size[0], "C": size[1], "L": size[2], "K": K,
                 "pass": pass_name, "dtype": str(dtype).replace("torch.", "")}
        if method == "compile" and K not in compile_steps:
            entry["skipped"] = f"torch.compile not run for K = {K} (--compile-steps)"
        elif time.perf_counter() - started > budget:
            entry["skipped"] = "time budget exhausted"
        else:
            try:
                entry = run_case(method, size, K, pass_name, dtype, device, compiled, min_total)
            except torch.cuda.OutOfMemoryError:
                entry["skipped"] = "out of GPU memory"
            except Exception as exc:  # noqa: BLE001 - one failing case must not end the run
                entry["error"] = f"{type(exc).__name__}: {str(exc)[:500]}"
            if gpu:
                torch.cuda.empty_cache()
        report["results"].append(entry)
        report.update(summarise(report["results"], report["copy_GBps"]))
        report["elapsed_s"] = time.perf_counter() - started
        atomic_write_json(out_path, report)
        shown = (f"{entry['ms']:.3f} ms  {entry['achieved_GBps']:.1f} GB/s" if "ms" in entry
                 else entry.get("skipped") or entry.get("error"))
        print(f"{method:14s} {size} K={K:<3d} {pass_name:17s} {entry['dtype']:9s} {shown}",
              flush=True)
    print(f"wrote {out_path}")
    return 0


def _raise_recompile_limits() -> None:
    """One compiled function per K, recompiled per shape and grad mode: lift dynamo's limits so
    that it never silently falls back to eager."""
    try:
        import torch._dynamo.config as dynamo_config
    except Exception:  # noqa: BLE001
        return
    for name in ("cache_size_limit", "recompile_limit", "accumulated_cache_size_limit",
                 "accumulated_recompile_limit"):
        if hasattr(dynamo_config, name):
            setattr(dynamo_config, name, max(getattr(dynamo_config, name), 256))


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except Exception:  # noqa: BLE001
        return None


if __name__ == "__main__":
    sys.exit(main())
