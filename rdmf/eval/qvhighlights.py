"""QVHighlights evaluation of a whole submission, with the official output layout.

``evaluate_qvhighlights(submission, ground_truth)`` returns what Moment-DETR's
``standalone_eval/eval.py`` writes: a ``"brief"`` section (MR keys in sorted order, then HL keys)
followed by the full detail (``HL-min-Fair``, ``HL-min-Good``, ``HL-min-VeryGood``, ``full``,
``long``, ``middle``, ``short``), every value in percent rounded to 2 decimals exactly as the
official tool formats it (``float(f"{100 * v:.2f}")``). A length range without any query gives
``None`` (the official tool would give NaN). Evaluation is single-process and in submission order.
"""

from __future__ import annotations

from typing import Sequence


from rdmf.eval.highlight import qvhighlights_clip_labels, qvhighlights_highlight_scores
from rdmf.eval.moment_retrieval import moment_retrieval_scores
from rdmf.eval.submission import (DEFAULT_SALIENCY_TOLERANCE, HD_FIELD, MR_FIELD, Rows,
                                  check_submission)

BRIEF_MR_KEYS = ("MR-full-R1@0.5", "MR-full-R1@0.7", "MR-full-mAP", "MR-full-mAP@0.5",
                 "MR-full-mAP@0.75", "MR-long-mAP", "MR-middle-mAP", "MR-short-mAP")
BRIEF_HL_KEYS = ("HL-min-Fair-mAP", "HL-min-Fair-Hit1", "HL-min-Good-mAP", "HL-min-Good-Hit1",
                 "HL-min-VeryGood-mAP", "HL-min-VeryGood-Hit1")


def to_percent(value: float | None) -> float | None:
    """A fraction as the official tool writes it: percent, 2 decimals (``None`` stays ``None``)."""
    return None if value is None else float(f"{100 * value:.2f}")


def evaluate_qvhighlights(submission: Rows | Sequence[dict], ground_truth: Rows | Sequence[dict],
                          saliency_tolerance: int = DEFAULT_SALIENCY_TOLERANCE) -> dict:
    """Official QVHighlights metrics of a submission.

    submission: rows with ``qid`` and ``pred_relevant_windows`` and/or ``pred_saliency_scores``
    (or a ``Rows`` from ``read_rows`` for error messages with line numbers).
    ground_truth: rows with ``qid, duration, relevant_windows, relevant_clip_ids,
    saliency_scores``; its qids must equal the submission's.
    Raises ValueError on bad input (see ``rdmf.eval.submission``).
    """
    checked = check_submission(submission, ground_truth, saliency_tolerance)
    brief: dict[str, float | None] = {}
    detail: dict[str, dict] = {}
    if checked.has_mr:
        mr = moment_retrieval_scores([row[MR_FIELD] for row in checked.pred_rows],
                                     [row["relevant_windows"] for row in checked.gt_rows])
        for name, scores in mr.items():
            detail[name] = {"MR-mAP": {k: to_percent(v) for k, v in scores["mAP"].items()},
                            "MR-R1": {k: to_percent(v) for k, v in scores["R1"].items()}}
        values = {
            "MR-full-R1@0.5": detail["full"]["MR-R1"]["0.5"],
            "MR-full-R1@0.7": detail["full"]["MR-R1"]["0.7"],
            "MR-full-mAP": detail["full"]["MR-mAP"]["average"],
            "MR-full-mAP@0.5": detail["full"]["MR-mAP"]["0.5"],
            "MR-full-mAP@0.75": detail["full"]["MR-mAP"]["0.75"],
            "MR-long-mAP": detail["long"]["MR-mAP"]["average"],
            "MR-middle-mAP": detail["middle"]["MR-mAP"]["average"],
            "MR-short-mAP": detail["short"]["MR-mAP"]["average"],
        }
        brief.update((key, values[key]) for key in BRIEF_MR_KEYS)
    if checked.has_hd:
        labels = [qvhighlights_clip_labels(row["duration"], row["relevant_clip_ids"],
                                           row["saliency_scores"]) for row in checked.gt_rows]
        hd = qvhighlights_highlight_scores([row[HD_FIELD] for row in checked.pred_rows], labels)
        for name, scores in hd.items():
            detail[f"HL-min-{name}"] = {"HL-mAP": to_percent(scores["mAP"]),
                                        "HL-Hit1": to_percent(scores["Hit1"])}
            brief[f"HL-min-{name}-mAP"] = detail[f"HL-min-{name}"]["HL-mAP"]
            brief[f"HL-min-{name}-Hit1"] = detail[f"HL-min-{name}"]["HL-Hit1"]
    return {"brief": brief, **{key: detail[key] for key in sorted(detail)}}


def format_brief(metrics: dict) -> str:
    """The brief section as a two-column text table."""
    brief = metrics["brief"]
    width = max(len(k) for k in brief)
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  ------"]
    for key, value in brief.items():
        lines.append(f"{key:<{width}}  {'-' if value is None else f'{value:6.2f}'}")
    return "\n".join(lines)


__all__ = ["evaluate_qvhighlights", "format_brief", "to_percent", "BRIEF_MR_KEYS",
           "BRIEF_HL_KEYS"]
