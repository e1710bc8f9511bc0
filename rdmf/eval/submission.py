"""Reading and validating QVHighlights submission and ground-truth files.

Submission rows (official format): ``qid, query, vid, pred_relevant_windows [[start, end, score],
...], pred_saliency_scores [s_0, s_1, ...]`` — either field may be absent in every row (MR-only or
HD-only submission). Ground-truth rows: ``qid, duration, relevant_windows [[start, end], ...],
relevant_clip_ids, saliency_scores [[a1, a2, a3], ...]``.

Every problem is a ``ValueError`` that names the file (or "submission"), the line (or row) and
the qid; nothing is evaluated on bad input. Checks: malformed JSON, a missing or duplicated qid,
qids that do not match the ground truth (the first missing and the first extra qid are named),
a row without windows, a window that is not ``[start, end, score]`` of numbers, ``end < start``,
a NaN score or non-finite time, saliency scores that are empty, contain NaN, or whose length is
more than ``saliency_tolerance`` clips away from ``int(duration / 2)``.

What the official evaluator scores as given is accepted, and :func:`unusual_predictions`
describes it in one warning line: windows that start before 0 s, end after the video's
duration or have zero length, and infinite window or saliency scores.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rdmf.io import read_jsonl_numbered

MR_FIELD = "pred_relevant_windows"
HD_FIELD = "pred_saliency_scores"
# predicted saliency may differ from int(duration / 2) by this many clips: features are cut with
# ceil or floor, and the official evaluator silently pads or truncates them
DEFAULT_SALIENCY_TOLERANCE = 2


@dataclass
class Rows:
    """Rows of a jsonl file with the line number of each row (for error messages)."""
    rows: list[dict]
    name: str = "submission"
    lines: list[int] | None = None

    def where(self, index: int) -> str:
        row = self.rows[index]
        qid = f" (qid {row['qid']!r})" if isinstance(row, dict) and "qid" in row else ""
        if self.lines is not None:
            return f"{self.name}, line {self.lines[index]}{qid}"
        return f"{self.name}, row {index + 1}{qid}"


def read_rows(path: str | Path) -> Rows:
    """Read a jsonl file, keeping line numbers; a malformed line is a ValueError naming the file
    and line number."""
    path = Path(path)
    rows, lines = read_jsonl_numbered(path)
    if not rows:
        raise ValueError(f"{path}: no rows")
    return Rows(rows, str(path), lines)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _as_list(value: Any) -> Any:
    """Lists stay lists; tuples and 1-D arrays (from Python callers) become lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    return list(value) if isinstance(value, tuple) else value


def _check_qids(rows: Rows) -> list:
    qids, seen = [], {}
    for i, row in enumerate(rows.rows):
        if "qid" not in row:
            raise ValueError(f"{rows.where(i)}: missing field 'qid'")
        qid = row["qid"]
        if not isinstance(qid, (numbers.Integral, str)) or isinstance(qid, (bool, np.bool_)):
            raise ValueError(f"{rows.where(i)}: 'qid' must be an integer or a string")
        if qid in seen:
            raise ValueError(f"{rows.where(i)}: duplicate qid, first seen at "
                             f"{rows.where(seen[qid])}")
        seen[qid] = i
        qids.append(qid)
    return qids


def _check_windows(rows: Rows, i: int) -> None:
    windows = _as_list(rows.rows[i].get(MR_FIELD))
    if not isinstance(windows, list) or not windows:
        raise ValueError(f"{rows.where(i)}: '{MR_FIELD}' must be a non-empty list of "
                         f"[start, end, score] (a row without windows cannot be evaluated)")
    for w_idx, window in enumerate(windows):
        window = _as_list(window)
        if (not isinstance(window, list) or len(window) != 3
                or not all(_is_number(v) for v in window)):
            raise ValueError(f"{rows.where(i)}: '{MR_FIELD}'[{w_idx}] must be "
                             f"[start, end, score] numbers, got {window!r}")
        start, end, score = window
        if not (math.isfinite(start) and math.isfinite(end)):
            raise ValueError(f"{rows.where(i)}: '{MR_FIELD}'[{w_idx}] has a non-finite time")
        if end < start:
            raise ValueError(f"{rows.where(i)}: '{MR_FIELD}'[{w_idx}] ends before it starts "
                             f"({start} > {end})")
        if math.isnan(score):
            raise ValueError(f"{rows.where(i)}: '{MR_FIELD}'[{w_idx}] has a NaN score")


