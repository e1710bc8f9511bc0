"""An independent, loop-by-loop re-derivation of the official evaluators' definitions, used only
by the tests to check ``rdmf.eval`` (Moment-DETR ``standalone_eval/eval.py`` for QVHighlights;
UMT ``datasets/tvsum.py`` / ``youtube.py`` for TVSum / YouTube). Written from the definitions, in
the official evaluators' order of operations (single process), not as the package computes them.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve

THRESHOLDS = [float(f"{t:.2f}") for t in np.linspace(0.5, 0.95, 10)]


def _cross_iou(a, b):
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.float64(inter) / np.float64((a[1] - a[0]) + (b[1] - b[0]) - inter)


def _voc_ap(precision, recall):
    p = [0.0] + list(precision) + [0.0]
    r = [0.0] + list(recall) + [1.0]
    for i in range(len(p) - 2, -1, -1):
        p[i] = max(p[i], p[i + 1])
    idx = [i + 1 for i in range(len(r) - 1) if r[i + 1] != r[i]]
    return np.sum(np.array([(r[i] - r[i - 1]) * p[i] for i in idx]))


def detection_ap(gts, preds):
    preds = sorted(preds[:10], key=lambda w: -w[2])
    n_t, n_p = len(THRESHOLDS), len(preds)
    tp, fp = np.zeros((n_t, n_p)), np.zeros((n_t, n_p))
    lock = -np.ones((n_t, len(gts)))
    for j, pred in enumerate(preds):
        ious = np.array([_cross_iou(pred, g) for g in gts])
        order = np.argsort(ious, kind="stable")[::-1]
        for t, thr in enumerate(THRESHOLDS):
            for g in order:
                if ious[g] < thr:
                    fp[t, j] = 1
                    break
                if lock[t, g] >= 0:
                    continue
                tp[t, j] = 1
                lock[t, g] = j
                break
            if tp[t, j] == 0 and fp[t, j] == 0:
                fp[t, j] = 1
    tpc, fpc = np.cumsum(tp, 1).astype(float), np.cumsum(fp, 1).astype(float)
    rec, prec = tpc / float(len(gts)), tpc / (tpc + fpc)
    return np.array([_voc_ap(prec[t], rec[t]) for t in range(n_t)])


def official_get_ap(y_true, y_pred):
    if len(set(y_true)) == 1:
        return 0 if y_true[0] == 0 else 1
    precision, recall, _ = precision_recall_curve(y_true, y_pred)
    recall = recall.astype(np.float32)
    for i in range(1, len(precision)):
        precision[i] = max(precision[i - 1], precision[i])
    return np.mean(precision[np.where(np.diff(recall))])


def _pct(v):
    return float(f"{100 * v:.2f}")


def evaluate(submission, ground_truth):
    gt_by_qid = {d["qid"]: d for d in ground_truth}
    out, brief = {}, {}
    if "pred_relevant_windows" in submission[0]:
        ranges = {"short": (0, 10), "middle": (10, 30), "long": (30, 150), "full": (0, 150)}
        for name, (lo, hi) in ranges.items():
            sub, gts = [], []
            for d in submission:
                w = gt_by_qid[d["qid"]]["relevant_windows"]
                if (lo, hi) != (0, 150):
                    w = [x for x in w if lo < x[1] - x[0] <= hi]
                if w:
                    sub.append(d)
                    gts.append(w)
            aps = np.array([detection_ap(g, d["pred_relevant_windows"]) for d, g in zip(sub, gts)])
            per_t = aps.mean(0)
            m = {str(t): _pct(v) for t, v in zip(THRESHOLDS, per_t)}
            m["average"] = _pct(np.mean(per_t))
            first = [d["pred_relevant_windows"][0][:2] for d in sub]
            chosen = [g[int(np.argmax([_cross_iou(f, x) for x in g]))] for f, g in zip(first, gts)]
            ious = []
            for f, c in zip(first, chosen):
                inter = max(0, min(f[1], c[1]) - max(f[0], c[0]))
                span = max(f[1], c[1]) - min(f[0], c[0])
                ious.append(inter / span if span != 0 else 0.0)
            ious = np.array(ious, dtype=float)
            r1 = {str(t): _pct(np.mean(ious >= t)) for t in THRESHOLDS}
            out[name] = {"MR-mAP": m, "MR-R1": r1}
        brief.update({"MR-full-R1@0.5": out["full"]["MR-R1"]["0.5"],
                      "MR-full-R1@0.7": out["full"]["MR-R1"]["0.7"],
                      "MR-full-mAP": out["full"]["MR-mAP"]["average"],
                      "MR-full-mAP@0.5": out["full"]["MR-mAP"]["0.5"],
                      "MR-full-mAP@0.75": out["full"]["MR-mAP"]["0.75"],
                      "MR-long-mAP": out["long"]["MR-mAP"]["average"],
                      "MR-middle-mAP": out["middle"]["MR-mAP"]["average"],
                      "MR-short-mAP": out["short"]["MR-mAP"]["average"]})
    if "pred_saliency_scores" in submission[0]:
        for name, minimum in (("Fair", 2), ("Good", 3), ("VeryGood", 4)):
            ap, hit = np.zeros((len(submission), 3)), np.zeros((len(submission), 3))
            for i, d in enumerate(submission):
                g = gt_by_qid[d["qid"]]
                full = np.zeros((int(g["duration"] / 2), 3))
                full[np.array(g["relevant_clip_ids"])] = np.array(g["saliency_scores"])
                binary = (full >= minimum).astype(float)
                pred = np.array(d["pred_saliency_scores"])
                k = np.argmax(pred)
                if k < len(binary):
                    hit[i] = binary[k]
                if len(pred) > len(binary):
                    pred = pred[:len(binary)]
                elif len(pred) < len(binary):
                    padded = np.zeros(len(binary))
                    padded[:len(pred)] = pred
                    pred = padded
                for a in range(3):
                    ap[i, a] = official_get_ap(binary[:, a], pred)
            out[f"HL-min-{name}"] = {"HL-mAP": _pct(np.mean(ap)),
                                     "HL-Hit1": _pct(np.mean(np.max(hit, 1)))}
            brief[f"HL-min-{name}-mAP"] = out[f"HL-min-{name}"]["HL-mAP"]
            brief[f"HL-min-{name}-Hit1"] = out[f"HL-min-{name}"]["HL-Hit1"]
    return {"brief": brief, **{k: out[k] for k in sorted(out)}}


def _ranking_ap(labels):
    num_gt = sum(labels)
    if num_gt == 0:
        return 0
    hits = ap = rec = 0
    prc = 1
    for j, gt in enumerate(labels):
        hits += gt
        _rec, _prc = hits / num_gt, hits / (j + 1)
        ap += (_rec - rec) * (prc + _prc) / 2
        rec, prc = _rec, _prc
    return ap


def tvsum_video_ap(scores, user_scores, k=5):
    import torch
    inds = torch.argsort(torch.as_tensor(scores, dtype=torch.float32), descending=True, stable=True)
    aps = []
    for i in range(user_scores.shape[1]):
        label = torch.Tensor(user_scores)[:, i]
        label = torch.where(label > label.median(), 1.0, .0)
        aps.append(_ranking_ap(label[inds].tolist()[:k]))
    return sum(aps) / len(aps)


def youtube_video_ap(scores, match):
    import torch
    inds = torch.argsort(torch.as_tensor(scores, dtype=torch.float32), descending=True, stable=True)
    label = torch.Tensor([1 if s > 0 else 0 for s in match])[inds].tolist()
    return _ranking_ap(label)
