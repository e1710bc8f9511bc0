"""Aggregate stored shard results into tables (markdown + JSON, mean ± std over seeds), with the
published rows and the deviations of the profile's budget printed beside ours.

Every table dict has ``columns``, ``rows`` (each ``{"label", "kind", "cells": {column: {"mean",
"std", "n"} | number | None}}``), ``deviations``, ``status`` (shards done / planned) and
``notes``. :func:`write_tables` writes ``reports/<profile>/tables/<name>.{json,md}`` and
``headline.json`` (what the README block shows).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rdmf.data.tvsum import TVSUM_DOMAINS
from rdmf.io import atomic_write_text, read_json
from rdmf.paths import reports_dir
from rdmf.reports import keeps_results, write_report_json

from . import references as refs
from .cells import FUSION_LABELS, fmt, stat, value  # noqa: F401  (value: part of this API)
from .bench_tables import bench_table
from .protocols import ABLATION_LABELS, budget, deviations, shards
from .runner import group_status, load_results

SYNTH_COLUMNS = ("MR-full-R1@0.5", "MR-full-R1@0.7", "MR-full-mAP@0.5", "MR-full-mAP@0.75",
                 "MR-full-mAP", "MR-short-mAP", "MR-middle-mAP", "MR-long-mAP",
                 "HL-min-VeryGood-mAP", "HL-min-VeryGood-Hit1")
SHORT = {"MR-full-R1@0.5": "R1@0.5", "MR-full-R1@0.7": "R1@0.7", "MR-full-mAP@0.5": "mAP@0.5",
         "MR-full-mAP@0.75": "mAP@0.75", "MR-full-mAP": "mAP", "MR-short-mAP": "mAP short",
         "MR-middle-mAP": "mAP middle", "MR-long-mAP": "mAP long",
         "HL-min-VeryGood-mAP": "HD mAP", "HL-min-VeryGood-Hit1": "HIT@1"}


def to_markdown(table: dict) -> str:
    if table.get("group") == "bench":
        from .bench_tables import to_markdown as bench_markdown
        return bench_markdown(table)
    lines = [f"### {table['title']}", ""]
    if table.get("status"):
        st = table["status"]
        lines.append(f"Shards: {st['done']} done, {st['failed']} failed, of {st['planned']} planned "
                     f"(profile `{table['profile']}`).")
    if table.get("deviations"):
        lines.append("Deviations from the published protocol: " + "; ".join(table["deviations"]) + ".")
    for note in table.get("notes", []):
        lines.append(note)
    lines.append("")
    cols = table["columns"]
    lines.append("| " + " | ".join([table.get("label_header", "")] + [SHORT.get(c, c) for c in cols]) + " |")
    lines.append("|" + "---|" * (len(cols) + 1))
    for row in table["rows"]:
        lines.append("| " + " | ".join([row["label"]] + [fmt(row["cells"].get(c)) for c in cols]) + " |")
    return "\n".join(lines) + "\n"


def _done(results: dict, ids: Sequence[str]) -> list[dict]:
    return [results[i] for i in ids if i in results and results[i].get("status") == "done"]


def _base(profile: str, group: str, title: str) -> dict:
    return {"title": title, "profile": profile, "group": group,
            "status": group_status(profile, [group])[group], "deviations": deviations(profile, group),
            "notes": [], "rows": []}


# --- synthetic -------------------------------------------------------------------------------
def trivial_rows(profile: str) -> list[dict]:
    """The trivial predictors (notebook 05) on the same test queries as the models."""
    from rdmf.data import trivial
    from rdmf.eval import evaluate_qvhighlights
    from .runner import shard_data
    shard = shards(profile, "synthetic")[0]
    train, _val, test = shard_data(profile, "synthetic", shard)
    rows = []
    for name in trivial.PREDICTORS:
        preds = trivial.predict(name, train, test)
        brief = evaluate_qvhighlights(preds, trivial.ground_truth_rows(test))["brief"]
        rows.append({"label": f"trivial: {name}", "kind": "floor",
                     "cells": {c: brief.get(c) for c in SYNTH_COLUMNS}})
    return rows


def synthetic_table(profile: str, results: dict | None = None, *, with_trivial: bool = True,
                    group: str = "synthetic") -> dict:
    results = load_results(profile) if results is None else results
    b = budget(profile, group)
    table = _base(profile, group, "Synthetic set: moment retrieval + highlight detection "
                  f"(test split; epoch chosen on val; {b.epochs} epochs)")
    table["columns"] = list(SYNTH_COLUMNS)
    table["label_header"] = "fusion"
    table["notes"].append("SYNTHETIC data (the embedded generator, docs/design.md §7), not QVHighlights: "
                          "the published QVHighlights numbers are not comparable and are not shown.")
    for fusion in b.fusions:
        ids = [s.id for s in shards(profile, group) if s.fusion == fusion]
        done = _done(results, ids)
        cells = {c: stat([r["test"].get(c) for r in done]) for c in SYNTH_COLUMNS}
        table["rows"].append({"label": FUSION_LABELS[fusion], "kind": "ours", "fusion": fusion,
                              "cells": cells, "seeds": [r["shard"]["seed"] for r in done],
                              "time_s": sum(r.get("time_s", 0) for r in done)})
    if with_trivial:
        table["rows"] += trivial_rows(profile)
    return table


# --- TVSum -----------------------------------------------------------------------------------
def tvsum_table(profile: str, results: dict | None = None, data_root: str | None = None) -> dict:
    results = load_results(profile) if results is None else results
    b = budget(profile, "tvsum")
    cols = list(TVSUM_DOMAINS) + ["Avg"]
    table = _base(profile, "tvsum", "TVSum highlight detection, top-5 mAP per domain")
    table["columns"], table["label_header"] = cols, "row"
    table["notes"] += [
        f"Our rows: one model per domain, {b.epochs} epochs, seeds {list(b.seeds)}. "
        "'published protocol' = best epoch scored on the same val video it reports (QD-DETR's "
        "protocol, optimistic by construction); 'honest' = the epoch count fixed in advance "
        f"({b.epochs}), last epoch, no look at the val video.",
        "Published rows quote the papers' averages only (their per-domain tables are not copied "
        "here); they come from the published protocol with 2000 epochs."]
    shard_list = shards(profile, "tvsum")
    have_any = False
    for fusion in b.fusions:
        best, last, loo = {}, {}, {}
        for domain in TVSUM_DOMAINS:
            std = _done(results, [s.id for s in shard_list if s.fusion == fusion
                                  and s.domain == domain and s.fold == "std"])
            allf = _done(results, [s.id for s in shard_list if s.fusion == fusion
                                   and s.domain == domain])
            best[domain] = stat([r["best"].get("top5-mAP") for r in std])
            last[domain] = stat([r["last"].get("top5-mAP") for r in std])
            loo[domain] = stat([r["last"].get("top5-mAP") for r in allf]) if len(
                {r["shard"]["fold"] for r in allf}) == len(b.folds) and len(b.folds) > 1 else None
        for kind, label, cells in (
                ("published_protocol", f"{FUSION_LABELS[fusion]} — published protocol (best epoch on the val video)", best),
                ("honest_std", f"{FUSION_LABELS[fusion]} — honest: fixed {b.epochs} epochs, standard val video", last),
                ("honest_loo", f"{FUSION_LABELS[fusion]} — honest: fixed {b.epochs} epochs, leave-one-video-out", loo)):
            if kind == "honest_loo" and len(b.folds) == 1:
                continue
            done_domains = [d for d in TVSUM_DOMAINS if cells[d] is not None]
            have_any |= bool(done_domains)
            avg = None
            if len(done_domains) == len(TVSUM_DOMAINS):
                avg = round(float(np.mean([cells[d]["mean"] for d in TVSUM_DOMAINS])), 2)
            row_cells = {**cells, "Avg": avg}
            partial = (round(float(np.mean([cells[d]["mean"] for d in done_domains])), 2)
                       if done_domains else None)
            table["rows"].append({"label": label, "kind": kind, "fusion": fusion,
                                  "cells": row_cells, "domains_done": len(done_domains),
                                  "domains": done_domains, "partial_avg": partial})
    if data_root is not None:
        try:
            std = refs.tvsum_reference_rankings(data_root, videos="std")
            allv = refs.tvsum_reference_rankings(data_root, videos="all", n_random=20)
        except FileNotFoundError as err:
            table["notes"].append(f"(reference rankings unavailable: {err})")
        else:
            for name, ref, what in (("random", std, "standard val videos, mean of 100 rankings"),
                                    ("consensus", std, "standard val videos, sum of the 20 annotators"),
                                    ("random", allv, "all 5 videos per domain, mean of 20 rankings"),
                                    ("consensus", allv, "all 5 videos per domain")):
                table["rows"].append({"label": f"reference: {name} ranking ({what})",
                                      "kind": "reference",
                                      "cells": {c: round(ref[name][c], 2) for c in cols}})
    else:
        table["rows"] += _kept_reference_rows(profile)
    for name, avg in refs.TVSUM_PUBLISHED_AVG.items():
        table["rows"].append({"label": f"published: {name} (best epoch on the val video, 2000 epochs)",
                              "kind": "published", "cells": {"Avg": avg}})
    for name, v in refs.TVSUM_QDDETR_MEASURED.items():
        table["rows"].append({"label": f"{name}: best epoch", "kind": "measured", "cells": {"Avg": v["best_epoch"]}})
        table["rows"].append({"label": f"{name}: last epoch", "kind": "measured", "cells": {"Avg": v["last_epoch"]}})
    loo_rows = [r for r in table["rows"] if r.get("kind") == "honest_loo" and r["domains_done"]]
    if loo_rows and any(r["domains_done"] < len(TVSUM_DOMAINS) for r in loo_rows):
        common = sorted(set.intersection(*(set(r["domains"]) for r in loo_rows)),
                        key=TVSUM_DOMAINS.index)
        if common:
            parts = []
            for kind in ("honest_loo", "honest_std", "published_protocol"):
                for r in table["rows"]:
                    if r.get("kind") == kind:
                        vals = [r["cells"][d]["mean"] for d in common if r["cells"].get(d)]
                        if len(vals) == len(common):
                            parts.append(f"{r['label']}: {np.mean(vals):.2f}")
            table["loo_common_domains"] = common
            table["notes"].append(f"Leave-one-video-out has finished for {len(common)} of 10 "
                                  f"domains ({', '.join(common)}); averages over those domains — "
                                  + "; ".join(parts) + ".")
    best_name, best_avg = refs.BEST_PUBLISHED_TVSUM
    gaps = {}
    for row in table["rows"]:
        if row["kind"] in ("published_protocol", "honest_std", "honest_loo") and row["cells"]["Avg"] is not None:
            gaps[row["label"]] = round(row["cells"]["Avg"] - best_avg, 2)
    table["gap_to_best_published"] = {"best": [best_name, best_avg], "gaps": gaps}
    if not have_any:
        table["notes"].append("No TVSum shard has finished under this profile (needs the real data root).")
    return table


def _kept_reference_rows(profile: str) -> list[dict]:
    """The reference-ranking rows of the existing TVSum table: they are computed from the TVSum
    annotations, so a run without the data root keeps them instead of dropping them."""
    path = reports_dir(profile) / "tables" / "tvsum.json"
    if not keeps_results(profile) or not path.is_file():
        return []
    try:
        rows = [r for r in read_json(path).get("rows", []) if r.get("kind") == "reference"]
    except (ValueError, AttributeError):
        return []
    if rows:
        print(f"kept the {len(rows)} reference-ranking rows of {path.relative_to(reports_dir(profile).parent.parent)}: "
              "they are computed from the TVSum annotations, which this run does not have")
    return rows


# --- YouTube ---------------------------------------------------------------------------------
def youtube_table(profile: str, results: dict | None = None) -> dict:
    results = load_results(profile) if results is None else results
    b = budget(profile, "youtube")
    domains = list(b.domains)
    cols = domains + ["Avg"]
    table = _base(profile, "youtube", "YouTube Highlights, mAP per domain (val videos)")
    table["columns"], table["label_header"] = cols, "row"
    table["notes"].append(f"Same recipe for every domain (TVSum preset: batch 4, lr 1e-3, HD only, "
                          f"{b.epochs} epochs, the domain name as the query); no per-domain tuning. "
                          "'best epoch' picks the epoch on the reported val videos (optimistic); "
                          "'last epoch' is the honest number.")
    for fusion in b.fusions:
        for kind, key, what in (("published_protocol", "best", "best epoch on val"),
                                ("honest", "last", f"last epoch ({b.epochs})")):
            cells = {}
            for d in domains:
                done = _done(results, [s.id for s in shards(profile, "youtube")
                                       if s.fusion == fusion and s.domain == d])
                cells[d] = stat([r[key].get("mAP") for r in done])
            avg = (round(float(np.mean([cells[d]["mean"] for d in domains])), 2)
                   if all(cells[d] is not None for d in domains) else None)
            table["rows"].append({"label": f"{FUSION_LABELS[fusion]} — {what}", "kind": kind,
                                  "fusion": fusion, "cells": {**cells, "Avg": avg}})
    for name, per in refs.YOUTUBE_PUBLISHED.items():
        cells = {d: per[d] for d in domains}
        cells["Avg"] = round(float(np.mean([per[d] for d in domains])), 2)
        table["rows"].append({"label": f"published: {name}", "kind": "published", "cells": cells})
    return table


# --- ablations and robustness ------------------------------------------------------------------
ABL_COLUMNS = ("MR-full-mAP", "MR-full-R1@0.5", "HL-min-VeryGood-mAP", "HL-min-VeryGood-Hit1")


def ablation_table(profile: str, results: dict | None = None) -> dict:
    results = load_results(profile) if results is None else results
    b = budget(profile, "ablations")
    table = _base(profile, "ablations", "RDMF ablations on the synthetic set (test split)")
    table["columns"], table["label_header"] = list(ABL_COLUMNS), "variant"
    for variant in b.variants:
        ids = [s.id for s in shards(profile, "ablations") if s.variant == variant]
        done = _done(results, ids)
        failed = [results[i] for i in ids if i in results and results[i].get("status") == "failed"]
        row = {"label": ABLATION_LABELS[variant], "kind": "ablation", "variant": variant,
               "cells": {c: stat([r["test"].get(c) for r in done]) for c in ABL_COLUMNS}}
        if failed:
            row["label"] += f" (FAILED: {failed[0]['error'][:120]})"
            row["failed"] = [r["error"] for r in failed]
        table["rows"].append(row)
    return table


def ablation_summary(table: dict, metric: str = "MR-full-mAP") -> str:
    """The ablation result in words, computed from the table's cells: the full layer's score,
    every variant's difference to it (largest first), the variants that failed, and whether the
    number of seeds allows a spread estimate. Variant labels are shortened at the first " (".
    """
    rows = table["rows"]
    full = next((r for r in rows if r["variant"] == "default"), None)
    full_cell = None if full is None else full["cells"].get(metric)
    if full_cell is None:
        return f"The full layer has no {metric} in this table: no ablation result."
    base = full_cell["mean"]
    def short(r):
        return r["label"].split(" (")[0]
    scored = [(r, r["cells"][metric]) for r in rows
              if r is not full and r["cells"].get(metric) is not None]
    scored.sort(key=lambda rc: -rc[1]["mean"])
    failed = [short(r) for r in rows if r.get("failed") and r["cells"].get(metric) is None]
    n_seeds = min([full_cell["n"]] + [c["n"] for _, c in scored])
    lines = [f"Full layer: {metric} {base:.2f} ({full_cell['n']} seed{'s' * (full_cell['n'] != 1)})."]
    better = [f"{short(r)} {c['mean']:.2f} ({c['mean'] - base:+.2f})" for r, c in scored
              if c["mean"] > base]
    worse = [f"{short(r)} {c['mean']:.2f} ({c['mean'] - base:+.2f})" for r, c in scored
             if c["mean"] <= base]
    lines.append(f"Above the full layer: {'; '.join(better) if better else 'none'}.")
    lines.append(f"At or below it: {'; '.join(worse) if worse else 'none'}.")
    if scored:
        best_row, best_cell = scored[0]
        if best_cell["mean"] > base:
            lines.append(f"Best variant: {short(best_row)}, {best_cell['mean']:.2f} against the full "
                         f"layer's {base:.2f}.")
        else:
            lines.append("No variant beats the full layer.")
    if failed:
        lines.append(f"Failed (no number): {'; '.join(failed)}.")
    if n_seeds < 2:
        lines.append("One seed per variant: no spread estimate, so no difference above is "
                     "established.")
    else:
        lines.append(f"Differences are to be read against each row's spread over {n_seeds}+ seeds.")
    return "\n".join(lines)


def robustness_table(profile: str, results: dict | None = None) -> dict:
    results = load_results(profile) if results is None else results
    b = budget(profile, "robustness")
    table = _base(profile, "robustness", "Robustness: test metrics vs the synthetic set's clip noise")
    cols = [f"{m} @ noise {n:g}" for m in ("MR-full-mAP", "HL-min-VeryGood-mAP") for n in b.noises]
    table["columns"], table["label_header"] = cols, "fusion"
    table["notes"].append("clip_noise scales the generator's clutter and noise (1.0 = the default set).")
    for fusion in b.fusions:
        cells = {}
        for n in b.noises:
            done = _done(results, [s.id for s in shards(profile, "robustness")
                                   if s.fusion == fusion and s.noise == n])
            for m in ("MR-full-mAP", "HL-min-VeryGood-mAP"):
                cells[f"{m} @ noise {n:g}"] = stat([r["test"].get(m) for r in done])
        table["rows"].append({"label": FUSION_LABELS[fusion], "kind": "ours", "fusion": fusion,
                              "cells": cells})
    return table


# --- headline and writing --------------------------------------------------------------------
def headline(tables: dict[str, dict]) -> dict:
    """The numbers the README shows, taken from the tables."""
    out: dict[str, Any] = {"profile": next(iter(tables.values()))["profile"]}
    syn = tables["synthetic"]
    out["synthetic"] = {r["fusion"]: {"MR-full-mAP": r["cells"]["MR-full-mAP"],
                                      "HL-min-VeryGood-mAP": r["cells"]["HL-min-VeryGood-mAP"]}
                        for r in syn["rows"] if r["kind"] == "ours"}
    out["synthetic_epochs"] = budget(out["profile"], "synthetic").epochs
    short = tables.get("synthetic_short")
    if short is not None and budget(out["profile"], "synthetic_short") != budget(out["profile"], "synthetic"):
        out["synthetic_short"] = {r["fusion"]: {"MR-full-mAP": r["cells"]["MR-full-mAP"],
                                                "HL-min-VeryGood-mAP": r["cells"]["HL-min-VeryGood-mAP"]}
                                  for r in short["rows"] if r["kind"] == "ours"}
        out["synthetic_short_epochs"] = budget(out["profile"], "synthetic_short").epochs
    floor = [r for r in syn["rows"] if r["kind"] == "floor"]
    if floor:
        out["synthetic_floor"] = {r["label"]: r["cells"]["MR-full-mAP"] for r in floor}
    bench = tables.get("bench")
    if bench is not None:
        keys = ("MR-full-mAP", "HL-min-VeryGood-mAP")
        out["bench"] = {
            "title": bench["title"], "generator_version": bench["generator_version"],
            "settings_hash": bench["settings_hash"], "status": bench["status"],
            "grid_status": bench["grid_status"],
            "models": {r["model"]: {k: r["cells"].get(k) for k in keys} for r in bench["rows"]},
            "labels": {r["model"]: r["label"] for r in bench["rows"]},
            "by_type": {t: {r["model"]: {k: r["cells"].get(k) for k in keys} for r in sub["rows"]}
                        for t, sub in bench.get("by_type", {}).items()},
            "trivial_best_mr": max((r["cells"].get("MR-full-mAP") or 0) for r in bench.get("trivial", [])) if bench.get("trivial") else None,
            "verdicts": (bench.get("verdicts") or {}).get("sentences", []),
            "verdict_note": (bench.get("verdicts") or {}).get("note"),
            "missing_primary": (bench.get("verdicts") or {}).get("missing_primary", [])}
    tv = tables["tvsum"]
    out["tvsum"] = {f"{r['fusion']}/{r['kind']}": {"Avg": r["cells"]["Avg"],
                                                   "domains_done": r["domains_done"],
                                                   "partial_avg": r.get("partial_avg")}
                    for r in tv["rows"] if r.get("fusion")}
    common = tv.get("loo_common_domains")
    if common:
        out["tvsum_loo_common"] = {"domains": common, **{
            f"{r['fusion']}/{r['kind']}": round(float(np.mean([r["cells"][d]["mean"] for d in common])), 2)
            for r in tv["rows"] if r.get("fusion") and all(r["cells"].get(d) for d in common)}}
    out["tvsum_best_published"] = tv["gap_to_best_published"]["best"]
    out["tvsum_references"] = {r["label"]: r["cells"]["Avg"] for r in tv["rows"] if r["kind"] == "reference"}
    yt = tables["youtube"]
    out["youtube"] = {f"{r['fusion']}/{r['kind']}": r["cells"] for r in yt["rows"] if r.get("fusion")}
    out["deviations"] = {g: t["deviations"] for g, t in tables.items()}
    out["status"] = {g: t["status"] for g, t in tables.items()}
    return out


def all_tables(profile: str, data_root: str | None = None, with_trivial: bool = True) -> dict[str, dict]:
    results = load_results(profile)
    return {"synthetic": synthetic_table(profile, results, with_trivial=with_trivial),
            "synthetic_short": synthetic_table(profile, results, with_trivial=with_trivial,
                                               group="synthetic_short"),
            "tvsum": tvsum_table(profile, results, data_root),
            "youtube": youtube_table(profile, results),
            "ablations": ablation_table(profile, results),
            "robustness": robustness_table(profile, results),
            "bench": bench_table(profile, results)}


def runs_markdown(profile: str) -> str:
    """What ran: per group the command that (re)generates it, shards done / planned and the
    summed training time of the stored shards (seconds of wall clock, 1 torch thread each)."""
    from .protocols import GROUPS
    results = load_results(profile)
    status = group_status(profile)
    lines = [f"# Runs of profile `{profile}`", "",
             "Regenerate (finished shards are skipped; interrupted ones resume):", "",
             "```bash",
             f"RDMF_DATA_ROOT=../shared/data PYTHONPATH=$PWD python -m rdmf experiments run --profile {profile} --group GROUP",
             f"PYTHONPATH=$PWD RDMF_DATA_ROOT=../shared/data python -m rdmf experiments tables --profile {profile}",
             "PYTHONPATH=$PWD python -m rdmf experiments readme   # README headline block (paper)",
             "```", "",
             "| group | shards done | failed | planned | summed shard time (s) | command |",
             "|---|---|---|---|---|---|"]
    for g in GROUPS:
        ids = {sh.id for sh in shards(profile, g)}
        t = sum(r.get("time_s", 0) for i, r in results.items() if i in ids)
        st = status[g]
        lines.append(f"| {g} | {st['done']} | {st['failed']} | {st['planned']} | {t:.0f} | "
                     f"`rdmf experiments run --profile {profile} --group {g}` |")
    lines += ["", "Per shard (seconds):", ""]
    for i, r in sorted(results.items()):
        lines.append(f"- `{i}`: {r.get('status')}, {r.get('time_s', 0):.0f} s"
                     + (f" — {r['error']}" if r.get("error") else ""))
    return "\n".join(lines) + "\n"


def write_tables(profile: str, data_root: str | None = None, *, figures: bool = True,
                 tables: dict | None = None) -> list[Path]:
    """Write every table (``.json`` + ``.md``), ``headline.json``, ``tables.md`` (all tables) and
    (``figures``) the figures ``reports/<profile>/figures/07_*.png``."""
    tables = all_tables(profile, data_root) if tables is None else tables
    folder = reports_dir(profile) / "tables"
    paths = []
    for name, table in tables.items():
        paths.append(write_report_json(folder / f"{name}.json", table))
        paths.append(atomic_write_text(folder / f"{name}.md", to_markdown(table)))
    paths.append(write_report_json(folder / "headline.json", headline(tables)))
    paths.append(atomic_write_text(reports_dir(profile) / "RUNS.md", runs_markdown(profile)))
    paths.append(atomic_write_text(folder / "tables.md",
                                   "\n".join(to_markdown(t) for t in tables.values())))
    if figures:
        import matplotlib.pyplot as plt

        from rdmf.figures import apply_style, save_figure

        from .plots import all_figures
        apply_style()
        for name, fig in all_figures(tables).items():
            paths.append(save_figure(fig, name, profile))
            plt.close(fig)
    return [Path(p) for p in paths]
