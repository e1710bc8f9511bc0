"""The CPU benchmark that notebooks 04 and 08 read: it runs and records what they plot (no timed
assertion: only that every timing is there, positive, and named with its machine and settings)."""

from __future__ import annotations

import importlib.util
import json

from rdmf.paths import repo_root


def _bench():
    spec = importlib.util.spec_from_file_location("bench_cpu", repo_root() / "benchmarks" / "bench_cpu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_cpu_records_what_the_notebooks_plot():
    bench = _bench()
    result = bench.measure("ci", progress=False)
    assert [r["fusion"] for r in result["throughput"]] == list(bench.FUSIONS)
    assert all(r["train_step_s"] > 0 and r["infer_s"] > 0 for r in result["throughput"])
    assert [r["K"] for r in result["rd_step_cost"]] == list(result["settings"]["K"])
    assert set(result["scheme_cost"]["seconds_per_step"]) == {"semi_implicit", "explicit", "dct"}
    assert result["machine"]["torch_threads"] == 1


def test_the_committed_record_is_complete():
    data = json.loads((repo_root() / "reports" / "benchmarks" / "cpu_performance.json").read_text())
    assert {"machine", "settings", "throughput", "rd_step_cost", "scheme_cost"} <= set(data)
