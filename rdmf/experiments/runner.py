"""The resumable shard runner.

Each shard trains into ``data/runs/<profile>/<shard id>/`` (git-ignored: checkpoints) through
:func:`rdmf.train.train`, then writes ``result.json`` there and copies ``result.json``,
``config.yaml`` and ``metrics.jsonl`` to ``reports/<profile>/shards/<shard id>/``. A shard whose
``result.json`` exists in reports is skipped on re-run; an interrupted shard resumes from its
``last.ckpt``. A file lock (:func:`acquire_shard_lock`) keeps two processes off the same shard.
"""

from __future__ import annotations

import fnmatch
import shutil
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from filelock import FileLock, Timeout

from rdmf.io import atomic_write_json
from rdmf.paths import check_profile, generated_data_dir, reports_dir

from .protocols import (BENCH_GROUPS, FLOORS, GROUPS, Shard, budget, floor_config, planned_count,
                        shard_config, shards)

_DATA_CACHE: dict[tuple, tuple[list, list, list | None]] = {}


# --- folders -----------------------------------------------------------------------------------
def run_dir(profile: str, shard: Shard) -> Path:
    return generated_data_dir() / "runs" / check_profile(profile) / shard.id


def result_dir(profile: str, shard: Shard) -> Path:
    return reports_dir(profile) / "shards" / shard.id


def data_version(shard: Shard) -> str | None:
    """The synthetic generator version a synthetic shard trains on (None for real data)."""
    if shard.dataset != "synthetic":
        return None
    from rdmf.data import synth
    return str(synth.GENERATOR_VERSION)


def is_stale(result: dict) -> bool:
    """A stored synthetic result made with another generator version than the current one."""
    shard = Shard(**result["shard"])
    return shard.dataset == "synthetic" and result.get("data_version") != data_version(shard)


def is_done(profile: str, shard: Shard) -> bool:
    """A result is stored for the shard (and, for synthetic data, with the current generator
    version: a generator change re-runs every comparison)."""
    import json
    path = result_dir(profile, shard) / "result.json"
    if not path.is_file():
        return False
    return not is_stale(json.loads(path.read_text()))


# --- data --------------------------------------------------------------------------------------
def _materialise(ds, n: int | None) -> list:
    n = len(ds) if n is None else min(int(n), len(ds))
    return [ds[i] for i in range(n)]


def tvsum_fold(domain: str, fold: str, data_root: str | None = None) -> tuple[list, list]:
    """(train, val) samples of a TVSum domain for ``fold`` (``std`` or ``loo0``..``loo3``)."""
    from rdmf.data import build_dataset
    train = _materialise(build_dataset("tvsum", "train", data_root=data_root, domain=domain), None)
    val = _materialise(build_dataset("tvsum", "val", data_root=data_root, domain=domain), None)
    if fold == "std":
        return train, val
    if not fold.startswith("loo") or not fold[3:].isdigit():
        raise ValueError(f"TVSum fold must be 'std' or 'loo<i>', got {fold!r}")
    i = int(fold[3:])
    others = sorted(train, key=lambda s: str(s.vid))
    if not 0 <= i < len(others):
        raise ValueError(f"TVSum fold {fold!r}: domain {domain} has {len(others)} non-standard "
                         f"videos (loo0..loo{len(others) - 1})")
    held = others[i]
    new_train = [s for s in train if s.vid != held.vid] + val
    return new_train, [held]


