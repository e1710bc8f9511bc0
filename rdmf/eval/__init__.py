"""Official evaluation metrics: QVHighlights moment retrieval and highlight detection (as
Moment-DETR's ``standalone_eval``), TVSum top-5 mAP and YouTube Highlights mAP (as UMT /
QD-DETR). One implementation, used by training, evaluation and ``rdmf evaluate-submission``.
Definitions: ``docs/evaluation.md``.
"""

from rdmf.eval.highlight import (highlight_average_precision, qvhighlights_clip_labels,
                                 qvhighlights_highlight_scores, trapezoid_ranking_ap,
                                 tvsum_top5_ap, youtube_ap)
from rdmf.eval.moment_retrieval import (IOU_THRESHOLDS, interpolated_ap, iou_cross, iou_paired,
                                        moment_retrieval_scores, query_average_precision)
from rdmf.eval.qvhighlights import evaluate_qvhighlights, format_brief, to_percent
from rdmf.eval.submission import check_submission, read_rows

__all__ = [
    "evaluate_qvhighlights", "format_brief", "to_percent", "read_rows", "check_submission",
    "tvsum_top5_ap", "youtube_ap", "highlight_average_precision", "trapezoid_ranking_ap",
    "qvhighlights_clip_labels", "qvhighlights_highlight_scores", "moment_retrieval_scores",
    "query_average_precision", "interpolated_ap", "iou_cross", "iou_paired", "IOU_THRESHOLDS",
]
