"""Accuracy of the fused kernel against the float64 PyTorch reference, case by case.

Used by the GPU tests and, without pytest, by ``benchmarks/gpu_check.sh``::

    python -m rdmf.kernels.verify --device cuda --out reports/benchmarks/kernel_accuracy.json

Each case draws a random state near the Gray-Scott working range with mixed parameter shapes
(F per channel, k per sample and channel, Du a 0-d tensor, Dv per channel, dt (1, C)) and a ragged
mask, runs the fused kernel in the case's dtype and the reference in float64 from the same
(rounded) inputs, and reports the largest forward error and, per input, the largest gradient
error relative to the largest reference gradient entry.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from rdmf.numerics import gray_scott as reference

NAMES = ("u0", "v0", "F", "k", "Du", "Dv", "dt")
#: dtype -> (forward abs tolerance, gradient tolerance relative to the largest entry)
TOLERANCES = {torch.float64: (1e-9, 1e-9), torch.float32: (5e-5, 2e-3),
              torch.bfloat16: (2e-2, 5e-2)}
#: (B, C, L, K, dtype, use_gather) — the GPU grid (L = 1, 2, 75, 1000, 4096, ragged masks)
GPU_GRID = (
    [(1, 1, 1, 4), (3, 2, 2, 5), (4, 8, 75, 16), (2, 4, 1000, 16), (2, 2, 4096, 16),
     (2, 4, 75, 64), (1, 2, 4096, 1)],
    {torch.float32: "all", torch.bfloat16: (75, 1000, 4096), torch.float64: (2, 75, 4096)},
)


def gpu_cases() -> list[tuple]:
    shapes, dtypes = GPU_GRID
    cases = []
    for dtype, which in dtypes.items():
        for B, C, L, K in shapes:
            if which == "all" or L in which:
                cases.append((B, C, L, K, dtype, None))
    cases += [(4, 8, 75, 16, torch.float32, True)]  # the optional tl.gather exchange
    return cases


def make_case(B: int, C: int, L: int, dtype: torch.dtype, device, seed: int = 0):
    """Inputs [u0, v0, F, k, Du, Dv, dt] in the case's dtype (params float32/64) and a (B, L)
    prefix mask: the first video full length, the others shorter (at least one clip)."""
    g = torch.Generator().manual_seed(seed)

    def rand(*shape, lo=0.0, hi=1.0):
        return lo + (hi - lo) * torch.rand(*shape, generator=g, dtype=torch.float64)

    u0, v0 = rand(B, C, L, lo=0.3), rand(B, C, L, hi=0.6)
    F, k = rand(C, lo=0.01, hi=0.06), rand(B, C, lo=0.03, hi=0.07)
    Du, Dv = torch.tensor(0.2, dtype=torch.float64), rand(C, lo=0.02, hi=0.1)
    dt = rand(1, C, lo=0.5, hi=2.0)
    lengths = [L] + [max(1, (L * (b + 1)) // (B + 1)) for b in range(B - 1)]
    mask = reference.lattice_mask(lengths, L).to(device)
    pdtype = torch.float64 if dtype == torch.float64 else torch.float32
    inputs = [x.to(dtype).to(device) for x in (u0, v0)]
    inputs += [x.to(pdtype).to(device) for x in (F, k, Du, Dv, dt)]
    return inputs, mask


def _run(fn, inputs, steps, mask, weights):
    leaves = [x.detach().clone().requires_grad_() for x in inputs]
    uK, vK = fn(*leaves, steps, mask)
    loss = (uK.double() * weights[0]).sum() + (vK.double() * weights[1]).sum()
    return (uK.detach(), vK.detach()), torch.autograd.grad(loss, leaves)


def compare(B: int, C: int, L: int, K: int, dtype: torch.dtype, device,
            use_gather: bool | None = None, seed: int = 0) -> dict:
    """Errors of the fused kernel vs the float64 reference for one case (see module doc)."""
    from . import dispatch
    inputs, mask = make_case(B, C, L, dtype, device, seed)
    g = torch.Generator().manual_seed(seed + 1)
    weights = [torch.randn(B, C, L, generator=g, dtype=torch.float64).to(device)
               for _ in range(2)]
    old = dispatch.USE_GATHER
    dispatch.USE_GATHER = use_gather
    try:
        out_f, g_f = _run(dispatch.integrate_fused, inputs, K, mask, weights)
    finally:
        dispatch.USE_GATHER = old
    out_r, g_r = _run(reference.integrate, [x.double() for x in inputs], K, mask, weights)
    atol, grel = TOLERANCES[dtype]
    forward_err = max((a.double() - b).abs().max().item() for a, b in zip(out_f, out_r))
    grad_err = {}
    for name, a, b in zip(NAMES, g_f, g_r):
        scale = max(b.abs().max().item(), 1e-6)
        grad_err[name] = (a.double() - b).abs().max().item() / scale
    dtypes_ok = all(a.dtype == dtype for a in out_f)
    ok = dtypes_ok and forward_err <= atol and all(e <= grel for e in grad_err.values())
    return {"B": B, "C": C, "L": L, "K": K, "dtype": str(dtype).replace("torch.", ""),
            "neighbours": "gather" if use_gather else "scratch",
            "forward_max_abs_err": forward_err, "forward_tol": atol,
            "grad_max_rel_err": grad_err, "grad_tol": grel, "output_dtype_ok": dtypes_ok,
            "passed": bool(ok)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fused Gray-Scott kernel vs the reference")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    from rdmf.io import atomic_write_json
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        atomic_write_json(args.out, {"device": None, "skipped": "no CUDA device", "cases": []})
        print("no CUDA device: skipped")
        return 0
    report = {"device": (torch.cuda.get_device_name(device) if device.type == "cuda"
                         else "cpu"), "cases": []}
    for case in gpu_cases():
        t0 = time.perf_counter()
        try:
            row = compare(*case[:5], device, use_gather=case[5])
        except Exception as exc:  # noqa: BLE001 - every case is reported
            row = {"case": [str(c) for c in case], "passed": False,
                   "error": f"{type(exc).__name__}: {str(exc)[:500]}"}
        row["seconds"] = time.perf_counter() - t0
        report["cases"].append(row)
        report["all_passed"] = all(r["passed"] for r in report["cases"])
        atomic_write_json(args.out, report)
        print(json.dumps(row), flush=True)
    return 0 if report["all_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())


def compile_for_gpu(state: str = "fp32", block_l: int = 128, block_r: int = 8,
                    num_warps: int = 8, use_gather: bool = False, arch: int = 90) -> dict:
    """Compile both kernels ahead of time for an NVIDIA GPU of compute capability ``arch``
    without a GPU (Triton's compiler and bundled ptxas only); returns {kernel name: PTX lines}.

    The interpreter does not type-check like the GPU compiler does, so this catches kernels that
    run on the CPU but would not compile on the GPU. Needs Triton without ``TRITON_INTERPRET``.
    """
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from . import triton_gray_scott as tgs
    acc = "fp64" if state == "fp64" else "fp32"
    state_ptrs = {"u0_ptr", "v0_ptr", "uo_ptr", "vo_ptr", "gu_ptr", "gv_ptr", "gu0_ptr",
                  "gv0_ptr"}
    out = {}
    for kernel in (tgs.gray_scott_forward_kernel, tgs.gray_scott_backward_kernel):
        consts = {"BLOCK_R": block_r, "BLOCK_L": block_l, "USE_GATHER": use_gather,
                  "IS_FP64": acc == "fp64"}
        if "SAVE" in kernel.arg_names:
            consts["SAVE"] = True
        signature = {}
        for name in kernel.arg_names:
            if name in consts:
                signature[name] = "constexpr"
            elif name == "len_ptr":
                signature[name] = "*i32"
            elif name.endswith("_ptr"):
                signature[name] = "*" + (state if name in state_ptrs else acc)
            else:
                signature[name] = "fp32" if name == "inv_dx2" else "i32"  # incl. n_tiles
        compiled = triton.compile(ASTSource(fn=kernel, signature=signature, constexprs=consts),
                                  target=GPUTarget("cuda", arch, 32),
                                  options={"num_warps": num_warps})
        out[kernel.__name__] = compiled.asm["ptx"].count("\n")
    return out