def shard_data(profile: str, group: str, shard: Shard, data_root: str | None = None):
    """(train, val, test) lists of samples (test None for TVSum / YouTube)."""
    from rdmf.data import build_dataset
    b = budget(profile, group)
    key = (shard.dataset, shard.domain, shard.fold, shard.noise, b.size, b.n_train, b.n_val,
           str(data_root))
    if key in _DATA_CACHE:
        return _DATA_CACHE[key]
    if shard.dataset == "synthetic":
        kw = {"size": b.size, "clip_noise": shard.noise}
        out = (_materialise(build_dataset("synthetic", "train", **kw), b.n_train),
               _materialise(build_dataset("synthetic", "val", **kw), b.n_val),
               _materialise(build_dataset("synthetic", "test", **kw), b.n_val))
    elif shard.dataset == "tvsum":
        out = (*tvsum_fold(shard.domain, shard.fold or "std", data_root), None)
    else:
        out = (_materialise(build_dataset("youtube", "train", data_root=data_root,
                                          domain=shard.domain), b.n_train),
               _materialise(build_dataset("youtube", "val", data_root=data_root,
                                          domain=shard.domain), b.n_val), None)
    _DATA_CACHE[key] = out
    return out


# --- one shard ---------------------------------------------------------------------------------
def acquire_shard_lock(folder: Path) -> FileLock | None:
    """An exclusive lock on ``folder/.lock``, held until ``release()``, or None when another
    holder (another process, or another lock object in this one) has it.

    The lock is an OS file lock (``flock``/``LockFileEx`` through :mod:`filelock`): the system
    drops it when its holder exits, so a crashed run leaves no stale lock to clean up, and the
    lock file itself is never deleted (deleting it would let a second process lock a new file of
    the same name while the first still holds the old one)."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return lock


def _brief_history(history: list[dict], metric: str) -> list[dict]:
    return [{"epoch": h["epoch"], "train_loss": round(float(h["train_loss"]), 5),
             "val": h.get("val", {}), "time_s": h.get("time_s")} for h in history]


def run_shard(profile: str, group: str, shard: Shard, *, data_root: str | None = None,
              keep_checkpoints: bool | None = None, force: bool = False,
              record: bool = True) -> dict[str, Any] | None:
    """Train one shard (or return its stored result). Returns the result dict, or None when
    another live process holds the shard.

    ``record=False`` trains into the run folder under ``data/runs/`` only and leaves the stored
    result under ``reports/<profile>/shards/`` as it is (e.g. to get a checkpoint for plots).
    """
    from rdmf.train import evaluate, train
    from rdmf.train.config import save_config, to_dict
    from rdmf.io import read_jsonl
    out_dir = result_dir(profile, shard)
    if is_done(profile, shard) and not force:
        import json
        return json.loads((out_dir / "result.json").read_text())
    folder = run_dir(profile, shard)
    lock = acquire_shard_lock(folder)
    if lock is None:
        return None
    if (folder / "result.json").is_file() and (force or not is_done(profile, shard)):
        # a finished run of an older generator version (or a forced re-run): start afresh
        for name in ("last.ckpt", "best.ckpt", "metrics.jsonl", "result.json"):
            (folder / name).unlink(missing_ok=True)
    try:
        if shard.fusion in FLOORS:
            result = _run_floor(profile, group, shard, data_root)
            atomic_write_json(folder / "result.json", result)
            if record:
                out_dir.mkdir(parents=True, exist_ok=True)
                atomic_write_json(out_dir / "result.json", result)
            return result
        config = shard_config(profile, group, shard, data_root)
        train_set, val_set, test_set = shard_data(profile, group, shard, data_root)
        t0 = time.time()
        result: dict[str, Any] = {"shard": shard.to_dict(), "id": shard.id, "profile": profile,
                                  "group": group, "metric_name": config.metric_name,
                                  "data_version": data_version(shard),
                                  "n_train": len(train_set), "n_val": len(val_set),
                                  "val_vids": sorted({str(s.vid) for s in val_set})}
        try:
            summary = train(config, folder, datasets=(train_set, val_set))
        except Exception as err:  # noqa: BLE001 - a failed variant is a result, stated plainly
            result.update(status="failed", error=f"{type(err).__name__}: {str(err)[:400]}",
                          time_s=round(time.time() - t0, 1))
            save_config(config, folder / "config.yaml")
        else:
            history = list(read_jsonl(folder / "metrics.jsonl"))
            metric = config.metric_name
            vals = [h.get("val", {}).get(metric) for h in history]
            result.update(
                status="done", epochs=len(history), best_epoch=summary["best_epoch"],
                best=history[summary["best_epoch"] - 1].get("val", {}) if summary["best_epoch"] else {},
                last=history[-1].get("val", {}) if history else {},
                curve=[None if v is None else float(v) for v in vals],
                history=_brief_history(history, metric))
            if test_set is not None:   # selection on val, report on test
                result["test"] = evaluate(folder, "test", dataset=test_set, write=True)["brief"]
            if group in BENCH_GROUPS:   # per-query metrics for the paired statistics
                result["per_query"] = _per_query_from_files(folder, val_set, test_set)
                result["n_params"] = _fusion_parameters(folder)
            if shard.dataset != "synthetic":
                import json
                vm = folder / "val_metrics.json"
                if vm.is_file():
                    result["best_per_video"] = json.loads(vm.read_text()).get("per_video")
            result["time_s"] = round(time.time() - t0, 1)
        keep = shard.dataset == "synthetic" if keep_checkpoints is None else keep_checkpoints
        (folder / "last.ckpt").unlink(missing_ok=True) if result["status"] == "done" else None
        if not keep:
            (folder / "best.ckpt").unlink(missing_ok=True)
        result["config"] = to_dict(config)
        atomic_write_json(folder / "result.json", result)
        if not record:
            return result
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in ("config.yaml", "metrics.jsonl"):
            if (folder / name).is_file():
                shutil.copyfile(folder / name, out_dir / name)
        atomic_write_json(out_dir / "result.json", result)
        return result
    finally:
        lock.release()


# --- benchmark shards: floors and per-query metrics ---------------------------------------------
PER_QUERY_METRICS = ("MR-full-mAP", "MR-full-R1@0.5", "HL-min-VeryGood-mAP", "HL-min-VeryGood-Hit1")


def per_query(rows: list[dict], samples: list) -> dict[str, list]:
    """Per-query values (percent, 4 decimals) of the four headline metrics, in sample order,
    plus the qids."""
    from rdmf.data import trivial
    from .stats import per_query_metrics
    values = per_query_metrics(rows, trivial.ground_truth_rows(list(samples)))
    out: dict[str, list] = {"qid": [s.qid for s in samples]}
    for name in PER_QUERY_METRICS:
        out[name] = [round(float(v), 4) for v in values[name]]
    return out


def _per_query_from_files(folder: Path, val_set: list, test_set: list | None) -> dict:
    """Per-query metrics of a trained shard's best-val predictions (val_preds.jsonl) and of its
    test evaluation (eval/test_best/preds.jsonl)."""
    from rdmf.io import read_jsonl
    out = {"val": per_query(list(read_jsonl(folder / "val_preds.jsonl")), val_set)}
    test_preds = folder / "eval" / "test_best" / "preds.jsonl"
    if test_set is not None and test_preds.is_file():
        out["test"] = per_query(list(read_jsonl(test_preds)), test_set)
    return out


def _fusion_parameters(folder: Path) -> int | None:
    """Trainable parameters of a shard's model (read from best.ckpt)."""
    import torch
    path = folder / "best.ckpt"
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=False)
    return int(sum(v.numel() for v in state["model"].values() if v.dtype.is_floating_point))