def _check_saliency(rows: Rows, i: int, num_clips: int, tolerance: int) -> None:
    scores = _as_list(rows.rows[i].get(HD_FIELD))
    if not isinstance(scores, list) or not scores or not all(_is_number(v) for v in scores):
        raise ValueError(f"{rows.where(i)}: '{HD_FIELD}' must be a non-empty list of numbers")
    if any(math.isnan(v) for v in scores):
        raise ValueError(f"{rows.where(i)}: '{HD_FIELD}' contains NaN")
    if abs(len(scores) - num_clips) > tolerance:
        raise ValueError(f"{rows.where(i)}: '{HD_FIELD}' has {len(scores)} scores but the "
                         f"video has {num_clips} clips (accepted: {num_clips} +/- {tolerance}; "
                         f"see --saliency-tolerance)")


def _check_gt_row(gt: Rows, i: int, need_mr: bool, need_hd: bool) -> None:
    row = gt.rows[i]
    duration = row.get("duration")
    if not _is_number(duration) or not duration >= 2:
        raise ValueError(f"{gt.where(i)}: 'duration' must be a number >= 2 (seconds)")
    if need_mr:
        windows = row.get("relevant_windows")
        if not isinstance(windows, list) or not windows:
            raise ValueError(f"{gt.where(i)}: 'relevant_windows' must be a non-empty list "
                             f"(moment retrieval needs ground-truth windows)")
        for window in windows:
            if (not isinstance(window, list) or len(window) != 2
                    or not all(_is_number(v) for v in window) or window[1] < window[0]):
                raise ValueError(f"{gt.where(i)}: bad ground-truth window {window!r}")
    if need_hd:
        ids, scores = row.get("relevant_clip_ids"), row.get("saliency_scores")
        if not isinstance(ids, list) or not isinstance(scores, list) or len(ids) != len(scores):
            raise ValueError(f"{gt.where(i)}: highlight detection needs 'relevant_clip_ids' and "
                             f"'saliency_scores' of equal length (is this a split without "
                             f"ground truth?)")
        if any(not isinstance(s, list) or len(s) != 3 for s in scores):
            raise ValueError(f"{gt.where(i)}: 'saliency_scores' must hold 3 annotator scores "
                             f"per clip")
        num_clips = int(duration / 2)
        if any(not isinstance(c, numbers.Integral) or not 0 <= c < num_clips for c in ids):
            raise ValueError(f"{gt.where(i)}: 'relevant_clip_ids' outside the {num_clips} clips "
                             f"of the video")


@dataclass
class CheckedSubmission:
    """A validated submission paired with its ground truth, in submission order."""
    qids: list
    pred_rows: list[dict]
    gt_rows: list[dict]
    has_mr: bool
    has_hd: bool


