"""CPU timings that notebooks 04 and 08 plot: fusion throughput, RD integration cost vs K, and the
cost per step of each lattice scheme.

    PYTHONPATH=. python benchmarks/bench_cpu.py [--settings default] [--out reports/benchmarks/cpu_performance.json]

Timings belong to a machine and its load, not to the science, so the notebooks do not time
anything themselves (re-running them changes no byte): they read this file, which names the
machine and the settings it was measured with. One torch thread; medians (throughput, K sweep) or
best-of (schemes) over repeats, as ``rdmf.experiments.perf`` and
``rdmf.numerics.validation.scheme_costs`` define them.
"""

from __future__ import annotations

import argparse
import time

import torch

from rdmf.experiments.perf import fusion_throughput, machine, perf_settings, rd_step_cost
from rdmf.model.fusion import FUSIONS
from rdmf.numerics.validation import scheme_costs
from rdmf.paths import repo_root
from rdmf.profiles import PROFILES
from rdmf.reports import write_report_json

SCHEME_SHAPE = {"B": 32, "C": 16, "L": 75, "steps": 8}
"""(B, C, L) and steps of the per-scheme cost: a ragged batch shaped like a QVHighlights batch."""
OUT = repo_root() / "reports" / "benchmarks" / "cpu_performance.json"


def measure(settings: str, *, progress: bool = True) -> dict:
    """Every timing of the file, under the named settings of ``rdmf.profiles.PROFILES`` (part ``perf``)."""
    from tqdm.auto import tqdm

    torch.set_num_threads(1)
    s = perf_settings(settings)
    started = time.time()
    with tqdm(total=len(FUSIONS) + 2, desc="bench_cpu", disable=not progress) as bar:
        throughput = []
        for fusion in FUSIONS:
            throughput.append(fusion_throughput(fusion, batch=s["batch"], clips=s["clips"],
                                                hidden=s["hidden"], repeats=s["repeats"]))
            bar.update()
        rd_cost = rd_step_cost(s["K"], batch=s["rd_batch"], channels=s["rd_channels"],
                               clips=s["clips"], repeats=s["repeats"])
        bar.update()
        schemes = scheme_costs(SCHEME_SHAPE["B"], SCHEME_SHAPE["C"], SCHEME_SHAPE["L"],
                               SCHEME_SHAPE["steps"], repeats=max(3, s["repeats"]))
        bar.update()
    return {"machine": machine(), "settings_name": settings, "settings": s,
            "date": time.strftime("%Y-%m-%d", time.gmtime(started)),
            "wall_s": round(time.time() - started, 1),
            "throughput": throughput, "rd_step_cost": rd_cost,
            "scheme_cost": {"shape": SCHEME_SHAPE, "seconds_per_step": schemes}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="default", choices=sorted(PROFILES),
                        help="problem sizes and repeats (rdmf.profiles.PROFILES, part perf)")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    result = measure(args.settings)
    path = write_report_json(args.out, result)
    print(f"wrote {path} in {result['wall_s']} s")


if __name__ == "__main__":
    main()