def _run_floor(profile: str, group: str, shard: Shard, data_root: str | None) -> dict:
    """Fit a floor / temporal reference (:func:`rdmf.baselines.fit_predict`) as a shard."""
    import torch
    from rdmf.baselines.fit import evaluate_rows, fit_predict
    from dataclasses import asdict
    config = floor_config(profile, group, shard)
    train_set, val_set, test_set = shard_data(profile, group, shard, data_root)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # a fit is deterministic at one thread
    t0 = time.time()
    try:
        res = fit_predict(shard.fusion, train_set, val_set, test_set, dataset=shard.dataset,
                          config=config)
    finally:
        torch.set_num_threads(threads)
    metric = res.metric
    result: dict[str, Any] = {
        "shard": shard.to_dict(), "id": shard.id, "profile": profile, "group": group,
        "metric_name": metric, "data_version": data_version(shard), "status": "done",
        "n_train": len(train_set), "n_val": len(val_set),
        "epochs": len(res.history), "best_epoch": res.epoch,
        "best": evaluate_rows(res.rows["val"], val_set, shard.dataset),
        "curve": [h.get(metric) for h in res.history],
        "history": [{"epoch": h["epoch"], "train_loss": h["train_loss"],
                     "val": {metric: h.get(metric)}} for h in res.history],
        "n_params": res.n_params, "smooth_width": res.smooth_width,
        "val_by_width": {str(k): v for k, v in res.val_by_width.items()},
        "config": {"floor": asdict(config)}}
    result["last"] = {metric: result["curve"][-1]}
    if test_set is not None:
        result["test"] = evaluate_rows(res.rows["test"], test_set, shard.dataset)
    result["per_query"] = {"val": per_query(res.rows["val"], val_set)}
    if test_set is not None:
        result["per_query"]["test"] = per_query(res.rows["test"], test_set)
    result["time_s"] = round(time.time() - t0, 1)
    return result