def check_submission(submission: Rows | Sequence[dict], ground_truth: Rows | Sequence[dict],
                     saliency_tolerance: int = DEFAULT_SALIENCY_TOLERANCE) -> CheckedSubmission:
    """Validate a submission against its ground truth; raise ValueError on the first problem."""
    pred = submission if isinstance(submission, Rows) else Rows(list(submission), "submission")
    gt = ground_truth if isinstance(ground_truth, Rows) else Rows(list(ground_truth),
                                                                   "ground truth")
    if not pred.rows:
        raise ValueError(f"{pred.name}: no rows")
    pred_qids, gt_qids = _check_qids(pred), _check_qids(gt)
    pred_set, gt_set = set(pred_qids), set(gt_qids)
    if pred_set != gt_set:
        missing = next((q for q in gt_qids if q not in pred_set), None)
        extra = next((q for q in pred_qids if q not in gt_set), None)
        parts = []
        if missing is not None:
            parts.append(f"{len(gt_set - pred_set)} ground-truth qid(s) missing from the "
                         f"submission, first {missing!r}")
        if extra is not None:
            parts.append(f"{len(pred_set - gt_set)} submitted qid(s) not in the ground truth, "
                         f"first {extra!r}")
        raise ValueError(f"{pred.name}: qids do not match {gt.name}: " + "; ".join(parts))
    has_mr = MR_FIELD in pred.rows[0]
    has_hd = HD_FIELD in pred.rows[0]
    if not (has_mr or has_hd):
        raise ValueError(f"{pred.where(0)}: neither '{MR_FIELD}' nor '{HD_FIELD}' present")
    gt_index = {q: i for i, q in enumerate(gt_qids)}
    gt_rows = []
    for i, row in enumerate(pred.rows):
        if (MR_FIELD in row) != has_mr or (HD_FIELD in row) != has_hd:
            raise ValueError(f"{pred.where(i)}: fields differ from the first row (every row "
                             f"must have the same of '{MR_FIELD}' / '{HD_FIELD}')")
        g = gt_index[row["qid"]]
        _check_gt_row(gt, g, has_mr, has_hd)
        if has_mr:
            _check_windows(pred, i)
        if has_hd:
            _check_saliency(pred, i, int(gt.rows[g]["duration"] / 2), saliency_tolerance)
        gt_rows.append(gt.rows[g])
    return CheckedSubmission(pred_qids, pred.rows, gt_rows, has_mr, has_hd)


def unusual_predictions(submission: Rows | Sequence[dict],
                        ground_truth: Rows | Sequence[dict]) -> str | None:
    """One line describing the predictions the official evaluator scores as they are although
    they cannot be meant (None when there are none): windows that start before 0 s, end after
    the video's ``duration`` or have zero length, and infinite window or saliency scores.

    Call it on a submission that :func:`check_submission` accepted; it names the file, the first
    line (and qid) and field of each kind, and how many there are.
    """
    pred = submission if isinstance(submission, Rows) else Rows(list(submission), "submission")
    gt = ground_truth if isinstance(ground_truth, Rows) else Rows(list(ground_truth),
                                                                   "ground truth")
    durations = {row.get("qid"): row.get("duration") for row in gt.rows}
    counts: dict[str, int] = {}
    first: dict[str, str] = {}

    def note(kind: str, where: str) -> None:
        counts[kind] = counts.get(kind, 0) + 1
        first.setdefault(kind, where)

    for i, row in enumerate(pred.rows):
        duration = durations.get(row.get("qid"))
        for w_idx, window in enumerate(_as_list(row.get(MR_FIELD)) or []):
            start, end, score = (float(v) for v in _as_list(window))
            field_name = f"{pred.where(i)} '{MR_FIELD}'[{w_idx}]"
            if start < 0:
                note("window(s) starting before 0 s", f"{field_name} starts at {start:g} s")
            if _is_number(duration) and end > duration:
                note("window(s) ending after the video",
                     f"{field_name} ends at {end:g} s > duration {duration:g} s")
            if end == start:
                note("zero-length window(s)", f"{field_name} is [{start:g}, {end:g}]")
            if math.isinf(score):
                note("infinite window score(s)", f"{field_name} has score {score}")
        for k, value in enumerate(_as_list(row.get(HD_FIELD)) or []):
            if _is_number(value) and math.isinf(value):
                note("infinite saliency score(s)", f"{pred.where(i)} '{HD_FIELD}'[{k}] is {value}")
    if not counts:
        return None
    parts = [f"{count} {kind} (first: {first[kind]})" for kind, count in counts.items()]
    return (f"{pred.name}: scored as given, as the official evaluator does: "
            + "; ".join(parts))
