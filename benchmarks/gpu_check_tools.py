"""Small helpers of ``benchmarks/gpu_check.sh``: environment record, section summary, JUnit -> JSON.

    python benchmarks/gpu_check_tools.py env OUT_DIR
    python benchmarks/gpu_check_tools.py record OUT_DIR NAME RC SECONDS DRY
    python benchmarks/gpu_check_tools.py junit XML_FILE JSON_FILE
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from rdmf.io import atomic_write_json  # noqa: E402


def _run(cmd: list[str]) -> str | None:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:  # noqa: BLE001
        return None


def write_env(out_dir: Path) -> None:
    info = {"time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "python": platform.python_version(), "platform": platform.platform(),
            "cc": shutil.which("cc") or shutil.which("gcc"),
            "git_head": _run(["git", "-C", str(ROOT), "rev-parse", "HEAD"]),
            "nvidia_smi": _run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version,"
                                "clocks.max.memory", "--format=csv,noheader"])}
    for module in ("torch", "triton", "pytest", "numpy", "scipy"):
        try:
            info[module] = __import__(module).__version__
        except Exception as exc:  # noqa: BLE001
            info[module] = f"not importable: {type(exc).__name__}"
    try:
        import torch
        info["cuda_available"] = torch.cuda.is_available()
        if torch.cuda.is_available():
            info["device"] = torch.cuda.get_device_name()
            info["capability"] = list(torch.cuda.get_device_capability())
            info["memory_GiB"] = torch.cuda.get_device_properties(0).total_memory / 2**30
            info["torch_cuda"] = torch.version.cuda
    except Exception as exc:  # noqa: BLE001
        info["torch_error"] = str(exc)
    atomic_write_json(out_dir / "env.json", info)
    print(json.dumps(info, indent=1))


def record(out_dir: Path, name: str, rc: int, seconds: float, dry: bool) -> None:
    path = out_dir / "summary.json"
    summary = json.loads(path.read_text()) if path.exists() else {"sections": []}
    status = {0: "ok", 124: "timeout", 137: "killed (timeout)", 5: "no tests collected"}.get(
        rc, "failed")
    summary["sections"].append({"name": name, "rc": rc, "status": status, "seconds": seconds,
                                "log": f"{name}.log"})
    summary["dry"] = dry
    summary["total_seconds"] = sum(s["seconds"] for s in summary["sections"])
    summary["all_ok"] = all(s["rc"] in (0, 5) for s in summary["sections"])  # 5: nothing to run
    atomic_write_json(path, summary)
    print(f"[gpu_check] {name}: {status} (rc {rc}) in {seconds:.0f} s", flush=True)


def junit_to_json(xml_file: Path, json_file: Path) -> None:
    if not xml_file.exists():
        atomic_write_json(json_file, {"error": f"{xml_file.name} not written"})
        return
    root = ET.parse(xml_file).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    cases = []
    for suite in suites:
        for case in suite.iter("testcase"):
            outcome, message = "passed", None
            for tag in ("failure", "error", "skipped"):
                node = case.find(tag)
                if node is not None:
                    outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                    message = (node.get("message") or "")[:500]
            cases.append({"name": f"{case.get('classname')}::{case.get('name')}",
                          "outcome": outcome, "seconds": float(case.get("time", 0)),
                          "message": message})
    counts = {k: sum(c["outcome"] == k for c in cases)
              for k in ("passed", "failed", "error", "skipped")}
    atomic_write_json(json_file, {"counts": counts, "cases": cases})


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, *rest = argv
    if cmd == "env":
        write_env(Path(rest[0]))
    elif cmd == "record":
        record(Path(rest[0]), rest[1], int(rest[2]), float(rest[3]), rest[4] == "1")
    elif cmd == "junit":
        junit_to_json(Path(rest[0]), Path(rest[1]))
    else:
        print(f"unknown command {cmd!r}\n{__doc__}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