# --- groups ------------------------------------------------------------------------------------
def matches(shard_id: str, pattern: str) -> bool:
    """A ``--shard`` pattern selects a shard id as a glob or as a substring."""
    return fnmatch.fnmatch(shard_id, pattern) or pattern in shard_id


def select(profile: str, group: str, patterns: Sequence[str] | None = None,
           part: tuple[int, int] | None = None) -> list[Shard]:
    """The shards of a group, filtered by glob patterns on the id and split into parts
    (``part=(i, n)``: every n-th shard starting at i)."""
    chosen = shards(profile, group)
    if patterns:
        chosen = [s for s in chosen if any(matches(s.id, p) for p in patterns)]
    if part is not None:
        i, n = part
        if not (n >= 1 and 0 <= i < n):
            raise ValueError(f"--part {i}/{n}: need 0 ≤ i < n")
        chosen = chosen[i::n]
    return chosen


def run_group(profile: str, group: str, *, patterns: Sequence[str] | None = None,
              part: tuple[int, int] | None = None, data_root: str | None = None,
              log=print) -> list[dict]:
    """Run (or skip, when done) every selected shard of a group; returns the results."""
    results = []
    todo = select(profile, group, patterns, part)
    for n, shard in enumerate(todo, 1):
        done = is_done(profile, shard)
        t0 = time.time()
        res = run_shard(profile, group, shard, data_root=data_root)
        if res is None:
            log(f"[{n}/{len(todo)}] {shard.id}: held by another process, skipped")
            continue
        state = "stored" if done else f"{res['status']} in {time.time() - t0:.0f} s"
        log(f"[{n}/{len(todo)}] {group} {shard.id}: {state}")
        results.append(res)
    return results


def load_results(profile: str) -> dict[str, dict]:
    """Every stored shard result of a profile, by shard id."""
    import json
    base = reports_dir(profile) / "shards"
    out = {}
    if base.is_dir():
        for path in sorted(base.glob("*/result.json")):
            result = json.loads(path.read_text())
            if not is_stale(result):
                out[path.parent.name] = result
    return out


def group_status(profile: str, groups: Iterable[str] = GROUPS) -> dict[str, dict]:
    """Planned vs finished shards per group."""
    have = load_results(profile)
    return {g: {"planned": planned_count(profile, g),
                "done": sum(1 for s in shards(profile, g) if s.id in have
                            and have[s.id].get("status") == "done"),
                "failed": sum(1 for s in shards(profile, g) if s.id in have
                              and have[s.id].get("status") == "failed")} for g in groups}


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    a = np.asarray([v for v in values if v is not None], float)
    if a.size == 0:
        return float("nan"), float("nan")
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0
